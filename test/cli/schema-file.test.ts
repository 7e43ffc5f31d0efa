import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

interface ObjectSchema {
  readonly properties: Record<string, { readonly description?: string; readonly items?: ObjectSchema }>;
}

const schemaFile = (): ObjectSchema & Record<string, unknown> =>
  JSON.parse(readFileSync(join(ROOT, 'schema/plan.schema.json'), 'utf8'));
const taskSchema = (s: ObjectSchema): ObjectSchema => s.properties.tasks?.items as ObjectSchema;

/** The ```yaml blocks of README.md that are plans (they have `tasks:`), with the line each starts on. */
function readmePlans(): { line: number; text: string }[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const plans: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    const text = lines.slice(i + 1, end).join('\n');
    if (/^tasks:/m.test(text)) plans.push({ line: i + 2, text: `${text}\n` });
    i = end;
  }
  return plans;
}

const examplePlans = (): { name: string; text: string }[] => [
  ...readmePlans().map((p) => ({ name: `README.md:${p.line}`, text: p.text })),
  ...readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ name: `examples/${f}`, text: readFileSync(join(ROOT, 'examples', f), 'utf8') })),
];

describe('schema/plan.schema.json is what `weft schema` prints', () => {
  it('the committed file equals `weft schema` byte for byte (regenerate with `npm run schema`)', async () => {
    const r = await weft(['schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(join(ROOT, 'schema/plan.schema.json'), 'utf8'));
  });

  it('weft schema -o writes the same text to the file it is given', async () => {
    const project = tempProject();
    const r = await weft(['schema', '-o', 'plan.schema.json'], { cwd: project });
    expect(r.code).toBe(0);
    expect(readFileSync(join(project, 'plan.schema.json'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'schema/plan.schema.json'), 'utf8'),
    );
  });

  it('describes every task field the README lists, and no other', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const list = /^Task fields: ([\s\S]+?)\. `weft schema/m.exec(readme)?.[1];
    expect(list).toBeDefined();
    const documented = [...(list ?? '').matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(taskSchema(schemaFile()).properties).sort());
  });

  it('describes every plan field the README lists, and no other', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const list = /^Plan fields besides `tasks`: ([\s\S]+?)\.$/m.exec(readme)?.[1];
    expect(list).toBeDefined();
    const documented = [...(list ?? '').matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]);
    const fields = Object.keys(schemaFile().properties).filter((k) => k !== 'tasks' && k !== '$schema');
    expect(documented.sort()).toEqual(fields.sort());
  });

  it('names only executors that exist: each one it lists is accepted in a plan', async () => {
    const description = taskSchema(schemaFile()).properties.executor?.description ?? '';
    const names = /Who runs the task: ([a-z, ]+)\./.exec(description)?.[1]?.split(', ') ?? [];
    expect(names).toEqual(['shell', 'claude', 'codex', 'gemini', 'anthropic', 'openai', 'fn']);
    const project = tempProject();
    // `fn` tasks exist only in plans built in code (a function is not YAML); the rest must validate from a file.
    const tasks = names
      .filter((n) => n !== 'fn')
      .map((n) => `  - { id: ${n}-task, executor: ${n}, ${n === 'shell' ? 'run: "true"' : 'prompt: hi'} }`);
    writeFileSync(join(project, 'plan.yaml'), `tasks:\n${tasks.join('\n')}\n`);
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, executor: opencode, prompt: hi }\n');
    const unknown = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/executor: unknown executor "opencode"/);
  });
});

describe('every plan example in README.md and examples/ is valid', () => {
  it('README.md has the plan example these tests read', () => {
    expect(readmePlans().length).toBeGreaterThanOrEqual(1);
  });

  it.each(examplePlans())('$name passes weft validate', async ({ text }) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), text);
    const r = await weft(['validate', 'plan.yaml', '--json'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, issues: [] });
    expect(r.code).toBe(0);
  });

  it.each(examplePlans())(
    '$name uses only fields the schema file describes (so editors do not flag it)',
    ({ text }) => {
      const plan = parse(text) as { defaults?: object; tasks: object[] } & Record<string, unknown>;
      const schema = schemaFile();
      const task = taskSchema(schema);
      const defaults = schema.properties.defaults as unknown as ObjectSchema;
      const unknown = [
        ...Object.keys(plan).filter((k) => !(k in schema.properties)),
        ...Object.keys(plan.defaults ?? {})
          .filter((k) => !(k in defaults.properties))
          .map((k) => `defaults.${k}`),
        ...plan.tasks.flatMap((t, i) =>
          Object.keys(t)
            .filter((k) => !(k in task.properties))
            .map((k) => `tasks[${i}].${k}`),
        ),
      ];
      expect(unknown).toEqual([]);
    },
  );
});

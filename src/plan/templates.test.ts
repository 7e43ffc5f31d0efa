import { describe, expect, it } from 'vitest';
import { WeftError, type PlanValidationError } from '../core/errors.js';
import { globsOverlap, writeScopesOverlap } from '../core/plan/glob-overlap.js';
import type { PlanSpec, TaskSpec } from '../core/plan/plan-schema.js';
import { compilePlan, type ExecutorCatalog } from '../core/plan/compile.js';
import { parsePlanText } from './load-plan.js';
import { listTemplates, loadTemplate, renderTemplate, standIn } from './templates.js';
import { sampleOf } from './offline-roles.js';
import { checkJson } from '../core/json-schema.js';

const catalog: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const }],
  ['claude', { requires: 'prompt' as const }],
  ['codex', { requires: 'prompt' as const }],
  ['gemini', { requires: 'prompt' as const }],
]);
const AGENTS = new Set(['claude', 'codex', 'gemini']);
const names = listTemplates().map((t) => t.name);

function usageError(fn: () => unknown): WeftError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WeftError);
    expect((error as WeftError).code).toBe('WEFT_USAGE');
    return error as WeftError;
  }
  throw new Error('expected a usage error');
}

/** Every task that must finish before `id` starts (needs and after, transitively). */
function ancestors(spec: PlanSpec, id: string, seen = new Set<string>()): Set<string> {
  const task = spec.tasks.find((t) => t.id === id);
  for (const dep of [...(task?.needs ?? []), ...(task?.after ?? [])]) {
    if (!seen.has(dep)) {
      seen.add(dep);
      ancestors(spec, dep, seen);
    }
  }
  return seen;
}

const shape = (t: TaskSpec) => ({
  id: t.id,
  title: t.title,
  needs: t.needs,
  after: t.after,
  when: t.when,
  writes: t.writes,
  outputs: t.outputs,
  estimate: t.estimate,
});

describe('listTemplates', () => {
  it('lists the four templates with a description each', () => {
    expect(names).toEqual([
      'fullstack-feature',
      'orion-cycle',
      'parallel-contracts',
      'scout-architect-builders',
      'staged-delivery',
      'test-runner',
    ]);
    for (const t of listTemplates()) expect(t.description.length).toBeGreaterThan(20);
    expect(listTemplates().find((t) => t.name === 'staged-delivery')?.vars).toMatchObject({
      performance: true,
      security: true,
      goal: expect.any(String),
    });
    expect(listTemplates().find((t) => t.name === 'test-runner')?.vars).toEqual({ shards: 3 });
  });
});

describe('loadTemplate', () => {
  it('suggests the closest name for a typo or a fragment', () => {
    expect(usageError(() => loadTemplate('staged-delivry')).hint).toMatch(/^did you mean "staged-delivery"\?/);
    expect(usageError(() => loadTemplate('fullstack')).hint).toMatch(/^did you mean "fullstack-feature"\?/);
    expect(usageError(() => loadTemplate('../examples/app')).message).toBe('unknown template "../examples/app"');
    expect(loadTemplate('test-runner.yaml').name).toBe('test-runner');
  });
});

describe.each(names)('template %s', (name) => {
  const template = loadTemplate(name);
  const real = renderTemplate(template, { vars: 'goal' in template.vars ? { goal: 'Ship the thing' } : {} });
  const offline = renderTemplate(template, { offline: true });

  it('is itself a valid plan but for the vars its placeholders name, and so are both renderings', () => {
    for (const [file, text] of [
      ['real', real.text],
      ['offline', offline.text],
    ] as const) {
      expect(() => parsePlanText(text, file, { executors: catalog })).not.toThrow();
      expect(text).not.toMatch(/\{\{/);
    }
    // Run as it is, a template's placeholders would stay as written: weft says so, naming each.
    let issues: readonly { fix?: string }[] = [];
    try {
      parsePlanText(template.text, template.file, { executors: catalog });
    } catch (error) {
      issues = (error as PlanValidationError).issues;
    }
    for (const i of issues) expect(i.fix).toMatch(/^\{\{[\w-]+\}\} in a task is not filled in from vars/);
    expect(real.spec.$schema).toBeUndefined();
    expect(renderTemplate(template, { schema: 'node_modules/weft/schema/plan.schema.json' }).spec.$schema).toBe(
      'node_modules/weft/schema/plan.schema.json',
    );
  });

  it('keeps the header comment that says when to use it', () => {
    expect(template.text).toMatch(new RegExp(`^# ${name} — `));
    expect(real.text).toMatch(new RegExp(`^# ${name} — `));
    expect(offline.text).toMatch(/^# Offline: every task below is a shell stand-in/);
    expect(offline.text).toContain(`# ${name} — `);
  });

  it('gives every task an estimate, and every agent task a real prompt with the goal in it', () => {
    for (const t of real.spec.tasks) {
      if (t.gate !== undefined) continue; // a gate runs nothing and takes no time
      expect(t.estimate, t.id).toBeDefined();
      if (t.prompt === undefined) continue;
      expect(AGENTS.has(t.executor ?? ''), t.id).toBe(true);
      expect(t.prompt.length, t.id).toBeGreaterThan(200);
      expect(t.prompt, t.id).toContain('Ship the thing');
      expect(t.writes, t.id).toBeDefined();
    }
  });

  it("writes each output inside its task's writes, and tasks that can run at once write disjoint files", () => {
    for (const t of real.spec.tasks)
      for (const out of t.outputs ?? [])
        expect(
          (t.writes ?? []).some((w) => globsOverlap(out, w)),
          `${t.id} ${out}`,
        ).toBe(true);
    const tasks = real.spec.tasks;
    for (const a of tasks) {
      for (const b of tasks) {
        if (a.id >= b.id || ancestors(real.spec, a.id).has(b.id) || ancestors(real.spec, b.id).has(a.id)) continue;
        expect(writeScopesOverlap(a.writes ?? [], b.writes ?? []), `${a.id} ∥ ${b.id}`).toBe(false);
      }
    }
  });

  it('offline: the same graph, every task a shell stand-in that sleeps at most 0.2 s and writes its outputs', () => {
    expect(offline.spec.tasks.map(shape)).toEqual(real.spec.tasks.map(shape));
    expect(offline.spec.vars).toEqual(real.spec.vars);
    for (const t of offline.spec.tasks) {
      if (t.gate !== undefined) continue; // a gate runs nothing, offline or not
      expect(t.executor, t.id).toBeUndefined();
      expect(t.prompt, t.id).toBeUndefined();
      const run = String(t.run);
      expect(Number(/^sleep (\d+(?:\.\d+)?)/.exec(run)?.[1]), t.id).toBeLessThanOrEqual(0.2);
      for (const out of t.outputs ?? []) expect(run, t.id).toContain(`> ${out}`);
      expect(t.shell === true, t.id).toBe((t.outputs ?? []).length > 0 || run.includes('{ '));
    }
    expect(
      compilePlan(offline.spec, { executors: new Map([['shell', { requires: 'run' as const }]]) }).graph.tasks,
    ).toHaveLength(real.spec.tasks.length);
  });
});

describe('renderTemplate', () => {
  const staged = loadTemplate('staged-delivery');

  it("types --set values by the template's defaults and drops text-only placeholders from vars", () => {
    const r = renderTemplate(staged, {
      vars: { security: 'false', goal: 'Share dashboards: "by link"', verify: 'make ci' },
    });
    expect(r.spec.vars).toEqual({ performance: true, security: false });
    expect(r.spec.tasks[0]?.prompt).toMatch(/^Goal: Share dashboards: "by link"\.\n/);
    expect(r.notes).toEqual([]);
    expect(renderTemplate(staged, {}).notes).toEqual([
      'the prompts say goal = "the goal described in GOAL.md at the project root"; set your own with --set goal="…"',
      'the commands say verify = "npm run build && npm test"; set your own with --set verify="…"',
    ]);
  });

  it('refuses an unknown variable (with a suggestion) and a value of the wrong type', () => {
    const unknown = usageError(() => renderTemplate(staged, { vars: { securty: 'false' } }));
    expect(unknown.message).toBe('--set securty: template "staged-delivery" has no variable "securty"');
    expect(unknown.hint).toBe('did you mean "security"?');
    expect(usageError(() => renderTemplate(staged, { vars: { security: 'maybe' } })).message).toBe(
      '--set security=maybe: expected true or false',
    );
    expect(usageError(() => renderTemplate(loadTemplate('test-runner'), { vars: { shards: 'many' } })).message).toBe(
      '--set shards=many: expected a decimal number',
    );
    // `0x10` was read as 16, as Number() reads it: a typo more often than hex.
    expect(usageError(() => renderTemplate(loadTemplate('test-runner'), { vars: { shards: '0x10' } })).message).toBe(
      '--set shards=0x10: expected a decimal number',
    );
  });

  it('test-runner: one task per check the project has, the unit tests in shards', () => {
    const template = loadTemplate('test-runner');
    const project = {
      scripts: { lint: 'eslint .', test: 'vitest run', build: 'tsc -p tsconfig.build.json', dev: 'vite' },
      files: new Set(['package.json', 'tsconfig.json']),
    };
    const r = renderTemplate(template, { project, vars: { shards: '2' } });
    expect(r.spec.tasks.map((t) => [t.id, t.run])).toEqual([
      ['lint', 'npm run --silent lint'],
      ['typecheck', 'npx --no-install tsc --noEmit'],
      ['unit-1', 'npm run --silent test -- --shard=1/2'],
      ['unit-2', 'npm run --silent test -- --shard=2/2'],
      ['build', 'npm run --silent build'],
    ]);
    expect(r.spec.vars).toBeUndefined();
    expect(r.text).toContain(
      '# Detected in this project:\n#   lint: script "lint"\n#   typecheck: no script, tsconfig.json → tsc --noEmit\n',
    );
    expect(r.notes).toContain('detected unit: script "test" in 2 shards (vitest)');
  });

  it('test-runner: the generic checks when there is nothing to detect', () => {
    const template = loadTemplate('test-runner');
    const none = renderTemplate(template, { project: { scripts: undefined, files: new Set() } });
    expect(none.spec.tasks.map((t) => t.id)).toEqual(['lint', 'typecheck', 'unit-1', 'unit-2', 'unit-3', 'build']);
    expect(none.notes).toEqual(['no package.json here: wrote the generic checks — edit their commands']);
    const placeholder = renderTemplate(template, {
      project: { scripts: { test: 'echo "Error: no test specified" && exit 1' }, files: new Set(['package.json']) },
    });
    expect(placeholder.notes[0]).toMatch(/^no check scripts in package\.json \(looked for lint, /);
  });
});

describe('standIn', () => {
  it('sleeps in proportion to the estimate, within 0.05–0.2 s, and writes each output', () => {
    expect(standIn({ id: 'a', estimate: '1h' })).toEqual({ run: 'sleep 0.1' });
    expect(standIn({ id: 'a', estimate: '10h' })).toEqual({ run: 'sleep 0.2' });
    expect(standIn({ id: 'a' })).toEqual({ run: 'sleep 0.05' });
    expect(standIn({ id: 'api', estimate: '30m', outputs: ['contracts/api.yaml', 'out.json', "it's.md"] })).toEqual({
      run: `sleep 0.05 && mkdir -p contracts && printf '%s\\n' 'offline stand-in written by task api' > contracts/api.yaml && printf '%s\\n' '{"standIn":"api"}' > out.json && printf '%s\\n' 'offline stand-in written by task api' > 'it'\\''s.md'`,
      shell: true,
    });
  });
});

describe('offline stand-ins that show the routing', () => {
  it('parallel-contracts: the provider answers from the contract, which the offline plan keeps', () => {
    const { spec } = renderTemplate(loadTemplate('parallel-contracts'), { offline: true });
    expect(spec.contracts?.map((c) => [c.name, c.provider, c.consumers])).toEqual([
      ['api', 'contract', ['backend', 'frontend']],
    ]);
    const run = spec.tasks.find((t) => t.id === 'contract')?.run as string;
    expect(run).toContain(`else printf '%s\\n' '{}' > "$WEFT_OUTPUT"; fi`);
    const good = /then printf '%s\\n' '([^']+)' > "\$WEFT_OUTPUT"/.exec(run)?.[1] as string;
    const compiled = compilePlan(spec, { executors: catalog });
    const design = compiled.graph.tasks.find((t) => t.id === 'contract');
    expect(design?.contracts?.[0]?.role).toBe('provider');
    expect(checkJson(spec.contracts?.[0]?.schema ?? {}, JSON.parse(good)).ok).toBe(true);
    expect(checkJson(spec.contracts?.[0]?.schema ?? {}, {}).ok).toBe(false);
  });

  it('staged-delivery: build verifies backend ∥ frontend, QA waits for it, backend breaks it once', () => {
    const { spec } = renderTemplate(loadTemplate('staged-delivery'), { offline: true });
    const byId = new Map(spec.tasks.map((t) => [t.id, t]));
    expect(byId.get('build')?.verifies).toEqual(['backend', 'frontend']);
    expect(byId.get('build')?.run).toContain("-name 'OFFLINE-BROKEN-*'");
    // Inside its writes (server/**): work that changes anything else is not merged.
    expect(byId.get('backend')?.run).toContain("rm -f 'server/OFFLINE-BROKEN-backend'");
    expect(byId.get('frontend')?.run).not.toContain('OFFLINE-BROKEN');
    for (const qa of ['backend-qa', 'frontend-qa']) expect(ancestors(spec, qa).has('build')).toBe(true);
    const real = renderTemplate(loadTemplate('staged-delivery'), {});
    expect(real.spec.tasks.find((t) => t.id === 'build')?.run).toBe('npm run build && npm test');
    const custom = renderTemplate(loadTemplate('staged-delivery'), { vars: { verify: 'make ci' } });
    expect(custom.spec.tasks.find((t) => t.id === 'build')?.run).toBe('make ci');
  });
});

describe('sampleOf', () => {
  it('makes a value each simple schema accepts', () => {
    const schema = {
      type: 'object',
      properties: {
        a: { enum: ['x', 'y'] },
        b: { type: 'array', minItems: 2, items: { type: 'integer', minimum: 3 } },
        c: { type: 'string', minLength: 3 },
        d: { const: 7 },
        e: { type: ['boolean', 'null'] },
      },
    };
    expect(sampleOf(schema)).toEqual({ a: 'x', b: [3, 3], c: 'xxx', d: 7, e: true });
    expect(checkJson(schema, sampleOf(schema)).ok).toBe(true);
  });
});

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const summaryOf = (project: string): { tasks: { id: string; state: string; attempts: number; reason?: string }[] } => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

/**
 * A script that does what an agent does with its context: reads the results of the tasks it needs
 * (WEFT_INPUTS), writes its output (WEFT_OUTPUT), and on a fix reads what went wrong (WEFT_FEEDBACK).
 */
const script = `const fs = require('fs');
const e = process.env;
const log = (line) => fs.appendFileSync('seen.log', e.WEFT_TASK_ID + ' ' + e.WEFT_ATTEMPT + ' ' + line + '\\n');
log('feedback=' + (e.WEFT_FEEDBACK === undefined ? 'absent' : JSON.stringify(fs.readFileSync(e.WEFT_FEEDBACK, 'utf8'))));
log('inputs=' + (e.WEFT_INPUTS === undefined ? 'absent' : JSON.stringify(JSON.parse(fs.readFileSync(e.WEFT_INPUTS, 'utf8')))));
if (e.WEFT_TASK_ID === 'gen') { console.log('not json'); fs.writeFileSync(e.WEFT_OUTPUT, JSON.stringify({ n: 3, who: 'gen' })); }
if (e.WEFT_TASK_ID === 'use') {
  const gen = JSON.parse(fs.readFileSync(e.WEFT_INPUTS, 'utf8')).gen.output;
  fs.writeFileSync(e.WEFT_OUTPUT, JSON.stringify({ doubled: gen.n * 2 }));
}
if (e.WEFT_TASK_ID === 'fixer' && e.WEFT_FEEDBACK !== undefined) fs.writeFileSync('fixed.txt', 'ok');
if (e.WEFT_TASK_ID === 'bad') fs.writeFileSync(e.WEFT_OUTPUT, '{"n": "three"}');
`;

describe('shell tasks get what agents get: WEFT_INPUTS, WEFT_OUTPUT, WEFT_FEEDBACK', () => {
  it('WEFT_OUTPUT becomes the output (over stdout), WEFT_INPUTS holds what the task needs, `when` reads the output', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'task.js'), script);
    writeFileSync(
      join(project, 'plan.yaml'),
      `tasks:
  - id: gen
    run: [node, task.js]
    outputSchema: { type: object, properties: { n: { type: number }, who: { type: string } } }
  - id: use
    needs: [gen]
    when: tasks.gen.output.n == 3
    run: [node, task.js]
    outputSchema: { type: object, properties: { doubled: { type: number } } }
  - { id: ship, needs: [use], when: tasks.use.output.doubled == 6, run: [node, -e, "require('fs').writeFileSync('shipped', '')"] }
`,
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const seen = readFileSync(join(project, 'seen.log'), 'utf8').split('\n');
    expect(seen).toContain('gen 1 feedback=absent');
    expect(seen).toContain('gen 1 inputs=absent');
    expect(seen).toContain('use 1 feedback=absent');
    const inputs = JSON.parse(
      (seen.find((l) => l.startsWith('use 1 inputs=')) as string).slice('use 1 inputs='.length),
    ) as Record<string, { output?: unknown }>;
    expect(inputs.gen?.output).toEqual({ n: 3, who: 'gen' });
    // ship's `when` read use's output: only {doubled: 6} from WEFT_OUTPUT makes it run.
    expect(existsSync(join(project, 'shipped'))).toBe(true);
    expect(r.stdout).not.toContain('ship skipped');
  });

  it('WEFT_OUTPUT that does not match outputSchema fails the task, naming the key', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'task.js'), script);
    writeFileSync(
      join(project, 'plan.yaml'),
      'tasks:\n  - id: bad\n    run: [node, task.js]\n    outputSchema: { type: object, properties: { n: { type: number } } }\n',
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ bad the answer does not match outputSchema: n /);
  });

  it('a routed-back fix gets WEFT_FEEDBACK: a file holding the failure; a first attempt has none', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'task.js'), script);
    writeFileSync(
      join(project, 'plan.yaml'),
      'tasks:\n  - id: fixer\n    run: [node, task.js]\n    outputs: [fixed.txt]\n',
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const seen = readFileSync(join(project, 'seen.log'), 'utf8').split('\n');
    expect(seen[0]).toBe('fixer 1 feedback=absent');
    expect(seen[2]).toMatch(/^fixer 2 feedback=".*fixed\.txt.*"$/);
    expect(summaryOf(project).tasks[0]).toMatchObject({ id: 'fixer', state: 'succeeded', attempts: 2 });
  });
});

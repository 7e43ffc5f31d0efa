import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const TASKS = 100_000;
const BAD = 76_543;

/** A 100,000-task JSON plan, one task a line (task i on line 5 + i); task BAD has an unknown field. */
function largeJson(): string {
  const lines = Array.from({ length: TASKS }, (_, i) =>
    JSON.stringify({
      id: `t${i}`,
      run: `echo task ${i}`,
      needs: i === 0 ? [] : [`t${Math.floor(i / 2)}`],
      estimate: `${1 + (i % 7)}m`,
      ...(i === BAD ? { colour: 'red' } : {}),
    }),
  );
  return `{\n  "name": "large",\n  "workers": 8,\n  "tasks": [\n    ${lines.join(',\n    ')}\n  ]\n}\n`;
}

describe('a 100,000-task JSON plan (the fast path: positions only for an error)', () => {
  it('with one bad task: one line naming file:line:col, task, field and fix; exit 2', async () => {
    const dir = tempProject('weft-large-');
    const text = largeJson();
    writeFileSync(join(dir, 'plan.json'), text);
    const line = 5 + BAD;
    const column = (text.split('\n')[line - 1] ?? '').indexOf('"colour"') + 1;
    const r = await weft(['validate', 'plan.json'], { cwd: dir, timeoutMs: 300_000 });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      `plan.json:${line}:${column} task "t${BAD}" colour: unknown field "colour" — fix: remove it`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it('with a trailing comma after its last task: refused (a .json plan is JSON), one line with file:line:col; exit 2', async () => {
    const dir = tempProject('weft-large-');
    const text = largeJson().replace(/\n {2}\]\n\}\n$/, ',\n  ]\n}\n');
    writeFileSync(join(dir, 'plan.json'), text);
    const line = 5 + TASKS - 1;
    const column = (text.split('\n')[line - 1] ?? '').length;
    const r = await weft(['validate', 'plan.json'], { cwd: dir, timeoutMs: 300_000 });
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `plan.json:${line}:${column}: bad JSON: a comma before "]": JSON allows no trailing comma — fix: remove the comma\n`,
    });
  }, 300_000);

  it('valid: validate and estimate read it', async () => {
    const dir = tempProject('weft-large-');
    writeFileSync(join(dir, 'plan.json'), largeJson().replace(',"colour":"red"', ''));
    const v = await weft(['validate', 'plan.json', '--json'], { cwd: dir, timeoutMs: 300_000 });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, tasks: TASKS });
    const e = await weft(['estimate', 'plan.json', '--json', '--no-history'], { cwd: dir, timeoutMs: 300_000 });
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ tasks: TASKS, workers: 8, bestWorkersBy: 'lower bound' });
  }, 600_000);
});

describe('a 100,000-task YAML plan with one bad task', () => {
  it('one line naming file:line:col (found in an excerpt of the file), task, field and fix; exit 2', async () => {
    const dir = tempProject('weft-large-');
    const tasks = Array.from({ length: TASKS }, (_, i) => {
      const needs = i === 0 ? '[]' : `[t${Math.floor(i / 2)}]`;
      return `  - id: t${i}\n    run: "echo task ${i}"\n    needs: ${needs}\n${i === BAD ? '    colour: red\n' : ''}`;
    });
    writeFileSync(join(dir, 'plan.yaml'), `name: large\nworkers: 8\ntasks:\n${tasks.join('')}`);
    const r = await weft(['validate', 'plan.yaml'], { cwd: dir, timeoutMs: 300_000 });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // Task i starts on line 4 + 3i; the bad one's fourth line is its colour.
    expect(lines[0]).toMatch(
      `plan.yaml:${4 + 3 * BAD + 3}:5 task "t${BAD}" colour: unknown field "colour" — fix: remove it`,
    );
  }, 300_000);
});

describe('run files of a large plan', () => {
  /** Runs `a` and `gates` gates on it; returns plan.json and summary.json as written. */
  async function runFiles(gates: number): Promise<{ plan: string; summary: string }> {
    const dir = tempProject('weft-large-');
    const tasks = ['  - { id: a, run: "true" }'];
    for (let i = 0; i < gates; i++) tasks.push(`  - { id: g${i}, needs: [a], gate: tasks.a.succeeded }`);
    writeFileSync(join(dir, 'plan.yaml'), `tasks:\n${tasks.join('\n')}\n`);
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const runs = join(dir, '.weft', 'runs');
    const run = join(runs, readdirSync(runs)[0] as string);
    return {
      plan: readFileSync(join(run, 'plan.json'), 'utf8'),
      summary: readFileSync(join(run, 'summary.json'), 'utf8'),
    };
  }

  it('up to 1,000 tasks indented; past that compact, one line each, the same JSON', async () => {
    const small = await runFiles(999);
    expect(small.plan.startsWith(`{\n  "file": `)).toBe(true);
    expect(small.summary.split('\n').length).toBeGreaterThan(1000);
    const large = await runFiles(1000);
    for (const text of [large.plan, large.summary]) expect(text.split('\n')).toHaveLength(2); // one line and the final newline
    expect(JSON.parse(large.plan).plan.tasks).toHaveLength(1001);
    expect(JSON.parse(large.summary)).toMatchObject({ status: 'succeeded', counts: { succeeded: 1001 } });
  }, 240_000);
});

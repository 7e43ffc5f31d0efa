import { writeFileSync } from 'node:fs';
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

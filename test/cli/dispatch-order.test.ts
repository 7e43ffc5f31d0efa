import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { compile, definePlan, estimatePlan, runWeft, VirtualClock, type RunWeftOptions } from '../../src/index.js';

beforeAll(ensureBuilt);

/**
 * On 2 workers every list schedule of this graph takes 7 s: `a` and `long` start at 0, and `b`, `c`
 * queue behind `long`. The searched order keeps a worker idle for `long` and takes 6 s.
 */
const TASKS = [
  { id: 'a', seconds: 1, needs: [] },
  { id: 'long', seconds: 3, needs: [] },
  { id: 'b', seconds: 2, needs: ['a'] },
  { id: 'c', seconds: 2, needs: ['a'] },
  { id: 'd', seconds: 2, needs: ['b', 'c'] },
] as const;

const YAML = `name: idle-wins\nworkers: 2\ntasks:\n${TASKS.map((t) => `  - id: ${t.id}\n    run: "true"\n    estimate: ${t.seconds}s\n    needs: [${t.needs.join(', ')}]\n`).join('')}`;

/** runWeft on a virtual clock, each function task taking its estimate: when the run ends, and when `long` started. */
async function onClock(
  options: RunWeftOptions = {},
): Promise<{ status: string; end: number; longAt: number | undefined }> {
  const clock = new VirtualClock();
  const sleep = (ms: number) => () => new Promise<null>((resolve) => clock.setTimeout(() => resolve(null), ms));
  const plan = definePlan({
    name: 'idle-wins',
    workers: 2,
    tasks: TASKS.map((t) => ({
      id: t.id,
      estimate: `${t.seconds}s`,
      needs: [...t.needs],
      fn: sleep(t.seconds * 1000),
    })),
  });
  const started: Record<string, number> = {};
  let finished = false;
  const run = runWeft(plan, {
    clock,
    onEvent: (e) => void (e.type === 'task.started' && (started[e.task] = e.at)),
    ...options,
  }).finally(() => (finished = true));
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextTimerAt();
    if (next !== undefined) clock.advance(next - clock.now());
  }
  const { status } = await run;
  return { status, end: clock.now(), longAt: started.long };
}

describe('one order for weft estimate, weft run and the library', () => {
  it('runWeft follows the searched order: the same makespan as `weft estimate` on the plan file', async () => {
    const dir = tempProject('weft-order-');
    writeFileSync(join(dir, 'plan.yaml'), YAML);
    const r = await weft(['estimate', join(dir, 'plan.yaml'), '--json', '--no-history'], {
      cwd: tempProject('weft-elsewhere-'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const predicted = JSON.parse(r.stdout) as { makespan: number; workers: number };
    expect(predicted).toMatchObject({ makespan: 6, workers: 2 });
    expect(await onClock()).toEqual({ status: 'succeeded', end: predicted.makespan * 1000, longAt: 3000 });
  });

  it("the library estimate is the CLI's, and a caller's own order still wins", async () => {
    const plan = definePlan({
      name: 'idle-wins',
      workers: 2,
      tasks: TASKS.map((t) => ({ id: t.id, estimate: `${t.seconds}s`, needs: [...t.needs], run: 'true' })),
    });
    expect(estimatePlan(plan).makespan).toBe(6000);
    // Plain critical-path priorities, given by the caller: a list schedule, 7 s.
    expect(await onClock({ score: compile(plan).graph.rank })).toEqual({ status: 'succeeded', end: 7000, longAt: 0 });
  });
});

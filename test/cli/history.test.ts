import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

describe('durations that learn', () => {
  it('after a run, estimate uses the measured durations (running median) instead of the guesses', async () => {
    const project = tempProject();
    const plan = join(ROOT, 'examples/app.yaml');
    const before = JSON.parse((await weft(['estimate', plan, '--json'], { cwd: project })).stdout);
    expect(before).toMatchObject({ measured: false, makespan: 6000, sequential: 9300 });
    expect((await weft(['run', plan, '--no-isolation'], { cwd: project })).code).toBe(0);
    const after = JSON.parse((await weft(['estimate', plan, '--json'], { cwd: project })).stdout);
    // The stand-ins sleep 0.3–0.8 s: 2.7 s of work in all, not 2h35m.
    expect(after.measured).toBe(true);
    expect(after.sequential).toBeGreaterThan(2.5);
    expect(after.sequential).toBeLessThan(30);
    expect(after.criticalPathTasks).toEqual(['schema', 'api', 'integration', 'tests']);
    const guesses = JSON.parse((await weft(['estimate', plan, '--json', '--no-history'], { cwd: project })).stdout);
    expect(guesses).toMatchObject({ measured: false, makespan: 6000 });
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A task that notes when it starts and ends in `times`, holding the file it writes for a while. */
const hold = (times: string, id: string) => [
  'sh',
  '-c',
  `echo "start ${id}" >> ${times}; sleep 0.5; echo "end ${id}" >> ${times}`,
];

describe('writes are read from the task’s own folder (cwd)', () => {
  it('a task in sub writing x.txt and one writing sub/x.txt never run at once; estimate says the same', async () => {
    const dir = tempProject('weft-writes-cwd-');
    mkdirSync(join(dir, 'sub'));
    const times = join(dir, 'times.txt');
    const plan = {
      workers: 2,
      tasks: [
        { id: 'a', cwd: 'sub', writes: ['x.txt'], estimate: '10m', run: hold(times, 'a') },
        { id: 'b', writes: ['sub/x.txt'], estimate: '10m', run: hold(times, 'b') },
      ],
    };
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify(plan));
    const estimate = await weft(['estimate', 'plan.yaml', '--json', '--no-history'], { cwd: dir });
    expect(estimate.code, estimate.stderr).toBe(0);
    expect(JSON.parse(estimate.stdout)).toMatchObject({ makespan: 1200, workers: 2 });
    const run = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const lines = readFileSync(times, 'utf8').trim().split('\n');
    // One ends before the other starts.
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end']);
  }, 60_000);

  it('a task in sub writing ** does not hold up one writing other/a.txt', async () => {
    const dir = tempProject('weft-writes-cwd-');
    mkdirSync(join(dir, 'sub'));
    const plan = {
      workers: 2,
      tasks: [
        { id: 'a', cwd: 'sub', writes: ['**'], estimate: '10m', run: 'true' },
        { id: 'b', writes: ['other/a.txt'], estimate: '10m', run: 'true' },
        { id: 'c', writes: ['src/a/../a/x.ts'], estimate: '8m', run: 'true' },
        { id: 'd', writes: ['src/a/x.ts'], estimate: '8m', run: 'true' },
      ],
    };
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify(plan));
    const estimate = await weft(['estimate', 'plan.yaml', '--json', '--no-history', '-j', '4'], { cwd: dir });
    expect(estimate.code, estimate.stderr).toBe(0);
    // a ∥ b (10m), and c then d (the same file, spelt two ways: 16m) on 4 workers.
    expect(JSON.parse(estimate.stdout)).toMatchObject({ makespan: 960, workers: 4 });
  });
});

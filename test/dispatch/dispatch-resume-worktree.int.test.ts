import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempProject, weft } from '../support/weft-cli.js';
import { project, runIdOf, sh } from './clone-kit.js';
import { events, REDIS, start, startWorker, stopAll, uniquePrefix, until, workerProcs } from './dispatch-kit.js';

/**
 * A worker that shares the coordinator's folders (no git remote) works in the coordinator's own
 * worktree of the task. When the coordinator dies and `weft resume` adopts the attempt, that
 * worktree holds the worker's work: the resume must keep it, not put it aside and start afresh.
 */
const procs = workerProcs();
afterAll(() => stopAll(procs));

describe('a worktree task on a worker that shares the folders: coordinator SIGKILLed, then weft resume', () => {
  it('adopts the attempt in the worktree it runs in: everything it wrote, before and after the resume, is merged once', async () => {
    const prefix = uniquePrefix();
    const marks = join(tempProject('weft-adopt-marks-'), 'marks.txt');
    const p = project({
      name: 'adopt',
      tasks: [
        {
          id: 'slow',
          writes: ['slow.txt'],
          run: sh(
            `echo "start $WEFT_ATTEMPT" >> ${marks}; echo A > slow.txt; sleep 4; echo B >> slow.txt; echo "end $WEFT_ATTEMPT" >> ${marks}`,
          ),
        },
        { id: 'quick', writes: ['quick.txt'], run: sh('echo Q > quick.txt') },
        { id: 'after', needs: ['slow'], writes: ['after.txt'], run: sh('cat slow.txt > after.txt') },
      ],
    });
    procs.push(await startWorker(p.dir, 'w1', prefix, ['--concurrency', '2']));
    const args = ['--dispatch', REDIS, '--queue-prefix', prefix, '--json'];
    const run = start(['run', p.plan, ...args], p.dir);
    procs.push(run);
    await until(() => existsSync(marks) && readFileSync(marks, 'utf8').includes('start 1'), 'slow to start');
    const quickDone = () => events(run.stdout()).some((e) => e.type === 'task.succeeded' && e.task === 'quick');
    await until(quickDone, 'quick to be merged');
    run.child.kill('SIGKILL');
    await run.done;

    const resumed = await weft(['resume', ...args], { cwd: p.dir, timeoutMs: 300_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/adopting 1 attempt\(s\) still queued or running on workers/);
    const runId = runIdOf(events(resumed.stdout));
    // What the worker wrote before the resume (A) and after it (B), on the run's branch, once.
    expect(p.git('show', `weft/${runId}:slow.txt`).stdout).toBe('A\nB\n');
    expect(p.git('show', `weft/${runId}:after.txt`).stdout).toBe('A\nB\n');
    expect(p.git('show', `weft/${runId}:quick.txt`).stdout).toBe('Q\n');
    const subjects = p.git('log', '--format=%s', `weft/${runId}`).stdout.trim().split('\n');
    expect(subjects.filter((s) => /^weft: task slow \(run /.test(s))).toHaveLength(1);
    // Nothing put aside as work that did not merge, and the attempt ran once.
    expect(p.git('branch', '--list', `weft/${runId}--slow--attempt-*`).stdout).toBe('');
    expect(readFileSync(marks, 'utf8').trim().split('\n')).toEqual(['start 1', 'end 1']);
  }, 400_000);
});

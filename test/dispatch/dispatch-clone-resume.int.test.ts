import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempProject, weft } from '../support/weft-cli.js';
import { bareRemote, farWorker, gitIn, logRefUpdates, project, runIdOf, sh } from './clone-kit.js';
import { events, REDIS, start, uniquePrefix, until, workerProcs } from './dispatch-kit.js';

/**
 * Clone mode and a coordinator that dies: `weft resume` with the same `--git-remote` takes up the
 * attempt a `--clone` worker is running (or runs it again) and merges its work into `weft/<run>` once.
 */
const procs = workerProcs();

describe('clone mode: coordinator SIGKILLed, then weft resume', () => {
  it.each([
    ['the worker still running it', 'start'],
    ['the worker done with it, its work pushed while no coordinator was there', 'end'],
  ])(
    'an attempt on a --clone worker, the coordinator killed, resumed with %s: adopted, its work merged on weft/<run> exactly once',
    async (_, resumeAt) => {
      const prefix = uniquePrefix();
      const marks = join(tempProject('weft-clone-marks-'), 'marks.txt');
      const p = project({
        name: 'resume',
        tasks: [
          {
            id: 'slow',
            writes: ['slow.txt'],
            run: sh(
              `echo "start $WEFT_ATTEMPT" >> ${marks}; sleep 4; echo S >> slow.txt; echo "end $WEFT_ATTEMPT" >> ${marks}`,
            ),
          },
          // Merged before the kill: the integration tip has moved past where slow started.
          { id: 'quick', writes: ['quick.txt'], run: sh('echo Q > quick.txt') },
          { id: 'after', needs: ['slow'], writes: ['after.txt'], run: sh('cat slow.txt > after.txt') },
        ],
      });
      const remote = bareRemote();
      const log = logRefUpdates(remote);
      procs.push(await farWorker(prefix, tempProject('weft-clone-dir-')));
      const args = ['--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote, '--json'];
      const run = start(['run', p.plan, ...args], p.dir);
      procs.push(run);
      await until(
        () => existsSync(marks) && readFileSync(marks, 'utf8').includes('start 1'),
        'slow to start on the worker',
      );
      const quickDone = () => events(run.stdout()).some((e) => e.type === 'task.succeeded' && e.task === 'quick');
      await until(quickDone, 'quick to be merged');
      run.child.kill('SIGKILL');
      await run.done;
      if (resumeAt === 'end') {
        await until(() => readFileSync(marks, 'utf8').includes('end 1'), 'slow to end on the worker');
        await new Promise((r) => setTimeout(r, 1500)); // its commit pushed, its result stored
      }
      const resumed = await weft(['resume', ...args], { cwd: p.dir, timeoutMs: 300_000 });
      expect(
        resumed.code,
        resumed.stderr +
          resumed.stdout
            .split('\n')
            .filter((l) => l.includes('fail') || l.includes('retry'))
            .join('\n'),
      ).toBe(0);
      const all = events(resumed.stdout);
      const runId = runIdOf(all);
      const summary = all.find((e) => e.type === 'run.summary') as unknown as { summary: { status: string } };
      expect(summary.summary.status).toBe('succeeded');
      // The work is on the run's branch once: one line in slow.txt, one commit of the task merged.
      expect(p.git('show', `weft/${runId}:slow.txt`).stdout).toBe('S\n');
      expect(p.git('show', `weft/${runId}:after.txt`).stdout).toBe('S\n');
      expect(p.git('show', `weft/${runId}:quick.txt`).stdout).toBe('Q\n');
      const subjects = p.git('log', '--format=%s', `weft/${runId}`).stdout.trim().split('\n');
      expect(subjects.filter((s) => /^weft: task slow \(run /.test(s))).toHaveLength(1);
      // Its start was not pushed again by the resume: the worker's commit sits on the base it was sent.
      const at = `refs/weft/${runId}/slow/1`;
      const [base, ...again] = log.sent(`${at}/base`);
      expect(again).toEqual([]);
      const [result = 'none'] = log.sent(`${at}/result`);
      expect(gitIn(remote)('rev-parse', `${result}^`).stdout.trim()).toBe(base);
      // The resumed run succeeded: every ref of the run, both lives', is gone from the remote.
      expect(log.deleted(`${at}/base`) && log.deleted(`${at}/result`)).toBe(true);
      expect(gitIn(remote)('for-each-ref', 'refs/weft').stdout).toBe('');
      // Adopted: the attempt that was running was waited for, not started again.
      expect(resumed.stderr).toMatch(/adopting 1 attempt\(s\) still queued or running on workers/);
      expect(readFileSync(marks, 'utf8').trim().split('\n')).toEqual(['start 1', 'end 1']);
    },
    400_000,
  );
});

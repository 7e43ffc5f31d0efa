import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killTaskLikeProcesses, spawnTaskLike } from '../testing/task-like-process.js';
import { taskProcesses } from './task-processes.js';

afterEach(killTaskLikeProcesses);

/** Starts `sh -c script` as a task's process; resolves once `ready` exists. */
async function task(runId: string, id: string, attempt: number, script: string, dir: string): Promise<number> {
  const child = spawnTaskLike('sh', ['-c', `${script}\necho > ready-${id}\nwait`], { runId, task: id, attempt }, dir);
  for (let i = 0; i < 200 && !existsSync(join(dir, `ready-${id}`)); i++) await new Promise((r) => setTimeout(r, 10));
  return child.pid as number;
}

describe.runIf(process.platform === 'linux')('taskProcesses', () => {
  it('finds a run’s task processes and their children by the WEFT_* env, each group to be signalled whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-procs-'));
    const run = `run-${randomUUID()}`;
    const leader = await task(run, 'build', 2, 'sleep 30 & echo $! > child.pid', dir);
    await task(`other-${randomUUID()}`, 'build', 2, 'sleep 30 &', dir);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));

    const found = taskProcesses(run).sort((a, b) => a.pid - b.pid);
    expect(found).toEqual(
      [leader, child].sort((a, b) => a - b).map((pid) => ({ pid, task: 'build', attempt: 2, target: -leader })),
    );
  });

  it('signals a process alone when its group holds one that is not the run’s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-procs-'));
    const run = `run-${randomUUID()}`;
    // The child leaves the run: the group is no longer the run's alone.
    const leader = await task(run, 'mixed', 1, 'env -u WEFT_RUN_ID sleep 30 & echo $! > child.pid', dir);
    // Until `env` has exec'd sleep, the child still has the run's env (a loaded machine showed it).
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    const execd = () => readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('sleep\0');
    for (let i = 0; i < 500 && !execd(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(taskProcesses(run)).toEqual([{ pid: leader, task: 'mixed', attempt: 1, target: leader }]);
  });

  it('leaves out zombies (ended, not yet reaped) and lists nothing for a run without processes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-procs-'));
    const run = `run-${randomUUID()}`;
    // The background child ends after 0.2 s; its parent is `sleep` by then, which never reaps it.
    const leader = await task(run, 'z', 1, 'sleep 0.2 &\necho > ready-z\nexec sleep 30', dir);
    await new Promise((r) => setTimeout(r, 600));
    const zombies = readdirSync('/proc').filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === leader;
      } catch {
        return false;
      }
    });
    expect(zombies).toHaveLength(1);
    expect(taskProcesses(run)).toEqual([{ pid: leader, task: 'z', attempt: 1, target: -leader }]);
    expect(taskProcesses(`run-${randomUUID()}`)).toEqual([]);
  });
});

import type { ChildProcess } from 'node:child_process';
import { OrphanReaper } from './orphan-reaper.js';

/**
 * Signals a child's whole process group. The child must have been spawned with `detached: true`,
 * which makes it the leader of a new group, so everything it starts (shells, test runners, an
 * agent's sandboxed commands) goes too.
 */
export function killProcessGroup(child: Pick<ChildProcess, 'pid'>, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Process groups of tasks running now (registered by {@link killGroupOnAbort} until their task ends),
 * mirrored to a reaper process that stops them if this process dies without doing so.
 */
const liveGroups = new Set<number>();
const reaper = new OrphanReaper();

/** Starts this process's orphan reaper before any task (see {@link OrphanReaper.arm}): for a process about to run tasks. */
export function armReaper(): void {
  reaper.arm();
}

function addLive(pgid: number): void {
  liveGroups.add(pgid);
  reaper.started(pgid);
}

function removeLive(pgid: number): void {
  if (liveGroups.delete(pgid)) reaper.ended(pgid);
}

/**
 * SIGKILLs the process group of every task still running, at once: for a coordinator on its way
 * out (a second Ctrl-C), which cannot wait for a task that traps SIGTERM.
 * @returns how many groups were signalled.
 */
export function killLiveGroups(): number {
  const n = liveGroups.size;
  for (const pid of liveGroups) {
    killProcessGroup({ pid }, 'SIGKILL');
    removeLive(pid);
  }
  return n;
}

/**
 * Kills the child's process group when `signal` aborts: SIGTERM first, SIGKILL after `graceMs`
 * if anything is still there. Until the returned function is called (once the child has exited),
 * the group also counts as live for {@link killLiveGroups}.
 */
export function killGroupOnAbort(child: Pick<ChildProcess, 'pid'>, signal: AbortSignal, graceMs: number): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const pid = child.pid;
  if (pid !== undefined) addLive(pid);
  const onAbort = (): void => {
    killProcessGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killProcessGroup(child, 'SIGKILL'), graceMs);
    killTimer.unref();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    if (pid !== undefined) removeLive(pid);
    signal.removeEventListener('abort', onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
  };
}

import type { ChildProcess } from 'node:child_process';

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
 * Kills the child's process group when `signal` aborts: SIGTERM first, SIGKILL after `graceMs`
 * if anything is still there. Returns a function that stops listening (call it once the child
 * has exited).
 */
export function killGroupOnAbort(child: Pick<ChildProcess, 'pid'>, signal: AbortSignal, graceMs: number): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    killProcessGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killProcessGroup(child, 'SIGKILL'), graceMs);
    killTimer.unref();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    signal.removeEventListener('abort', onAbort);
    if (killTimer !== undefined) clearTimeout(killTimer);
  };
}

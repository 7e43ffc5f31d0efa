import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

const started: ChildProcess[] = [];

/**
 * Starts `file args` as weft starts a task's process: in a process group of its own, stdio ignored,
 * with attempt `attempt` of `task` of run `runId` in its env (WEFT_RUN_ID, WEFT_TASK_ID,
 * WEFT_ATTEMPT). {@link killTaskLikeProcesses} stops it.
 */
export function spawnTaskLike(
  file: string,
  args: readonly string[],
  attempt: { readonly runId: string; readonly task: string; readonly attempt: number },
  cwd?: string,
): ChildProcess {
  const env = {
    ...process.env,
    WEFT_RUN_ID: attempt.runId,
    WEFT_TASK_ID: attempt.task,
    WEFT_ATTEMPT: String(attempt.attempt),
  };
  const child = spawn(file, args, { env, detached: true, stdio: 'ignore', ...(cwd === undefined ? {} : { cwd }) });
  started.push(child);
  return child;
}

/** SIGKILLs the process group of everything {@link spawnTaskLike} started (a test's `afterEach`). */
export function killTaskLikeProcesses(): void {
  for (const child of started.splice(0))
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // gone
    }
}

/** Whether process `pid` is running: it exists and is not a zombie waiting to be reaped (Linux's /proc). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

import type { TaskFailure } from '../../core/errors.js';
import { memoryExceededMessage, noteStderr, type AppliedLimits } from '../process/os-limits.js';
import type { LineProcessExit } from '../process/spawn-lines.js';

/**
 * Whether an agent CLI's run went over its memory limit, read once the CLI has exited (before its
 * cgroup is released): a function of whether the agent ended well, giving the failure when it did.
 * A command the OOM killer stopped fails the attempt even when the agent carried on — the task
 * went over its limit. Under an rlimit, a CLI whose runtime cannot reserve its address space dies
 * by a signal without a word: that is named, with the fix. `stopped`: weft stopped it (timeout, Ctrl-C, the parser).
 */
export function overMemoryLimit(
  limited: AppliedLimits,
  memory: string | number,
  exit: LineProcessExit,
  stopped: boolean,
  cli: string,
): (ended: boolean) => TaskFailure | undefined {
  noteStderr(limited, exit.stderrTail);
  const unstartable = limited.how === 'rlimit' && exit.signal !== null && !stopped;
  const failed = limited.memoryExceeded() || unstartable;
  const killed = limited.oomKilled();
  const how =
    exit.signal !== null
      ? `killed by ${exit.signal}`
      : killed
        ? 'a process the agent started was killed'
        : `exited with code ${exit.exitCode}`;
  const hint = unstartable
    ? `; an address-space rlimit also counts what ${cli}'s runtime reserves (about 1GB): raise limits.memory, or run weft where it may write cgroups (/sys/fs/cgroup)`
    : '';
  const failure: TaskFailure = {
    message: `${memoryExceededMessage(memory)} (${limited.how}): ${how}${hint}`,
    code: 'WEFT_LIMIT_EXCEEDED',
    exitCode: exit.exitCode,
    signal: exit.signal,
    ...(exit.stderrTail === '' ? {} : { stderrTail: exit.stderrTail }),
  };
  return (ended) => (killed || (!ended && failed) ? failure : undefined);
}

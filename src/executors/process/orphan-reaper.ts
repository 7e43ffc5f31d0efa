import { spawn, type ChildProcess } from 'node:child_process';
import { findBash } from './helper-programs.js';

/**
 * A small process that outlives a weft killed by SIGKILL (or the OOM killer, or a crash) and stops
 * the task process groups weft left running, so a crash leaves no orphan burning an agent's budget
 * or writing into a worktree the next `weft resume` uses.
 *
 * It reads `+<pgid>` and `-<pgid>` lines on stdin as weft starts and reaps task process groups. At
 * end of input (weft closed the pipe by exiting, however it exited) it signals what is still
 * registered: SIGTERM, then SIGKILL after 3 s to what is left (as Ctrl-C does), and exits. With
 * nothing registered it just exits. It runs in its own session (`detached`), so the signal or the
 * closed terminal that took weft down does not reach it, and with a bare environment: it carries no
 * `WEFT_RUN_ID`, so `weft resume` never takes it for a task's process.
 */
export const REAPER_SCRIPT = `declare -A groups
while IFS= read -r line; do
  case $line in
    +*) groups[\${line:1}]=1 ;;
    -*) unset "groups[\${line:1}]" ;;
  esac
done
((\${#groups[@]} > 0)) || exit 0
for g in "\${!groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
for ((i = 0; i < 30; i++)); do
  alive=0
  for g in "\${!groups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
  ((alive)) || exit 0
  sleep 0.1
done
for g in "\${!groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
`;

/** The name the reaper runs under (its `$0`), followed by the pid of the weft it watches. */
export const REAPER_NAME = 'weft-reaper';

/**
 * The reaper of this process, started by {@link OrphanReaper.arm} or with the first group it is told of. Without bash (or if it
 * cannot start) there is none, and a crashed weft's task processes live on until `weft resume`
 * stops them, as before.
 */
export class OrphanReaper {
  private child: ChildProcess | undefined;
  private gone = false;

  /**
   * Starts the reaper now rather than with the first group: a group is then recorded by one pipe
   * write right after its fork, not after a fork of weft's own — so a weft killed in between (a
   * task that starts fast on a loaded machine) leaves none unrecorded.
   */
  arm(): void {
    if (this.child === undefined && !this.gone) this.start();
  }

  started(pgid: number): void {
    this.send(`+${pgid}\n`);
  }

  ended(pgid: number): void {
    if (this.child !== undefined) this.send(`-${pgid}\n`);
  }

  private send(line: string): void {
    if (this.gone) return;
    const child = this.child ?? this.start();
    if (child?.stdin?.writable !== true) return;
    // A pipe write with an empty queue reaches the kernel at once (libuv writes before it queues), so
    // a weft killed right after this still has the group on the reaper's side.
    child.stdin.write(line);
  }

  private start(): ChildProcess | undefined {
    const bash = findBash();
    if (bash === undefined) {
      this.gone = true;
      return undefined;
    }
    const child = spawn(bash, ['-p', '-c', REAPER_SCRIPT, REAPER_NAME, String(process.pid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    });
    const lost = (): void => {
      this.gone = true;
    };
    child.on('error', lost);
    child.on('exit', lost);
    child.stdin?.on('error', lost);
    // Neither the reaper nor its pipe keeps weft's event loop alive: weft exits when its work is done,
    // and the pipe closing is what the reaper waits for.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    return child;
  }
}

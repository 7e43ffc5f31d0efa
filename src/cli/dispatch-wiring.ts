import type { Executor } from '../core/ports/executor.js';
import type { CompiledPlan } from '../core/plan/compile.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { RunState } from '../core/run/run-state.js';
import { resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
// Only the URL check is loaded with the CLI: BullMQ and ioredis (~0.2 s of start-up) are imported
// when a run really dispatches.
import type { RedisDispatcher, TraceSource } from '../dispatch/index.js';
import { checkRedisUrl } from '../dispatch/redis-url.js';
import { requirementOf } from '../dispatch/job.js';
import { canRun } from '../dispatch/worker-ad.js';
import { shownRemote } from '../core/remote-url.js';
import type { GitWorkspace } from '../workspace/index.js';
import { isIsolated } from '../workspace/isolation.js';
import type { RemoteWorktrees } from '../workspace/remote-worktrees.js';
import type { WeftConfig } from './config.js';

/** Where a run's tasks are sent: a Redis URL and queue prefix, and which flag or field said so. */
export interface DispatchChoice {
  readonly url: string;
  readonly prefix: string;
  /** `--dispatch` or `dispatch.redis` (weft.config.yaml), for messages. */
  readonly flag: string;
  /** The git remote tasks in worktrees travel through to workers with their own clone, and who set it. */
  readonly gitRemote?: { readonly url: string; readonly flag: string };
}

const PREFIX = /^[A-Za-z0-9_.-]+$/;

/**
 * `--dispatch` wins over `dispatch:` in weft.config.yaml; neither: the run is local (`undefined`).
 * @throws WeftError (`WEFT_USAGE`) for a URL that is not a Redis URL or a bad prefix, naming the flag
 */
export function chooseDispatch(
  opts: { readonly dispatch?: string; readonly queuePrefix?: string; readonly gitRemote?: string },
  config: WeftConfig,
  projectDir = process.cwd(),
): DispatchChoice | undefined {
  const fromFlag = opts.dispatch !== undefined;
  const url = opts.dispatch ?? config.dispatch?.redis;
  if (url === undefined) {
    if (opts.queuePrefix !== undefined)
      throw new WeftError('WEFT_USAGE', '--queue-prefix needs --dispatch (or `dispatch:` in weft.config.yaml)', {
        hint: 'add --dispatch redis://host:6379, the Redis your workers use, or leave --queue-prefix out',
      });
    if (opts.gitRemote !== undefined)
      throw new WeftError('WEFT_USAGE', '--git-remote needs --dispatch (or `dispatch:` in weft.config.yaml)', {
        hint: 'add --dispatch redis://host:6379, the Redis your workers use, or leave --git-remote out',
      });
    return undefined;
  }
  const flag = fromFlag ? '--dispatch' : 'dispatch.redis (weft.config.yaml)';
  checkRedisUrl(url, flag);
  const prefix = opts.queuePrefix ?? config.dispatch?.prefix ?? 'weft';
  if (!PREFIX.test(prefix))
    throw new WeftError('WEFT_USAGE', `--queue-prefix: "${prefix}" is not a prefix`, {
      hint: "letters, digits, `_`, `.` or `-`, the same as the workers' --prefix",
    });
  const remote = opts.gitRemote ?? config.dispatch?.gitRemote;
  if (remote === undefined) return { url, prefix, flag };
  if (remote.trim() === '')
    throw new WeftError('WEFT_USAGE', '--git-remote: expected a git URL or the path of a bare repository, got ""', {
      hint: 'e.g. --git-remote /srv/git/app.git or --git-remote git@host:app.git, or leave it out',
    });
  const remoteFlag = opts.gitRemote !== undefined ? '--git-remote' : 'dispatch.gitRemote (weft.config.yaml)';
  // A path is made absolute: the workers are told it as it is (one on a shared disk sees the same path).
  const gitRemote = isUrlLike(remote)
    ? remote
    : resolve(opts.gitRemote !== undefined ? process.cwd() : projectDir, remote);
  return { url, prefix, flag, gitRemote: { url: gitRemote, flag: remoteFlag } };
}

/** `scheme://…` or scp-like `[user@]host:path` (a `:` before any `/`); anything else is a path. */
function isUrlLike(remote: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(remote) || /^[^/]+:/.test(remote);
}

/** A run's remote dispatch, opened: the executors the engine runs attempts with, and what a resume adopts. */
export interface OpenDispatch {
  /**
   * The executors that send attempts to workers; with `trace`, each job carries its attempt's trace
   * context; with `workspace` and a shared git remote, tasks in its worktrees travel through the remote.
   */
  executors(trace?: TraceSource, workspace?: GitWorkspace): Map<string, Executor>;
  /** Attempts still running on workers for a coordinator that died (task id → attempt). */
  readonly adopt: ReadonlyMap<string, number>;
  /**
   * Whether workers work in the coordinator's own worktrees, at the same path (no shared git remote):
   * then an adopted attempt's worktree holds the worker's work, and must be kept as it is.
   */
  readonly sharedWorktrees: boolean;
  /**
   * Closes the connection; for a run that `succeeded`, first deletes its attempt refs from the
   * shared git remote (clone mode), saying so on stderr when that fails.
   */
  close(run?: { readonly succeeded: boolean }): Promise<void>;
}

/**
 * Opens the dispatcher for a run: says which tasks no connected worker can run, and on a resume
 * finds the attempts still alive on workers. A task that works in its own git worktree is sent with
 * that worktree's path: the coordinator prepares it and merges what the worker left there, so the
 * worker must see the coordinator's folders at the same path (one machine, or a shared mount) — a
 * worker that does not says so, and the attempt fails.
 */
export async function openDispatch(
  choice: DispatchChoice,
  a: {
    readonly runId: string;
    readonly compiled: CompiledPlan;
    readonly executors: ReadonlyMap<string, Executor>;
    readonly prior?: RunState;
    /** Whether isolated tasks get worktrees (the plan's folder is in a git repository). */
    readonly worktrees: boolean;
    /** Where `git ls-remote` checks the shared remote from. */
    readonly cwd: string;
  },
): Promise<OpenDispatch> {
  const remote = choice.gitRemote;
  // The git code is loaded only when a remote is set.
  const Remote = remote === undefined ? undefined : (await import('../workspace/remote-worktrees.js')).RemoteWorktrees;
  if (remote !== undefined && a.worktrees) await Remote?.check(remote.url, remote.flag, a.cwd);
  const { RedisDispatcher } = await import('../dispatch/index.js');
  const d = await RedisDispatcher.open({ url: choice.url, prefix: choice.prefix, flag: choice.flag });
  try {
    if (remote === undefined && a.worktrees) await refuseCloneWorkersWithoutRemote(d, a.compiled.graph.tasks);
    const unmet = await d.unmet(a.compiled.graph.tasks.filter((t) => a.prior?.tasks.get(t.id)?.state !== 'succeeded'));
    for (const line of unmet) process.stderr.write(`weft: ${line}\n`);
    const running: { task: ResolvedTask; attempt: number }[] = [];
    for (const r of a.prior?.tasks.values() ?? []) {
      const last = r.attempts.at(-1);
      const i = a.compiled.graph.index.get(r.id);
      if (last === undefined || i === undefined || r.state === 'succeeded') continue;
      if (last.endedAt === undefined || last.outcome === 'interrupted')
        running.push({ task: a.compiled.graph.tasks[i] as ResolvedTask, attempt: last.attempt });
    }
    const adopt = await d.adoptable(a.runId, running);
    if (adopt.size > 0)
      process.stderr.write(`weft: adopting ${adopt.size} attempt(s) still queued or running on workers\n`);
    if (remote !== undefined && a.worktrees)
      process.stderr.write(
        `weft: tasks in worktrees go to workers with their own clone through ${shownRemote(remote.url)}\n`,
      );
    const senders: RemoteWorktrees[] = [];
    const sender = (workspace: GitWorkspace | undefined): RemoteWorktrees | undefined => {
      if (remote === undefined || workspace === undefined || Remote === undefined) return undefined;
      const made = new Remote(remote.url, a.runId, workspace);
      senders.push(made);
      return made;
    };
    return {
      executors: (trace, workspace) => d.executors(a.executors, trace, sender(workspace)),
      adopt,
      sharedWorktrees: remote === undefined,
      close: async (run) => {
        if (run?.succeeded === true && remote !== undefined)
          for (const s of senders)
            await s.prune(a.cwd).catch((error: unknown) => {
              const why = error instanceof Error ? error.message : String(error);
              process.stderr.write(`weft: the run's attempt refs stay on ${shownRemote(remote.url)}: ${why}\n`);
            });
        await d.close();
      },
    };
  } catch (error) {
    await d.close();
    throw error;
  }
}

/**
 * A task in a worktree would go to a worker that works in its own clone (`weft worker --clone`),
 * and no shared git remote is set: the worker could not get the task's worktree. Refused before the run.
 * @throws WeftError (`WEFT_USAGE`) naming the task, the worker and the fix
 */
async function refuseCloneWorkersWithoutRemote(d: RedisDispatcher, tasks: readonly ResolvedTask[]): Promise<void> {
  const cloning = (await d.workers()).filter((w) => w.clone === true);
  if (cloning.length === 0) return;
  for (const t of tasks.filter(isIsolated)) {
    const w = cloning.find((c) => canRun(c, requirementOf(t)));
    if (w === undefined) continue;
    throw new WeftError(
      'WEFT_USAGE',
      `--git-remote: task "${t.id}" works in a git worktree and worker ${w.id} works in its own clone (--clone), but no shared git remote is set; give --git-remote <url, or path of a bare repository> (or dispatch.gitRemote in weft.config.yaml)`,
    );
  }
}

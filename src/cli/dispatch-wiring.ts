import type { Executor } from '../core/ports/executor.js';
import type { CompiledPlan } from '../core/plan/compile.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { RunState } from '../core/run/run-state.js';
import { WeftError } from '../core/errors.js';
// Only the URL check is loaded with the CLI: BullMQ and ioredis (~0.2 s of start-up) are imported
// when a run really dispatches.
import type { TraceSource } from '../dispatch/index.js';
import { checkRedisUrl } from '../dispatch/redis-url.js';
import type { WeftConfig } from './config.js';

/** Where a run's tasks are sent: a Redis URL and queue prefix, and which flag or field said so. */
export interface DispatchChoice {
  readonly url: string;
  readonly prefix: string;
  /** `--dispatch` or `dispatch.redis` (weft.config.yaml), for messages. */
  readonly flag: string;
}

const PREFIX = /^[A-Za-z0-9_.-]+$/;

/**
 * `--dispatch` wins over `dispatch:` in weft.config.yaml; neither: the run is local (`undefined`).
 * @throws WeftError (`WEFT_USAGE`) for a URL that is not a Redis URL or a bad prefix, naming the flag
 */
export function chooseDispatch(
  opts: { readonly dispatch?: string; readonly queuePrefix?: string },
  config: WeftConfig,
): DispatchChoice | undefined {
  const fromFlag = opts.dispatch !== undefined;
  const url = opts.dispatch ?? config.dispatch?.redis;
  if (url === undefined) {
    if (opts.queuePrefix !== undefined)
      throw new WeftError('WEFT_USAGE', '--queue-prefix needs --dispatch (or `dispatch:` in weft.config.yaml)');
    return undefined;
  }
  const flag = fromFlag ? '--dispatch' : 'dispatch.redis (weft.config.yaml)';
  checkRedisUrl(url, flag);
  const prefix = opts.queuePrefix ?? config.dispatch?.prefix ?? 'weft';
  if (!PREFIX.test(prefix))
    throw new WeftError('WEFT_USAGE', `--queue-prefix: "${prefix}" is not a prefix`, {
      hint: "letters, digits, `_`, `.` or `-`, the same as the workers' --prefix",
    });
  return { url, prefix, flag };
}

/** A run's remote dispatch, opened: the executors the engine runs attempts with, and what a resume adopts. */
export interface OpenDispatch {
  /** The executors that send attempts to workers; with `trace`, each job carries its attempt's trace context. */
  executors(trace?: TraceSource): Map<string, Executor>;
  /** Attempts still running on workers for a coordinator that died (task id → attempt). */
  readonly adopt: ReadonlyMap<string, number>;
  close(): Promise<void>;
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
  },
): Promise<OpenDispatch> {
  const { RedisDispatcher } = await import('../dispatch/index.js');
  const d = await RedisDispatcher.open({ url: choice.url, prefix: choice.prefix, flag: choice.flag });
  try {
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
    return { executors: (trace) => d.executors(a.executors, trace), adopt, close: () => d.close() };
  } catch (error) {
    await d.close();
    throw error;
  }
}

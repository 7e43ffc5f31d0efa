import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Executor, TaskContext, TaskOutcome } from '../core/ports/executor.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { ProgressEvent } from '../core/run/events.js';
import {
  jobIdOf,
  JOB_VERSION,
  keysOf,
  queueNameOf,
  requirementOf,
  type AttemptJob,
  type CloneSpec,
  type JobResult,
  type Requirement,
} from './job.js';
import type { WorktreeSender } from './clone-mode.js';
import { connectRedis } from './redis-connection.js';
import { canRun, WORKER_TTL_MS, type WorkerAd } from './worker-ad.js';

/** States of a job no worker holds yet. */
const WAITING: ReadonlySet<string> = new Set(['waiting', 'delayed', 'prioritized', 'paused', 'waiting-children']);
/** Options of {@link RedisDispatcher.open}. */
export interface RedisDispatcherOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Key prefix of the queues; coordinator and workers must use the same. @default 'weft' */
  readonly prefix?: string;
  /** How the user gave the URL, for messages. @default '--dispatch' */
  readonly flag?: string;
  /**
   * How long a finished job (and its result) stays in Redis, seconds: a coordinator that died has
   * this long to resume and adopt what finished meanwhile. @default 86400
   */
  readonly keepSeconds?: number;
  /** How long to wait for a worker's answer after cancelling an attempt, ms. @default 10000 */
  readonly cancelGraceMs?: number;
}

/** Where the trace context of an attempt comes from (the run's tracer), to send with its job. */
export interface TraceSource {
  /** The W3C headers (`traceparent`, …) of the attempt's span, or `undefined` when it is not traced. */
  traceContext(task: string, attempt: number): Readonly<Record<string, string>> | undefined;
}

interface Pending {
  readonly emit: (event: ProgressEvent) => void;
  readonly resolve: (outcome: JobResult) => void;
  readonly queue: string;
  heardAt: number;
}

interface Lane {
  readonly queue: Queue;
  readonly events: QueueEvents;
  readonly batch: { name: string; data: AttemptJob; opts: { jobId: string } }[];
}

/** How often jobs that went quiet are looked up, in case their event was missed (ms). */
const SWEEP_MS = 5_000;

/**
 * Runs attempts on remote workers through BullMQ: the coordinator's side of `weft run --dispatch`.
 * {@link RedisDispatcher.executors} wraps the local executors into ones that send each attempt as a
 * job (id `run:task:attempt`) to the queue of what the task needs ({@link queueNameOf}), stream its
 * progress back and return its outcome — the engine keeps every decision (retries, fixes, the
 * journal); workers only execute.
 *
 * @example
 * const d = await RedisDispatcher.open({ url: 'redis://127.0.0.1:6379' });
 * await runPlan({ ...options, executors: d.executors(localExecutors) });
 * await d.close();
 */
export class RedisDispatcher {
  private readonly lanes = new Map<string, Promise<Lane>>();
  private readonly pending = new Map<string, Pending>();
  /** Jobs a resume adopted: their result may already be waiting. */
  private readonly adopted = new Set<string>();
  private readonly keys: ReturnType<typeof keysOf>;
  private readonly keepSeconds: number;
  private readonly cancelGraceMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private sweeping = false;

  private constructor(
    private readonly client: Redis,
    readonly prefix: string,
    options: RedisDispatcherOptions,
  ) {
    this.keys = keysOf(prefix);
    this.keepSeconds = options.keepSeconds ?? 86_400;
    this.cancelGraceMs = options.cancelGraceMs ?? 10_000;
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /**
   * Connects to Redis.
   * @throws WeftError (`WEFT_USAGE`) for a URL that is not a Redis URL, (`WEFT_DISPATCH`) when Redis does not answer
   */
  static async open(options: RedisDispatcherOptions): Promise<RedisDispatcher> {
    const client = await connectRedis(options.url, options.flag ?? '--dispatch');
    return new RedisDispatcher(client, options.prefix ?? 'weft', options);
  }

  /**
   * Executors that run each attempt on a remote worker, one per local executor (whose `info` plans
   * are checked against). With `trace`, each job carries its attempt's trace context, which the
   * worker's span continues. With `sender` (clone mode), a task in a worktree has its start pushed
   * to the shared remote and its worker's work brought back (see {@link WorktreeSender}).
   */
  executors(local: ReadonlyMap<string, Executor>, trace?: TraceSource, sender?: WorktreeSender): Map<string, Executor> {
    const remote = new Map<string, Executor>();
    for (const e of local.values())
      remote.set(e.name, {
        name: e.name,
        version: e.version,
        // An attempt waits in its queue until a worker takes it: its timeout counts from then.
        info: { ...e.info, queues: true },
        run: (ctx) => (sender === undefined ? this.run(ctx, trace) : this.runCloned(ctx, trace, sender)),
      });
    return remote;
  }

  /** The workers alive now (a heartbeat within {@link WORKER_TTL_MS}). */
  async workers(): Promise<WorkerAd[]> {
    const all = await this.client.hgetall(this.keys.workers);
    const now = Date.now();
    return Object.values(all)
      .map((s) => JSON.parse(s) as WorkerAd)
      .filter((w) => now - w.seenAt < WORKER_TTL_MS);
  }

  /**
   * One line per requirement of `tasks` that no live worker meets: their jobs wait in their queue
   * until such a worker starts.
   */
  async unmet(tasks: readonly ResolvedTask[]): Promise<string[]> {
    const workers = await this.workers();
    const byQueue = new Map<string, { r: Requirement; ids: string[] }>();
    for (const t of tasks) {
      const r = requirementOf(t);
      const q = queueNameOf(r);
      const entry = byQueue.get(q) ?? { r, ids: [] };
      entry.ids.push(t.id);
      byQueue.set(q, entry);
    }
    return [...byQueue.values()]
      .filter(({ r }) => !workers.some((w) => canRun(w, r)))
      .map(({ r, ids }) => {
        const named = ids.length <= 3 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')} and ${ids.length - 3} more`;
        const labels =
          r.labels.length === 0 ? '' : ` with label${r.labels.length === 1 ? '' : 's'} ${r.labels.join(', ')}`;
        return `no worker connected runs ${r.executor}${labels} (task${ids.length === 1 ? '' : 's'} ${named}); they wait for one (\`weft worker --redis …${r.labels.map((l) => ` --label ${l}`).join('')}\`)`;
      });
  }

  /**
   * Of the attempts a dead coordinator left running, those whose job is still queued, running or
   * finished with a result: a resume waits for them instead of starting them again (task id → attempt).
   */
  async adoptable(
    runId: string,
    attempts: readonly { readonly task: ResolvedTask; readonly attempt: number }[],
  ): Promise<Map<string, number>> {
    const adopt = new Map<string, number>();
    for (const { task, attempt } of attempts) {
      const lane = await this.lane(requirementOf(task));
      const id = jobIdOf(runId, task.id, attempt);
      const state = await lane.queue.getJobState(id);
      if (state === 'unknown' || state === 'failed') continue;
      adopt.set(task.id, attempt);
      this.adopted.add(id);
    }
    return adopt;
  }

  /**
   * Clone mode: pushes the attempt's start, sends it, and brings back what its worker pushed — also
   * for a failed attempt, whose work is kept as a local one's is. A worker that shares the
   * coordinator's folders works in the worktree by path and pushes nothing.
   */
  private async runCloned(
    ctx: TaskContext,
    trace: TraceSource | undefined,
    sender: WorktreeSender,
  ): Promise<TaskOutcome> {
    let spec: CloneSpec | undefined;
    try {
      const sent = await this.sentBefore(ctx);
      spec = sent === undefined ? await sender.send(ctx) : sent.clone;
    } catch (error) {
      return { ok: false, failure: { message: messageOf(error), code: 'WEFT_DISPATCH' } };
    }
    const { pushed, ...outcome } = await this.run(ctx, trace, spec);
    if (spec === undefined || pushed === undefined) return outcome;
    try {
      await sender.receive(ctx, spec, pushed);
    } catch (error) {
      // Not lost: the commit stays on the remote under the attempt's result ref, for a person to fetch.
      const failure = {
        message: `the work its worker pushed (${pushed} at ${spec.result} on the shared remote) could not be brought back: ${messageOf(error)}`,
      };
      return { ok: false, failure: { ...failure, code: 'WEFT_DISPATCH' } };
    }
    return outcome;
  }

  /**
   * The job of an attempt a dead coordinator sent and a resume adopts, as it was sent: its start is
   * not pushed again (its worker may have started from it, or be done); `undefined` for any other.
   */
  private async sentBefore(ctx: TaskContext): Promise<{ readonly clone?: CloneSpec } | undefined> {
    const jobId = jobIdOf(ctx.runId, ctx.task.id, ctx.attempt, ctx.trial);
    if (!this.adopted.has(jobId)) return undefined;
    const job = await Job.fromId<AttemptJob, JobResult>((await this.lane(requirementOf(ctx.task))).queue, jobId);
    return job?.data;
  }

  /** Sends one attempt to its queue and waits for its outcome. */
  private run(ctx: TaskContext, trace: TraceSource | undefined, clone?: CloneSpec): Promise<JobResult> {
    const r = requirementOf(ctx.task);
    const jobId = jobIdOf(ctx.runId, ctx.task.id, ctx.attempt, ctx.trial);
    const carrier = trace?.traceContext(ctx.task.id, ctx.attempt);
    const data: AttemptJob = {
      v: JOB_VERSION,
      runId: ctx.runId,
      task: ctx.task,
      attempt: ctx.attempt,
      slot: ctx.worker,
      baseDir: ctx.baseDir,
      workdir: ctx.workdir,
      inputs: ctx.inputs,
      readyAt: Date.now(),
      ...(ctx.sessionId === undefined ? {} : { sessionId: ctx.sessionId }),
      ...(ctx.feedback === undefined ? {} : { feedback: ctx.feedback }),
      ...(ctx.iteration === undefined ? {} : { iteration: ctx.iteration }),
      ...(ctx.trial === undefined ? {} : { trial: ctx.trial }),
      ...(carrier === undefined ? {} : { trace: carrier }),
      ...(clone === undefined ? {} : { clone }),
    };
    return new Promise<JobResult>((resolve) => {
      const queue = queueNameOf(r);
      const pending: Pending = { emit: (e) => ctx.emit(e), resolve, queue, heardAt: Date.now() };
      this.pending.set(jobId, pending);
      const { signal } = ctx;
      const cancel = (): void => {
        void this.withdraw(r, jobId).then((withdrawn) => {
          // Still in its queue: taken out, it can never run (a later worker would run it otherwise).
          if (withdrawn)
            return this.settle(jobId, { ok: false, failure: { message: 'cancelled before a worker took it' } });
          void this.client.publish(this.keys.cancelChannel, JSON.stringify({ jobId, cause: signal.reason }));
          // A worker that is gone cannot answer: the attempt ends here after a grace period.
          setTimeout(
            () => this.settle(jobId, { ok: false, failure: { message: 'cancelled; its worker did not answer' } }),
            this.cancelGraceMs,
          ).unref();
        });
      };
      void this.lane(r).then(
        (lane) => {
          if (signal.aborted) return cancel();
          signal.addEventListener('abort', cancel, { once: true });
          lane.batch.push({ name: ctx.task.id, data, opts: { jobId } });
          if (lane.batch.length === 1) queueMicrotask(() => void this.flush(lane));
        },
        (error: unknown) => this.settle(jobId, lostOutcome(error)),
      );
    });
  }

  /**
   * Takes an attempt's job back before any worker has it: out of the batch not yet sent, or out of
   * its queue while it waits there. False once a worker holds it (it is then told to stop).
   */
  private async withdraw(r: Requirement, jobId: string): Promise<boolean> {
    try {
      const lane = await this.lane(r);
      const unsent = lane.batch.findIndex((b) => b.opts.jobId === jobId);
      if (unsent >= 0) {
        lane.batch.splice(unsent, 1);
        return true;
      }
      const job = await Job.fromId(lane.queue, jobId);
      if (job === undefined || !WAITING.has(await job.getState())) return false;
      // 0 when a worker took it in between: locked jobs are not removed.
      return (await lane.queue.remove(jobId)) === 1;
    } catch {
      return false;
    }
  }

  /** Adds the jobs gathered in one turn with one round trip. */
  private async flush(lane: Lane): Promise<void> {
    const batch = lane.batch.splice(0);
    if (batch.length === 0) return; // all withdrawn before they were sent
    try {
      await lane.queue.addBulk(batch);
    } catch (error) {
      for (const b of batch) this.settle(b.opts.jobId, lostOutcome(error));
      return;
    }
    for (const b of batch) if (this.adopted.has(b.opts.jobId)) void this.lookUp(lane.queue, b.opts.jobId);
  }

  /** Settles a job from its stored state when it has finished (its event may have gone by). */
  private async lookUp(queue: Queue, jobId: string): Promise<void> {
    const job = await Job.fromId(queue, jobId);
    if (job === undefined) return this.settle(jobId, lostOutcome(new Error('its job is gone from Redis')));
    if (job.finishedOn === undefined) return;
    if (job.failedReason !== undefined && job.failedReason !== '' && job.returnvalue == null)
      return this.settle(jobId, lostOutcome(new Error(job.failedReason)));
    this.settle(jobId, job.returnvalue as JobResult);
  }

  private settle(jobId: string, outcome: JobResult): void {
    const p = this.pending.get(jobId);
    if (p === undefined) return;
    this.pending.delete(jobId);
    this.adopted.delete(jobId);
    p.resolve(outcome);
  }

  /** Jobs not heard of for a while are looked up: a missed event must not leave a task running forever. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const quiet = Date.now() - SWEEP_MS;
      for (const [jobId, p] of [...this.pending].slice(0, 500)) {
        if (p.heardAt > quiet) continue;
        const lane = await this.lanes.get(p.queue);
        if (lane !== undefined) await this.lookUp(lane.queue, jobId).catch(() => undefined);
      }
    } finally {
      this.sweeping = false;
    }
  }

  /** The queue (and its event listener) of one requirement, made once and announced to workers. */
  private lane(r: Requirement): Promise<Lane> {
    const name = queueNameOf(r);
    let lane = this.lanes.get(name);
    if (lane === undefined) {
      lane = this.openLane(name, r);
      this.lanes.set(name, lane);
    }
    return lane;
  }

  private async openLane(name: string, r: Requirement): Promise<Lane> {
    const age = this.keepSeconds;
    const queue = new Queue<AttemptJob>(name, {
      connection: this.client,
      prefix: this.prefix,
      streams: { events: { maxLen: 100_000 } },
      defaultJobOptions: { attempts: 1, removeOnComplete: { age }, removeOnFail: { age } },
    });
    const events = new QueueEvents(name, { connection: this.client.duplicate(), prefix: this.prefix });
    events.on('error', () => undefined);
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, returnvalue as unknown as JobResult));
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, lostOutcome(new Error(failedReason))));
    events.on('progress', ({ jobId, data }) => {
      const p = this.pending.get(jobId);
      if (p === undefined) return;
      p.heardAt = Date.now();
      if (typeof data === 'object' && data !== null) p.emit(data as ProgressEvent);
    });
    events.on('active', ({ jobId }) => {
      const p = this.pending.get(jobId);
      if (p === undefined) return;
      p.heardAt = Date.now();
      p.emit({ kind: 'status', message: 'a worker took it' });
    });
    await events.waitUntilReady();
    await this.client.hset(this.keys.queues, name, JSON.stringify(r));
    await this.client.publish(this.keys.queuesChannel, name);
    return { queue: queue as unknown as Queue, events, batch: [] };
  }

  /** Closes the queues and connections; attempts still waiting get a failed outcome. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const jobId of [...this.pending.keys()])
      this.settle(jobId, { ok: false, failure: { message: 'the dispatcher closed', code: 'WEFT_DISPATCH' } });
    const lanes = await Promise.allSettled(this.lanes.values());
    for (const l of lanes) {
      if (l.status !== 'fulfilled') continue;
      await l.value.events.close().catch(() => undefined);
      await l.value.queue.close().catch(() => undefined);
    }
    this.client.disconnect();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A job that failed without a result: its worker was lost (a stalled job: the worker was killed or
 * hung past its lock) or the job could not be sent. Transient: the engine tries it again as a new
 * attempt, which any worker able to run it may take.
 */
function lostOutcome(error: unknown): TaskOutcome {
  const why = error instanceof Error ? error.message : String(error);
  return {
    ok: false,
    failure: { message: `its worker was lost (${why})`, code: 'WEFT_WORKER_LOST', transient: true },
  };
}

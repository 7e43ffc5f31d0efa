import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { redactValue, type Redactor } from '../core/redact.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { Executor, TaskContext, TaskOutcome } from '../core/ports/executor.js';
import { endRun } from '../core/ports/executor.js';
import { WeftError } from '../core/errors.js';
import { JOB_VERSION, keysOf, type AttemptJob, type CancelMessage, type JobResult, type Requirement } from './job.js';
import type { CloneWorktree, CloneWorktrees } from './clone-mode.js';
import { connectRedis } from './redis-connection.js';
import { advertise, canRun, type WorkerAd } from './worker-ad.js';

/** Options of {@link RedisWorker.start}. */
export interface RedisWorkerOptions {
  /** `redis://host:port[/db]`. */
  readonly url: string;
  /** Key prefix of the queues; the coordinator's. @default 'weft' */
  readonly prefix?: string;
  /** The executors this worker runs tasks with (only those whose set-up check passes are advertised). */
  readonly executors: ReadonlyMap<string, Executor>;
  /** Labels tasks may require (`labels: [gpu]`). @default [] */
  readonly labels?: readonly string[];
  /** Attempts run at once per queue. @default 1 */
  readonly concurrency?: number;
  /**
   * How long a running job's lock lasts without renewal, ms: a worker killed mid-task is noticed
   * (by another worker on the same queue) this long after its last renewal, and its attempt tried
   * again elsewhere. @default 30000
   */
  readonly lockMs?: number;
  /** Tasks' working folders must lie under this folder. @default no limit */
  readonly root?: string;
  /**
   * Clone mode (`--clone <dir>`): a task in a worktree whose job names a shared git remote runs in
   * this worker's own worktree of its own clone, and its work is pushed back. @default off: tasks
   * work in the folder the coordinator names
   */
  readonly clone?: CloneWorktrees;
  /** Where this worker's attempts keep their logs (`<workDir>/<run>/`). */
  readonly workDir: string;
  /**
   * The secrets to mask for one task — the worker's own API keys and those the task's `env` sets —
   * in the logs its executor writes and in the text and errors that go back to the coordinator.
   */
  readonly redactFor?: (task: ResolvedTask) => Redactor;
  /** Its id in the worker list. @default `<host>-<pid>-<random>` */
  readonly id?: string;
  /** How the user gave the URL, for messages. @default '--redis' */
  readonly flag?: string;
  /** Told when the worker starts taking a queue's jobs, and of each attempt's end. */
  readonly onNotice?: (line: string) => void;
  /**
   * Told when the worker takes an attempt (its job's `trace` holds the coordinator's trace context);
   * what it returns is told the attempt's outcome, as it goes back. Tracing hooks in here.
   */
  readonly onAttempt?: (job: AttemptJob, taken: AttemptTaken) => ((outcome: TaskOutcome) => void) | undefined;
}

/** Where a worker took an attempt from. */
export interface AttemptTaken {
  /** `run:task:attempt`. */
  readonly jobId: string;
  readonly queue: string;
  /** The worker's id. */
  readonly workerId: string;
}

const HEARTBEAT_MS = 2_000;
/** Queues are re-read this often too, in case an announcement was missed (ms). */
const REFRESH_MS = 5_000;

/**
 * The worker's side of remote dispatch (`weft worker`): advertises what it can run, takes the jobs
 * of every queue whose requirement it meets, runs each attempt with its own executors, streams
 * progress as job progress and returns the outcome as the job's result.
 *
 * @example
 * const w = await RedisWorker.start({ url: 'redis://127.0.0.1:6379', executors, labels: ['gpu'], workDir });
 * process.on('SIGTERM', () => void w.close());
 */
export class RedisWorker {
  private readonly workers = new Map<string, Worker>();
  private readonly running = new Map<string, AbortController>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly keys: ReturnType<typeof keysOf>;
  private readonly runs = new Set<string>();
  /** Working folders already found fit (they exist, and lie under `--root`). */
  private readonly workdirs = new Set<string>();
  private closed = false;

  private constructor(
    private readonly client: Redis,
    private readonly subscriber: Redis,
    readonly ad: WorkerAd,
    private readonly options: RedisWorkerOptions,
  ) {
    this.keys = keysOf(options.prefix ?? 'weft');
  }

  /**
   * Connects, advertises and starts taking jobs.
   * @throws WeftError (`WEFT_USAGE`) for a bad option or URL, (`WEFT_DISPATCH`) when Redis does not answer
   */
  static async start(options: RedisWorkerOptions): Promise<RedisWorker> {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new WeftError('WEFT_USAGE', `--concurrency: expected a positive integer, got ${concurrency}`);
    const lockMs = options.lockMs ?? 30_000;
    if (!Number.isInteger(lockMs) || lockMs < 1_000)
      throw new WeftError('WEFT_USAGE', `--lock-ms: expected an integer of at least 1000, got ${lockMs}`);
    for (const l of options.labels ?? [])
      if (!/^[A-Za-z0-9_.-]+$/.test(l))
        throw new WeftError('WEFT_USAGE', `--label: "${l}" is not a label`, {
          hint: 'a label is letters, digits, `_`, `.` or `-`, e.g. --label gpu',
        });
    const flag = options.flag ?? '--redis';
    const client = await connectRedis(options.url, flag);
    const subscriber = client.duplicate();
    subscriber.on('error', () => undefined);
    const id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const base = {
      id,
      host: hostname(),
      pid: process.pid,
      concurrency,
      labels: options.labels ?? [],
      clone: options.clone !== undefined,
    };
    const ad = await advertise(base, options.executors, process.env);
    const w = new RedisWorker(client, subscriber, ad, { ...options, lockMs, concurrency });
    await w.begin();
    return w;
  }

  private async begin(): Promise<void> {
    await this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), HEARTBEAT_MS));
    this.timers.push(setInterval(() => void this.refresh().catch(() => undefined), REFRESH_MS));
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.queuesChannel) void this.refresh().catch(() => undefined);
      else if (channel === this.keys.cancelChannel) this.cancel(message);
    });
    await this.subscriber.subscribe(this.keys.queuesChannel, this.keys.cancelChannel);
    await this.refresh();
  }

  private async heartbeat(): Promise<void> {
    await this.client.hset(this.keys.workers, this.ad.id, JSON.stringify({ ...this.ad, seenAt: Date.now() }));
  }

  private cancel(message: string): void {
    let m: CancelMessage;
    try {
      m = JSON.parse(message) as CancelMessage;
    } catch {
      return;
    }
    this.running.get(m.jobId)?.abort(m.cause);
  }

  /** Starts taking the jobs of each announced queue this worker can run. */
  private async refresh(): Promise<void> {
    const queues = await this.client.hgetall(this.keys.queues);
    for (const [name, json] of Object.entries(queues)) {
      if (this.closed || this.workers.has(name) || !canRun(this.ad, JSON.parse(json) as Requirement)) continue;
      const lockMs = this.options.lockMs as number;
      const worker = new Worker<AttemptJob, JobResult>(name, (job) => this.process(job), {
        connection: this.client,
        prefix: this.options.prefix ?? 'weft',
        concurrency: this.options.concurrency ?? 1,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        // A stalled job is not run again under the same id: it fails, and the coordinator starts a new attempt.
        maxStalledCount: 0,
      });
      worker.on('error', () => undefined);
      this.workers.set(name, worker);
      this.options.onNotice?.(`taking jobs of queue ${name}`);
    }
  }

  /** Runs one attempt; never throws: whatever happens is the outcome the coordinator gets. */
  private async process(job: Job<AttemptJob, JobResult>): Promise<JobResult> {
    const taken = { jobId: job.id as string, queue: job.queueName, workerId: this.ad.id };
    let end: ((outcome: TaskOutcome) => void) | undefined;
    try {
      end = this.options.onAttempt?.(job.data, taken);
    } catch {
      end = undefined; // a hook that fails does not fail the attempt
    }
    const outcome = await this.attempt(job);
    end?.(outcome);
    return outcome;
  }

  private async attempt(job: Job<AttemptJob, JobResult>): Promise<JobResult> {
    const data = job.data;
    const startedAt = Date.now();
    if (data.v !== JOB_VERSION)
      return refused(`the job's format (v${String(data.v)}) is not this worker's (v${JOB_VERSION}); upgrade weft`);
    const executor = this.options.executors.get(data.task.executor);
    if (executor === undefined) return refused(`worker ${this.ad.id} has no executor "${data.task.executor}"`);
    let own: CloneWorktree | undefined;
    if (this.options.clone !== undefined && data.clone !== undefined) {
      try {
        own = await this.options.clone.open(data.clone, {
          runId: data.runId,
          taskId: data.task.id,
          attempt: data.attempt,
        });
      } catch (error) {
        return refused(`worker ${this.ad.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else if (!this.workdirs.has(data.workdir)) {
      const where = this.checkWorkdir(data.workdir);
      if (where !== undefined) return refused(`worker ${this.ad.id}: ${where}${this.cloneHint()}`);
      // A folder that was fine stays fine for the worker's life (a stat per job cost more than the job's bookkeeping).
      if (this.workdirs.size >= 10_000) this.workdirs.clear(); // worktrees come and go
      this.workdirs.add(data.workdir);
    }
    const controller = new AbortController();
    const jobId = job.id as string;
    this.running.set(jobId, controller);
    const runDir = join(this.options.workDir, data.runId);
    if (!this.runs.has(data.runId)) {
      mkdirSync(runDir, { recursive: true });
      this.runs.add(data.runId);
    }
    const redact = this.options.redactFor?.(data.task);
    const masking = redact !== undefined && redact.secrets.length > 0 ? redact : undefined;
    const ctx: TaskContext = {
      runId: data.runId,
      task: data.task,
      attempt: data.attempt,
      worker: data.slot,
      signal: controller.signal,
      runDir,
      baseDir: data.baseDir,
      workdir: own?.workdir ?? data.workdir,
      inputs: data.inputs,
      ...(data.sessionId === undefined ? {} : { sessionId: data.sessionId }),
      ...(data.feedback === undefined ? {} : { feedback: data.feedback }),
      ...(data.iteration === undefined ? {} : { iteration: data.iteration }),
      ...(data.trial === undefined ? {} : { trial: data.trial }),
      ...(masking === undefined ? {} : { redact: masking }),
      emit: (event) => {
        const shown =
          masking === undefined || event.message === undefined ? event : { ...event, message: masking(event.message) };
        void job.updateProgress(shown as unknown as object).catch(() => undefined);
      },
    };
    let outcome: TaskOutcome;
    try {
      outcome = await executor.run(ctx);
    } catch (error) {
      outcome = {
        ok: false,
        failure: { message: error instanceof Error ? error.message : String(error), code: 'WEFT_EXECUTOR' },
      };
    } finally {
      this.running.delete(jobId);
    }
    // The task's time is the worker's: from when it took the job, not from when it was queued.
    const endedAt = outcome.endedAt ?? Date.now();
    const pushed = own === undefined ? undefined : await this.pushBack(own, outcome);
    if (pushed !== undefined && 'failure' in pushed) outcome = pushed.failure;
    this.options.onNotice?.(`${jobId} ${outcome.ok ? 'succeeded' : `failed: ${outcome.failure.message}`}`);
    const timed: JobResult = {
      ...outcome,
      startedAt: outcome.startedAt ?? startedAt,
      endedAt,
      ...(pushed !== undefined && 'commit' in pushed ? { pushed: pushed.commit } : {}),
    };
    return masking === undefined ? timed : redactValue(timed, masking);
  }

  /**
   * Commits and pushes what an attempt did in this worker's own worktree — a failed one's too, so
   * the coordinator keeps it as it keeps a local attempt's. A success whose work cannot be pushed
   * fails: its work would be lost.
   */
  private async pushBack(
    own: CloneWorktree,
    outcome: TaskOutcome,
  ): Promise<{ readonly commit: string } | { readonly failure: TaskOutcome } | undefined> {
    try {
      return { commit: await own.finish() };
    } catch (error) {
      await own.discard().catch(() => undefined);
      if (!outcome.ok) return undefined;
      const why = error instanceof Error ? error.message : String(error);
      return { failure: refused(`worker ${this.ad.id} could not push the task's work back: ${why}`) };
    }
  }

  /** For a worker with its own clone that got a task by path: how it could have got it through git. */
  private cloneHint(): string {
    if (this.options.clone === undefined) return '';
    return '; this worker works in its own clone (--clone), which it does for a task in a worktree when the run names a shared git remote (weft run --git-remote)';
  }

  /** Why a task cannot work in `dir` here, if it cannot: tasks work in place, in a folder both machines see. */
  private checkWorkdir(dir: string): string | undefined {
    if (!isAbsolute(dir)) return `the task's folder "${dir}" is not an absolute path`;
    try {
      if (!statSync(dir).isDirectory()) return `the task's folder ${dir} is not a folder`;
    } catch {
      return `the task's folder ${dir} does not exist on this machine (start the worker where the project's folder is, or share it at the same path)`;
    }
    const root = this.options.root;
    if (root === undefined) return undefined;
    const rel = relative(realpathSync(root), realpathSync(dir));
    if (rel.startsWith('..') || isAbsolute(rel)) return `the task's folder ${dir} is outside its --root ${root}`;
    return undefined;
  }

  /** Stops taking jobs, lets the running attempts end, and leaves the worker list. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.workers.values()].map((w) => w.close()));
    await Promise.allSettled([...this.runs].map((runId) => endRun(this.options.executors, { runId, succeeded: true })));
    await this.client.hdel(this.keys.workers, this.ad.id).catch(() => undefined);
    this.subscriber.disconnect();
    this.client.disconnect();
  }
}

/** A job this worker cannot run: a failure of the attempt, said plainly. */
function refused(message: string): TaskOutcome {
  return { ok: false, failure: { message, code: 'WEFT_EXECUTOR' } };
}

import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RedisWorker, type CloneWorktrees, type WorkerAd } from '../../dispatch/index.js';
import { WeftError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { createWeftDir, weftDir } from '../run-files.js';
import { copiedSecrets, taskRedactor } from '../secrets.js';
import type { Redactor } from '../../core/redact.js';
import { wire } from '../wiring.js';
import { startTelemetry } from '../../telemetry/start-telemetry.js';
import { exitWhenDone } from '../exit-when-done.js';
import { armReaper, killGroupOnAbort } from '../../executors/process/process-group.js';

export interface WorkerCommandOptions {
  readonly redis: string;
  readonly label?: string[];
  readonly concurrency?: number;
  readonly lockMs?: number;
  readonly root?: string;
  /** `--clone <dir>`: this worker's own clone of the run's shared git remote, and its worktrees. */
  readonly clone?: string;
  readonly prefix?: string;
  readonly json?: boolean;
  readonly dir?: string;
}

/**
 * `weft worker --redis …`: takes the tasks `weft run --dispatch` sends and runs them with this
 * machine's executors, until SIGINT or SIGTERM (which lets the running attempts end first).
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  const { projectDir, executors } = wire(opts.dir);
  const json = opts.json === true;
  if (opts.root !== undefined && statSync(opts.root, { throwIfNoEntry: false })?.isDirectory() !== true)
    // Refused now, not as every task's failure (taken for a lost worker and retried).
    throw new WeftError('WEFT_USAGE', `--root ${opts.root}: no such folder`, {
      hint: '--root names the folder tasks may run under; create it, or give one that exists',
    });
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  armReaper(); // a worker killed by SIGKILL takes its tasks' processes with it
  // The same OTEL_* variables as a run's: each attempt's span joins the trace its job carries.
  const telemetry = await startTelemetry(process.env);
  const tracer = telemetry?.workerTracer();
  // Most tasks of a plan share their `env` (often none): their redactor is made once, not per job.
  const redactors = new Map<string, Redactor>();
  // With --clone, the files `workspace.copy` puts in worktrees are this worker's own (<clone>/files/,
  // a `.env`): their secrets are masked like its env's, read as they are now.
  const files = opts.clone === undefined ? undefined : join(resolve(opts.clone), 'files');
  const redactFor = (env: Readonly<Record<string, string>>): Redactor => {
    const copied = files === undefined ? [] : copiedSecrets([files]);
    const key = JSON.stringify([env, copied]);
    let r = redactors.get(key);
    if (r === undefined) {
      if (redactors.size >= 1_000) redactors.clear();
      r = taskRedactor(process.env, env, copied);
      redactors.set(key, r);
    }
    return r;
  };
  const worker = await RedisWorker.start({
    url: opts.redis,
    executors,
    workDir: join(weftDir(projectDir), 'worker'),
    redactFor: (task) => redactFor(task.env),
    ...(opts.label === undefined ? {} : { labels: opts.label }),
    ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
    ...(opts.lockMs === undefined ? {} : { lockMs: opts.lockMs }),
    ...(opts.root === undefined ? {} : { root: opts.root }),
    ...(opts.clone === undefined ? {} : { clone: await cloneFolder(opts.clone) }),
    ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }),
    onNotice: (line) => say(json ? JSON.stringify({ type: 'worker.notice', message: line }) : `weft worker: ${line}`),
    ...(tracer === undefined
      ? {}
      : {
          onAttempt: (job, taken) =>
            tracer.startAttempt({
              runId: job.runId,
              task: job.task.id,
              attempt: job.attempt,
              executor: job.task.executor,
              readyAt: job.readyAt,
              ...taken,
              ...(job.trace === undefined ? {} : { trace: job.trace }),
              redact: redactFor(job.task.env),
            }),
        }),
  }).catch(async (error: unknown) => {
    await telemetry?.shutdown();
    throw error;
  });
  await createWeftDir(projectDir); // its attempts' logs go there: kept out of git, as a run's
  say(json ? JSON.stringify({ type: 'worker.started', worker: worker.ad }) : describe(worker.ad));
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      say(json ? JSON.stringify({ type: 'worker.stopping' }) : 'weft worker: stopping — letting running attempts end');
      process.once('SIGINT', () => process.exit(EXIT.interrupted));
      process.once('SIGTERM', () => process.exit(EXIT.interrupted));
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await worker.close();
  // The spans of the last attempts; a collector that is down is not waited out.
  if ((await telemetry?.shutdown()) === 'gave up') exitWhenDone();
  return EXIT.ok;
}

/**
 * The worker's own clone folder (`--clone`), made when missing.
 * @throws WeftError (`WEFT_USAGE`) when it cannot be
 */
async function cloneFolder(dir: string): Promise<CloneWorktrees> {
  const { WorkerClone } = await import('../../workspace/worker-clone.js');
  try {
    return new WorkerClone(dir, killGroupOnAbort);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new WeftError('WEFT_USAGE', `--clone: cannot use ${dir} as the worker's clone folder (${why})`, {
      cause: error,
    });
  }
}

/** The worker's first line: what it runs, with which labels and keys, and what it cannot run and why. */
function describe(ad: WorkerAd): string {
  const keys = Object.entries(ad.keys)
    .filter(([, set]) => set)
    .map(([k]) => k);
  const lines = [
    `weft worker ${ad.id}: runs ${ad.executors.join(', ') || 'nothing'}` +
      `${ad.labels.length === 0 ? '' : `; labels ${ad.labels.join(', ')}`}` +
      `${keys.length === 0 ? '' : `; keys set: ${keys.join(', ')}`}; ${ad.concurrency} at once per queue` +
      `${ad.clone === true ? '; tasks in worktrees run in its own clone' : ''}`,
    ...Object.entries(ad.unavailable).map(([name, why]) => `  not ${name}: ${why}`),
  ];
  return lines.join('\n');
}

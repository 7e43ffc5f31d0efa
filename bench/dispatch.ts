import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { BUILD, ensureBuilt } from './built.js';
import type { Bench, BenchOutcome, SummaryRow } from './types.js';
import type * as Engine from '../src/core/run/engine.js';
import type * as Compile from '../src/core/plan/compile.js';
import type * as Dispatch from '../src/dispatch/index.js';
import type { Executor } from '../src/core/ports/executor.js';
import type { EngineNotice } from '../src/core/run/engine.js';

/** Tasks per measured run; WEFT_BENCH_DISPATCH_TASKS overrides. */
const TASKS = Number(process.env.WEFT_BENCH_DISPATCH_TASKS ?? 20_000);
const WORKERS = 4;
/** Attempts each worker process runs at once. */
const CONCURRENCY = Number(process.env.WEFT_BENCH_DISPATCH_CONCURRENCY ?? 100);
/** The engine's M: attempts in flight at once across the workers. */
const M = WORKERS * CONCURRENCY;
const REDIS = process.env.WEFT_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const TARGET = 5_000;
/** Another build to measure (a copy of dist/ before a change), for before/after figures on the same machine. */
const DIST = process.env.WEFT_BENCH_DISPATCH_FROM ?? BUILD;

interface Figures {
  readonly tasksPerSecond: number;
  /** CPU time per task, µs: the coordinator's, the workers' together, and Redis's (a shared Redis counts others' too). */
  readonly cpuUsPerTask?: { readonly coordinator: number; readonly workers: number; readonly redis: number };
  /** 2 cores ÷ all that CPU per task: the rate on this machine were it otherwise idle. */
  readonly idleMachineEstimate?: number;
  readonly seconds: number;
  /** task.ready → the worker (or local executor) starting it, ms. */
  readonly readyToStartedP50: number;
  readonly readyToStartedP99: number;
  /** task.started (the coordinator hands it to the dispatcher) → the worker starting it, ms. */
  readonly dispatchedToStartedP50: number;
  readonly dispatchedToStartedP99: number;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** CPU time so far, µs: this process, the workers, Redis. */
interface Cpu {
  readonly coordinator: number;
  readonly workers: number;
  readonly redis: number;
}

async function measure(run: () => Promise<{ events: EngineNotice[] }>, cpu?: () => Promise<Cpu>): Promise<Figures> {
  const before = await cpu?.();
  const t0 = performance.now();
  const { events } = await run();
  const seconds = (performance.now() - t0) / 1000;
  const after = await cpu?.();
  const ready = new Map<string, number>();
  const started = new Map<string, number>();
  const readyToStarted: number[] = [];
  const dispatchedToStarted: number[] = [];
  for (const e of events) {
    if (e.type === 'task.ready') ready.set(e.task, e.at);
    else if (e.type === 'task.started') started.set(e.task, e.at);
    else if (e.type === 'task.succeeded') {
      const at = e.processStartedAt ?? e.at;
      readyToStarted.push(at - (ready.get(e.task) ?? at));
      dispatchedToStarted.push(at - (started.get(e.task) ?? at));
    }
  }
  const per = (k: keyof Cpu): number => Math.round(((after?.[k] ?? 0) - (before?.[k] ?? 0)) / TASKS);
  const cpuUsPerTask =
    before === undefined
      ? undefined
      : { coordinator: per('coordinator'), workers: per('workers'), redis: per('redis') };
  const total = cpuUsPerTask === undefined ? 0 : cpuUsPerTask.coordinator + cpuUsPerTask.workers + cpuUsPerTask.redis;
  return {
    ...(cpuUsPerTask === undefined ? {} : { cpuUsPerTask, idleMachineEstimate: Math.round((2 * 1e6) / total) }),
    tasksPerSecond: Math.round(TASKS / seconds),
    seconds: Number(seconds.toFixed(2)),
    readyToStartedP50: pct(readyToStarted, 50),
    readyToStartedP99: pct(readyToStarted, 99),
    dispatchedToStartedP50: pct(dispatchedToStarted, 50),
    dispatchedToStartedP99: pct(dispatchedToStarted, 99),
  };
}

function startWorker(prefix: string, workDir: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./dispatch-worker.mjs', import.meta.url));
  // WEFT_BENCH_DISPATCH_PROFILE=<dir>: each worker writes a .cpuprofile there (bench/cpu-profile.ts reads it).
  const profile = process.env.WEFT_BENCH_DISPATCH_PROFILE;
  const node = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawn(process.execPath, [...node, script, DIST, REDIS, prefix, String(CONCURRENCY), workDir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`bench worker exited (${code})`)));
  });
}

/**
 * No-op tasks through real Redis and 4 worker processes (BullMQ), against the same plan run by the
 * local engine in the same process: tasks per second and ready→started latency.
 */
export const dispatch: Bench = {
  name: 'dispatch',
  summary: `${TASKS} independent no-op tasks through Redis on ${WORKERS} worker processes, and locally`,
  async run(): Promise<BenchOutcome> {
    const build = process.env.WEFT_BENCH_DISPATCH_FROM === undefined ? ensureBuilt() : `the build in ${DIST}`;
    const from = pathToFileURL(`${DIST}/`);
    const { runPlan } = (await import(new URL('core/run/engine.js', from).href)) as typeof Engine;
    const { compilePlan } = (await import(new URL('core/plan/compile.js', from).href)) as typeof Compile;
    const { RedisDispatcher } = (await import(new URL('dispatch/index.js', from).href)) as typeof Dispatch;
    const noop: Executor = {
      name: 'fn',
      version: '1',
      info: { requires: 'fn' },
      run: () => Promise.resolve({ ok: true, result: {} }),
    };
    const local = new Map([['fn', noop]]);
    const spec = {
      name: 'noop',
      workers: M,
      tasks: Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, executor: 'fn' })),
    };
    const plan = compilePlan(spec, { executors: new Map([['fn', noop.info]]) });
    const once = async (executors: Map<string, Executor>) => {
      const events: EngineNotice[] = [];
      await runPlan({
        runId: `bench-${randomBytes(3).toString('hex')}`,
        plan,
        executors,
        baseDir: tmpdir(),
        workers: M,
        onEvent: (e) => void events.push(e),
      });
      return { events };
    };
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const workDir = mkdtempSync(join(tmpdir(), 'weft-bench-worker-'));
    const workers = await Promise.all(Array.from({ length: WORKERS }, () => startWorker(prefix, workDir)));
    const dispatcher = await RedisDispatcher.open({ url: REDIS, prefix, keepSeconds: 600 });
    const probe = new Redis(REDIS);
    let remote: Figures;
    let localFigures: Figures;
    try {
      const remoteExecutors = dispatcher.executors(local);
      await measure(() => once(remoteExecutors)); // warm-up: queues made, workers listening, JIT
      const redisCpu = async (): Promise<number> => {
        const info = await probe.info('cpu');
        const f = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
        return (f('used_cpu_sys') + f('used_cpu_user')) * 1e6;
      };
      const workerCpu = (w: ChildProcess): Promise<number> =>
        new Promise((resolve) => {
          w.once('message', (m) => resolve(Number(m)));
          w.send('cpu');
        });
      const cpu = async (): Promise<Cpu> => {
        const { user, system } = process.cpuUsage();
        const ws = await Promise.all(workers.map(workerCpu));
        return { coordinator: user + system, workers: ws.reduce((a, b) => a + b, 0), redis: await redisCpu() };
      };
      remote = await measure(() => once(remoteExecutors), cpu);
      localFigures = await measure(() => once(local));
    } finally {
      await dispatcher.close();
      probe.disconnect();
      for (const w of workers) w.kill('SIGTERM');
    }
    const rows: SummaryRow[] = [
      {
        figure: 'redis, 4 workers: tasks/s',
        value: String(remote.tasksPerSecond),
        target: `≥ ${TARGET}`,
        pass: remote.tasksPerSecond >= TARGET,
      },
      {
        figure: 'redis: ready→started p50 / p99 ms',
        value: `${remote.readyToStartedP50} / ${remote.readyToStartedP99}`,
      },
      {
        figure: 'redis: dispatched→started p50 / p99 ms',
        value: `${remote.dispatchedToStartedP50} / ${remote.dispatchedToStartedP99}`,
      },
      {
        figure: 'redis: CPU µs/task coord / workers / redis',
        value: `${remote.cpuUsPerTask?.coordinator} / ${remote.cpuUsPerTask?.workers} / ${remote.cpuUsPerTask?.redis}`,
      },
      { figure: 'redis: tasks/s were 2 cores idle (est.)', value: String(remote.idleMachineEstimate) },
      { figure: 'local: tasks/s', value: String(localFigures.tasksPerSecond) },
      {
        figure: 'local: ready→started p50 / p99 ms',
        value: `${localFigures.readyToStartedP50} / ${localFigures.readyToStartedP99}`,
      },
    ];
    const text = [
      `Dispatch: ${TASKS} independent no-op tasks (an in-worker no-op executor \`fn\`: no process spawned), M=${M};`,
      `${WORKERS} worker processes × concurrency ${CONCURRENCY} on ${REDIS}; ${build}; ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      `  redis  ${remote.tasksPerSecond} tasks/s (${remote.seconds}s); ready→started p50 ${remote.readyToStartedP50} ms, p99 ${remote.readyToStartedP99} ms; dispatched→started p50 ${remote.dispatchedToStartedP50} ms, p99 ${remote.dispatchedToStartedP99} ms`,
      `         CPU per task: coordinator ${remote.cpuUsPerTask?.coordinator} µs, workers ${remote.cpuUsPerTask?.workers} µs, Redis ${remote.cpuUsPerTask?.redis} µs (shared: others' use counts) → ≈ ${remote.idleMachineEstimate} tasks/s were the 2 cores idle`,
      `  local  ${localFigures.tasksPerSecond} tasks/s (${localFigures.seconds}s); ready→started p50 ${localFigures.readyToStartedP50} ms, p99 ${localFigures.readyToStartedP99} ms`,
    ].join('\n');
    return {
      text,
      summary: rows,
      results: { tasks: TASKS, workers: WORKERS, concurrency: CONCURRENCY, m: M, redis: remote, local: localFigures },
      ok: remote.tasksPerSecond >= TARGET,
    };
  },
};

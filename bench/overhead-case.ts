/**
 * One case of the engine-overhead bench, in its own process so that its peak RSS is its own:
 *
 *   node --import tsx bench/overhead-case.ts <wide|chain|random> <tasks> [--workers 8] [--latency] [--gates] [--from dist|src|<dir>] [--profile <prefix>]
 *
 * Compiles a plan of no-op tasks with `compilePlan` and runs it with `runPlan` (the real Scheduler
 * and dispatcher, the system clock, no journal), then prints one JSON line ({@link CaseFigures}).
 * `--gates` makes each task the gate `cli-large` runs through the CLI (`gatePlanText`: it passes
 * once the first task it needs succeeded) instead of a no-op: the same plan in-process, so the
 * CLI's own cost can be told from the cost of the gates' conditions.
 * `--latency` also times every event in `onEvent` and every executor call, for the
 * dependency-to-dependent latency; it is a separate run so those timestamps do not slow the
 * throughput figures.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type * as Engine from '../src/core/run/engine.js';
import type { Executor } from '../src/core/ports/executor.js';
import type * as Validate from '../src/core/plan/compile.js';
import { ensureBuilt } from './built.js';
import { dagDeps, dagTasks, type Shape } from './random-dag.js';

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
}

export interface CaseFigures {
  readonly shape: Shape;
  readonly tasks: number;
  readonly edges: number;
  readonly workers: number;
  /** `compilePlan` on the plan object (schema, checks, graph), ms. */
  readonly compileMs: number;
  /** `runPlan` until it resolves, ms. */
  readonly runMs: number;
  readonly endToEndMs: number;
  /** tasks ÷ run time. */
  readonly tasksPerSecond: number;
  /**
   * CPU time (user + system, all threads) of compile and run, ms: what the phases cost on an idle
   * machine, less swayed than wall time when other work shares the cores.
   */
  readonly compileCpuMs: number;
  readonly runCpuMs: number;
  /** RSS high-water mark of the process (`resourceUsage().maxRSS`), MB; and after the imports alone. */
  readonly peakRssMb: number;
  readonly baseRssMb: number;
  /** Latency mode only, µs. */
  readonly latency?: {
    /** Every edge: the dependency's `task.succeeded` to the dependent's `task.started`, both timed in `onEvent`. */
    readonly eventEdge: Percentiles;
    /** The releasing edge of each task (its last dependency to succeed), same timestamps. */
    readonly eventRelease: Percentiles;
    /** Every edge: the dependency's `run()` returning to the dependent's `run()` being called. */
    readonly executorEdge: Percentiles;
    /** The releasing edge, executor timestamps: what dispatch really costs between dependent tasks. */
    readonly executorRelease: Percentiles;
  };
}

const mb = (kb: number): number => kb / 1024;

function percentiles(values: Float64Array): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN, n: sorted.length };
}

/** Per edge and per releasing edge, dependent start − dependency end, in µs. */
function edgeLatencies(
  deps: readonly (readonly number[])[],
  end: Float64Array,
  start: Float64Array,
): { edge: Percentiles; release: Percentiles } {
  const edges: number[] = [];
  const release: number[] = [];
  deps.forEach((ds, i) => {
    let last = -Infinity;
    for (const d of ds) {
      edges.push((start[i]! - end[d]!) * 1000);
      last = Math.max(last, end[d]!);
    }
    if (ds.length > 0) release.push((start[i]! - last) * 1000);
  });
  return { edge: percentiles(Float64Array.from(edges)), release: percentiles(Float64Array.from(release)) };
}

/** Profiles a phase into `<profile>-<phase>.cpuprofile` when `--profile <prefix>` is given. */
async function phase<T>(name: string, work: () => T | Promise<T>): Promise<T> {
  if (values.profile === undefined) return work();
  const { profiled } = await import('./cpu-profile.js');
  return profiled(`${values.profile}-${name}.cpuprofile`, async () => work());
}

async function runCase(
  shape: Shape,
  tasks: number,
  workers: number,
  latency: boolean,
  gates: boolean,
): Promise<CaseFigures> {
  const baseRssMb = mb(process.resourceUsage().maxRSS);
  const deps = dagDeps(shape, tasks);
  // Each task a plain literal, as a parsed plan file's are: built by spreading (`{ ...t, executor }`),
  // the schema's parse of 100k tasks took 1.45 s instead of 0.33 s (V8 reads the ~100 absent
  // optional fields of such objects slowly), a cost of how the bench built its plan, not of weft.
  const spec = {
    name: `overhead-${shape}`,
    workers,
    tasks: dagTasks(deps).map((t) =>
      gates
        ? { id: t.id, needs: t.needs, gate: t.needs[0] === undefined ? '1 == 1' : `tasks.${t.needs[0]}.succeeded` }
        : { id: t.id, needs: t.needs, executor: 'noop' },
    ),
  };

  const exStart = latency ? new Float64Array(tasks) : undefined;
  const exEnd = latency ? new Float64Array(tasks) : undefined;
  const evStarted = latency ? new Float64Array(tasks) : undefined;
  const evSucceeded = latency ? new Float64Array(tasks) : undefined;
  const noop: Executor = {
    name: 'noop',
    version: '1',
    info: { requires: 'fn' },
    run:
      exStart === undefined || exEnd === undefined
        ? async () => ({ ok: true, result: {} })
        : async (ctx) => {
            const i = index.get(ctx.task.id) as number;
            exStart[i] = performance.now();
            exEnd[i] = performance.now();
            return { ok: true, result: {} };
          },
  };

  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const c0 = cpu();
  const t0 = performance.now();
  const plan = await phase('compile', () => compilePlan(spec, { executors: new Map([['noop', noop.info]]) }));
  const t1 = performance.now();
  const c1 = cpu();
  const index = plan.graph.index;
  const onEvent =
    evStarted === undefined || evSucceeded === undefined
      ? undefined
      : (e: Engine.EngineNotice): void => {
          if (e.type === 'task.started') evStarted[index.get(e.task) as number] = performance.now();
          else if (e.type === 'task.succeeded') evSucceeded[index.get(e.task) as number] = performance.now();
        };
  const outcome = await phase('run', () =>
    runPlan({
      runId: 'overhead',
      plan,
      executors: new Map([['noop', noop]]),
      baseDir: process.cwd(),
      ...(onEvent === undefined ? {} : { onEvent }),
    }),
  );
  const t2 = performance.now();
  const c2 = cpu();
  if (outcome.status !== 'succeeded') throw new Error(`overhead ${shape} ${tasks}: run ${outcome.status}`);

  const graphDeps = plan.graph.deps;
  const figures: CaseFigures = {
    shape,
    tasks,
    edges: graphDeps.reduce((s, d) => s + d.length, 0),
    workers,
    compileMs: t1 - t0,
    runMs: t2 - t1,
    endToEndMs: t2 - t0,
    tasksPerSecond: (tasks / (t2 - t1)) * 1000,
    compileCpuMs: c1 - c0,
    runCpuMs: c2 - c1,
    peakRssMb: mb(process.resourceUsage().maxRSS),
    baseRssMb,
  };
  if (exStart === undefined || exEnd === undefined || evStarted === undefined || evSucceeded === undefined)
    return figures;
  const event = edgeLatencies(graphDeps, evSucceeded, evStarted);
  const executor = edgeLatencies(graphDeps, exEnd, exStart);
  return {
    ...figures,
    latency: {
      eventEdge: event.edge,
      eventRelease: event.release,
      executorEdge: executor.edge,
      executorRelease: executor.release,
    },
  };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string', default: '8' },
    latency: { type: 'boolean', default: false },
    gates: { type: 'boolean', default: false },
    profile: { type: 'string' },
    from: { type: 'string', default: 'dist' },
  },
});
// tsc's output is what users run (`--from dist`: the benches' build of src/, see bench/built.ts);
// tsx's transform wraps every closure in `__name()`, which costs the engine's per-task closures
// several percent. `--from src` for a quick look, or `--from <dir>` for an A/B run against another
// build (a copy of the build with a fix in it).
// Run by hand, the case builds src/ first when it has to (the bench has done so already).
if (values.from === 'dist') ensureBuilt();
const from =
  values.from === 'dist'
    ? new URL('./.build/dist/', import.meta.url)
    : values.from === 'src'
      ? new URL('../src/', import.meta.url)
      : pathToFileURL(`${resolve(values.from)}/`);
const { runPlan } = (await import(new URL('core/run/engine.js', from).href)) as typeof Engine;
const { compilePlan } = (await import(new URL('core/plan/compile.js', from).href)) as typeof Validate;
const [shape, count] = positionals;
if (shape !== 'wide' && shape !== 'chain' && shape !== 'random')
  throw new Error(`expected a shape wide | chain | random, got ${JSON.stringify(shape)}`);
const figures = await runCase(
  shape,
  Number(count ?? 10_000),
  Number(values.workers),
  values.latency === true,
  values.gates === true,
);
process.stdout.write(`${JSON.stringify(figures)}\n`);

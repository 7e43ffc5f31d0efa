import { stripControl } from '../../core/control-stripper.js';
import { count } from '../format.js';
import { chainLine } from '../../core/run/critical-path.js';
import { formatDuration } from '../../core/plan/duration.js';
import { estimate, longestChain, type EstimateFigures } from '../../core/schedule/simulate.js';
import { catalogOf } from '../../executors/index.js';
import { wire } from '../wiring.js';
import { loadPlanFile, parsePlanText, readPlanText } from '../../plan/load-plan.js';
import { importPlan, IMPORT_FORMATS, type ImportFormat } from '../../plan/import/index.js';
import { dispatchOrder } from '../../core/schedule/dispatch-order.js';
import { staticGate } from '../../core/run/policies/when.js';
import { compilePlan } from '../../core/plan/compile.js';
import { iterationMs } from '../../core/plan/loop-check.js';
import { WeftError } from '../../core/errors.js';
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { hasJournal, openJournal } from '../journal.js';
import { withHistory } from '../history.js';
import type { LearnedDuration } from '../../core/plan/learned-duration.js';
import { learnedJson, learnedLines } from '../learned-lines.js';
import type { CompiledPlan } from '../../core/plan/compile.js';
import { EXIT } from '../exit-codes.js';

export interface EstimateCommandOptions {
  readonly jobs?: number;
  /** Read the file as a task graph in another format: an STG file or a WfCommons trace. */
  readonly format?: string;
  readonly sweep?: [number, number];
  readonly json?: boolean;
  readonly set?: Record<string, string>;
  readonly dir?: string;
  /** `--no-history`: the plan's estimates only, not durations measured in earlier runs. */
  readonly history?: boolean;
  /** Durations learned from earlier runs in place of estimates, by task id (each is printed, marked). */
  readonly learned?: ReadonlyMap<string, LearnedDuration>;
}

const sec = (ms: number): number => Math.round(ms) / 1000;

/**
 * Above this many tasks, "smallest M within 5% of the best" compares the M asked for (simulated)
 * with the lower bound max(critical path, work ÷ M) of the others: simulating a 100,000-task plan
 * for 64 values of M takes a minute (~0.7 s each), a list schedule of such a plan is within a few
 * percent of its bound, and `--sweep` still simulates every M asked for.
 */
export const SIMULATED_BEST_M_TASKS = 2_000;

function figuresJson(f: EstimateFigures): Record<string, number> {
  return {
    workers: f.workers,
    makespan: sec(f.makespan),
    sequential: sec(f.sequential),
    criticalPath: sec(f.criticalPath),
    lowerBound: sec(f.lowerBound),
    speedup: Math.round(f.speedup * 1000) / 1000,
  };
}

/**
 * Without --format: an `.stg` file is an STG graph, a JSON file with a `workflow` object a WfCommons
 * trace, anything else a plan. `text`: a JSON file's text, read once for this and the plan loader.
 */
function guessFormat(file: string, text: string | undefined): string {
  if (extname(file).toLowerCase() === '.stg') return 'stg';
  if (text === undefined) return 'plan';
  try {
    // A plan rarely names "workflow": only then is the whole file parsed here (twice for a large plan is slow).
    if (!/"workflow"\s*:/.test(text)) return 'plan';
    const doc = JSON.parse(text) as unknown;
    return typeof doc === 'object' &&
      doc !== null &&
      !Array.isArray(doc) &&
      typeof (doc as { workflow?: unknown }).workflow === 'object'
      ? 'wfcommons'
      : 'plan';
  } catch {
    return 'plan'; // the plan loader says what is wrong with it
  }
}

export async function estimateCommand(file: string, opts: EstimateCommandOptions): Promise<number> {
  const { projectDir, config, executors: all } = wire(opts.dir);
  const executors = catalogOf(all);
  const vars = opts.set === undefined ? {} : { vars: opts.set };
  // A JSON file is read once: to tell a WfCommons trace from a plan, and as the plan.
  const json = opts.format === undefined && extname(file).toLowerCase() === '.json' ? readPlanText(file) : undefined;
  const format = opts.format ?? guessFormat(file, json);
  if (format === 'plan') {
    const loaded =
      json === undefined
        ? loadPlanFile(file, { executors, ...vars })
        : { file: resolve(file), compiled: parsePlanText(json, file, { executors, ...vars }, dirname(resolve(file))) };
    // With no journal there is nothing learned: no history keys to work out for every task.
    if (opts.history === false || !hasJournal(projectDir, config)) return printEstimate(loaded.compiled, opts);
    const store = await openJournal(projectDir, config);
    try {
      const scope = { projectDir, planFile: loaded.file, baseDir: dirname(loaded.file) };
      const options = { executors, file: loaded.file, vars: loaded.compiled.vars };
      const { compiled, learned } = await withHistory(store, scope, loaded.compiled, options);
      return printEstimate(compiled, { ...opts, learned });
    } finally {
      await store.close();
    }
  }
  if (!(IMPORT_FORMATS as readonly string[]).includes(format))
    throw new WeftError('WEFT_USAGE', `--format expects plan, ${IMPORT_FORMATS.join(' or ')}, got "${format}"`, {
      hint: 'e.g. --format stg, or leave --format out to go by the file: an .stg file, a WfCommons trace (.json), else a plan',
    });
  // Only a plan declares vars: an imported graph has none, so `declare it under vars:` would be no fix.
  if (opts.set !== undefined) {
    const what = format === 'stg' ? 'an STG file' : 'a WfCommons trace';
    throw new WeftError('WEFT_USAGE', `--set does not apply to ${file}: ${what} has no variables`, {
      hint: 'leave --set out: only a weft plan (YAML or JSON) declares variables, under vars:',
    });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new WeftError('WEFT_PLAN_NOT_FOUND', `${file}: no such file`, { cause: error });
  }
  const spec = importPlan(text, format as ImportFormat, file);
  return printEstimate(compilePlan(spec, { executors, file }), opts);
}

/** What the estimate takes for granted about gates, approvals and a loop (it cannot know what they decide). */
function assumed(compiled: CompiledPlan): { assumes?: string[] } {
  const tasks = compiled.graph.tasks;
  const gates = tasks.filter((t) => t.gate !== undefined).map((t) => t.id);
  const approvals = tasks.filter((t) => t.approval === 'required').map((t) => t.id);
  const loop = compiled.loop;
  const assumes = [
    ...(gates.length === 0 ? [] : [`gates pass at once (${gates.join(', ')})`]),
    ...(approvals.length === 0 ? [] : [`approvals are given at once (${approvals.join(', ')})`]),
    ...(loop === undefined
      ? []
      : [
          `the loop passes in its first iteration; each further one adds about ${formatDuration(iterationMs(loop, compiled.graph))} (its tasks' critical path), up to ${loop.max - 1} more (max ${loop.max})`,
        ]),
  ];
  return assumes.length === 0 ? {} : { assumes };
}

/** A plan's estimate on a virtual clock for each M asked about, and the best M: what both outputs show. */
interface EstimateRows {
  readonly rows: readonly EstimateRow[];
  readonly first: EstimateRow;
  readonly best: number;
  readonly smallest: { readonly workers: number } | undefined;
  readonly criticalPath: string[];
  /** Whether the best M was found by the lower bound rather than simulated (a large plan). */
  readonly bounded: boolean;
}

/** The ids of the tasks at `indices` of `graph`. */
function idsOf(graph: CompiledPlan['graph'], indices: readonly number[]): string[] {
  return indices.map((i) => graph.tasks[i]?.id ?? '?');
}

/** One M's figures, its schedule, and the ids of the tasks its conditions skip. */
type EstimateRow = ReturnType<typeof estimate> & { skipped: string[] };

function estimateRows(compiled: CompiledPlan, opts: EstimateCommandOptions): EstimateRows {
  const { graph } = compiled;
  const gate = staticGate(compiled, process.env);
  const ids = (path: readonly number[]) => idsOf(graph, path);
  const range = opts.sweep ?? [opts.jobs ?? compiled.workers, opts.jobs ?? compiled.workers];
  const rows: EstimateRow[] = [];
  for (let m = range[0]; m <= range[1]; m++) {
    const f = estimate(graph, { workers: m, gate, ...dispatchOrder(compiled, m) });
    rows.push({ ...f, skipped: ids(f.simulation.skipped) });
  }
  // "Best M" looks across every useful M, not just the one asked about: simulated where it can
  // matter when the plan is small enough, by the lower bound otherwise (see SIMULATED_BEST_M_TASKS).
  const first = rows[0] as (typeof rows)[number];
  const bounded = opts.sweep === undefined && graph.tasks.length > SIMULATED_BEST_M_TASKS;
  const bound = (m: number): number => Math.max(first.criticalPath, first.sequential / m);
  const useful = Array.from({ length: Math.min(graph.tasks.length, 64) }, (_, k) => k + 1);
  const found =
    opts.sweep !== undefined
      ? smallestWithin(
          rows.map((r) => r.workers),
          (m) => (rows[m - range[0]] as (typeof rows)[number]).makespan,
        )
      : bounded
        ? smallestWithin(useful, (m) => (m === first.workers ? first.makespan : bound(m)))
        : smallestSimulated(
            useful,
            (m) =>
              m === first.workers
                ? first.makespan
                : estimate(graph, { workers: m, gate, ...dispatchOrder(compiled, m) }).makespan,
            bound,
          );
  const { best } = found;
  const smallest = { workers: found.smallest ?? first.workers };
  // With tasks skipped by conditions, the longest path may run elsewhere than the whole plan's.
  const criticalPath =
    first.simulation.skipped.length === 0
      ? ids(graph.criticalPath)
      : ids(longestChain(graph, graph.duration, new Set(first.simulation.skipped)));
  return { rows, first, best, smallest, criticalPath, bounded };
}

/** "Smallest M within 5% of the best makespan". */
const WITHIN_BEST = 1.05;

interface BestWorkers {
  readonly best: number;
  readonly smallest: number | undefined;
}

/** The best makespan over `ms` and the smallest M within 5% of it, every M's makespan known. */
function smallestWithin(ms: readonly number[], makespan: (m: number) => number): BestWorkers {
  const best = Math.min(...ms.map(makespan));
  return { best, smallest: ms.find((m) => makespan(m) <= best * WITHIN_BEST) };
}

/**
 * {@link smallestWithin} where each makespan costs a simulation, simulating only the M that can
 * matter. `bound(m)` never exceeds M's makespan and never rises with M (max(critical path,
 * work ÷ M)): the best is looked for from the largest M down until the bound reaches the best
 * found (no smaller M can beat it), then the smallest M within 5% of it from 1 up, skipping the M
 * whose bound is already too long. The same answer as simulating every M.
 */
export function smallestSimulated(
  ms: readonly number[],
  makespan: (m: number) => number,
  bound: (m: number) => number,
): BestWorkers {
  const known = new Map<number, number>();
  const at = (m: number): number => {
    let value = known.get(m);
    if (value === undefined) known.set(m, (value = makespan(m)));
    return value;
  };
  let best = Infinity;
  for (let k = ms.length - 1; k >= 0 && bound(ms[k] as number) < best; k--) best = Math.min(best, at(ms[k] as number));
  return { best, smallest: ms.find((m) => bound(m) <= best * WITHIN_BEST && at(m) <= best * WITHIN_BEST) };
}

/**
 * What `weft estimate --json` prints (seconds): the predicted makespan on M workers (or a sweep of
 * M), the order tasks start in, the critical path, the smallest M within 5% of the best makespan.
 */
export function estimateJson(compiled: CompiledPlan, opts: EstimateCommandOptions): Record<string, unknown> {
  const { graph } = compiled;
  const { rows, first, smallest, criticalPath, bounded } = estimateRows(compiled, opts);
  const base = opts.sweep === undefined ? figuresJson(first) : { sweep: rows.map(figuresJson) };
  const learned = learnedJson(
    graph.tasks.map((t) => t.id),
    opts.learned ?? new Map(),
  );
  const head = { plan: compiled.name, tasks: graph.tasks.length, measured: learned.length > 0, learned };
  // The order tasks start in on the virtual clock: a run starts them so while all goes as estimated.
  const order = {
    order: idsOf(
      graph,
      first.simulation.schedule.map((s) => s.task),
    ),
  };
  const tail = {
    criticalPathTasks: criticalPath,
    skipped: first.skipped,
    bestWorkers: smallest?.workers,
    bestWorkersBy: bounded ? 'lower bound' : 'simulation',
    ...assumed(compiled),
  };
  return { ...head, ...order, ...base, ...tail };
}

export function printEstimate(compiled: CompiledPlan, opts: EstimateCommandOptions): number {
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(estimateJson(compiled, opts))}\n`);
    return EXIT.ok;
  }
  const { graph } = compiled;
  const { rows, first, best, smallest, criticalPath, bounded } = estimateRows(compiled, opts);
  const out: string[] = [
    `${stripControl(compiled.name)}: ${count(graph.tasks.length, 'task')}${first.skipped.length > 0 ? ` (${first.skipped.length} skipped by conditions: ${first.skipped.join(', ')})` : ''}`,
  ];
  if (opts.sweep === undefined) {
    out.push(
      `  predicted makespan  ${formatDuration(first.makespan)} on ${first.workers} worker${first.workers === 1 ? '' : 's'}`,
      `  sequential          ${formatDuration(first.sequential)}`,
      `  speed-up            ${first.speedup.toFixed(2)}×`,
      `  critical path       ${formatDuration(first.criticalPath)}: ${chainLine(criticalPath)}`,
      `  lower bound         ${formatDuration(first.lowerBound)} = max(critical path, work ÷ ${first.workers})`,
    );
  } else {
    out.push('   M   makespan   speed-up   efficiency');
    for (const r of rows)
      out.push(
        `  ${String(r.workers).padStart(2)}   ${formatDuration(r.makespan).padStart(8)}   ${`${r.speedup.toFixed(2)}×`.padStart(8)}   ${`${((r.speedup / r.workers) * 100).toFixed(0)}%`.padStart(10)}`,
      );
    out.push(
      `  sequential ${formatDuration(first.sequential)}, critical path ${formatDuration(first.criticalPath)}: ${chainLine(criticalPath)}`,
    );
  }
  out.push(
    bounded
      ? `  smallest M within 5% of the best makespan (${formatDuration(best)}): ${smallest?.workers} (M other than ${first.workers} by the lower bound: ${graph.tasks.length} tasks are too many to simulate 64 times)`
      : `  smallest M within 5% of the best makespan (${formatDuration(best)}): ${smallest?.workers}`,
  );
  const { assumes } = assumed(compiled);
  if (assumes !== undefined) out.push(`  assumes             ${assumes.join('; ')}`);
  out.push(
    ...learnedLines(
      graph.tasks.map((t) => t.id),
      opts.learned ?? new Map(),
    ),
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}

import { parseCondition, referencedTasks } from '../core/plan/condition.js';
import type { RunEvent } from '../core/run/events.js';
import { summarize, type RunSummary, dependencyMap } from '../core/run/metrics.js';
import { foldRun, type RunState } from '../core/run/run-state.js';
import { contractRefsOf } from '../core/run/contract-verdicts.js';

/** A task as the plan declared it (or as a `plan.expanded` event added it). */
export interface ReportTask {
  readonly id: string;
  /** The task's title, or its id when it has none. */
  readonly title: string;
  readonly needs: readonly string[];
  readonly after: readonly string[];
  /** @default 'shell' when the task has a `run` command; 'unknown' for a task only the journal knows. */
  readonly executor: string;
}

/** The last lines of one task's latest attempt logs. */
export interface LogTail {
  readonly attempt: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything the renderers need; they read nothing else. */
export interface ReportInput {
  readonly summary: RunSummary;
  readonly state: RunState;
  /** Plan tasks in declaration order, expansions appended, then any task only the journal names. */
  readonly tasks: readonly ReportTask[];
  /** By task id: the tail of its latest attempt's stdout and stderr. */
  readonly logTails: Readonly<Record<string, LogTail>>;
  /** When the report was made, ms since the epoch. */
  readonly generatedAt: number;
}

export interface BuildReportOptions {
  /** @default Date.now() */
  readonly generatedAt?: number;
  /** The events already folded, when the caller has it: saves a second replay. */
  readonly state?: RunState;
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function taskOf(raw: unknown, defaultExecutor: string | undefined): ReportTask | undefined {
  if (!isObject(raw) || typeof raw.id !== 'string') return undefined;
  const executor =
    typeof raw.gate === 'string'
      ? 'gate'
      : typeof raw.executor === 'string'
        ? raw.executor
        : (defaultExecutor ?? ('fn' in raw ? 'fn' : 'shell'));
  const id = raw.id;
  return {
    id,
    title: typeof raw.title === 'string' && raw.title !== '' ? raw.title : id,
    // What the run waited on, as the compiled graph has it: a check waits for what it verifies, a
    // gate for the tasks its condition reads.
    needs: [...new Set([...strings(raw.needs), ...strings(raw.verifies)])],
    after: [...new Set([...strings(raw.after), ...(typeof raw.gate === 'string' ? gateReads(raw.gate, id) : [])])],
    executor,
  };
}

/** The tasks a gate's condition reads (a condition that does not parse reads none: the plan was checked). */
function gateReads(gate: string, self: string): string[] {
  try {
    return referencedTasks(parseCondition(gate)).filter((t) => t !== self);
  } catch {
    return [];
  }
}

/**
 * The tasks of a plan, from a run folder's `plan.json` (`{ plan: PlanSpec, … }`) or a bare plan
 * (`{ tasks: [...] }`). Anything else yields no tasks: the journal alone still makes a report.
 */
export function planTasksOf(planJson: unknown): ReportTask[] {
  const plan = isObject(planJson) && isObject(planJson.plan) ? planJson.plan : planJson;
  if (!isObject(plan) || !Array.isArray(plan.tasks)) return [];
  const defaults =
    isObject(plan.defaults) && typeof plan.defaults.executor === 'string' ? plan.defaults.executor : undefined;
  const tasks = plan.tasks.flatMap((t) => taskOf(t, defaults) ?? []);
  // A contract's consumers wait for its provider.
  const providers = new Map<string, string[]>();
  for (const c of Array.isArray(plan.contracts) ? plan.contracts : [])
    if (isObject(c) && typeof c.provider === 'string')
      for (const consumer of strings(c.consumers))
        providers.set(consumer, [...(providers.get(consumer) ?? []), c.provider]);
  return providers.size === 0
    ? tasks
    : tasks.map((t) => ({ ...t, needs: [...new Set([...t.needs, ...(providers.get(t.id) ?? [])])] }));
}

/** The plan's defaults.executor, so expanded tasks resolve the way the plan's own tasks do. */
function defaultExecutorOf(planJson: unknown): string | undefined {
  const plan = isObject(planJson) && isObject(planJson.plan) ? planJson.plan : planJson;
  return isObject(plan) && isObject(plan.defaults) && typeof plan.defaults.executor === 'string'
    ? plan.defaults.executor
    : undefined;
}

/** Plan tasks, then tasks added mid-run, then tasks only the journal knows (so nothing is lost). */
export function reportTasks(state: RunState, planJson: unknown): ReportTask[] {
  const tasks = planTasksOf(planJson);
  const seen = new Set(tasks.map((t) => t.id));
  const add = (t: ReportTask | undefined): void => {
    if (t === undefined || seen.has(t.id)) return;
    seen.add(t.id);
    tasks.push(t);
  };
  const defaults = defaultExecutorOf(planJson);
  for (const e of state.expansions) for (const raw of e.tasks) add(taskOf(raw, defaults));
  for (const id of state.tasks.keys()) add({ id, title: id, needs: [], after: [], executor: 'unknown' });
  return tasks;
}

/**
 * Builds a report's input from a run's journal (the Store's events) and `planJson`, the run's
 * plan.json (or a bare plan); `logTails` from `readLogTails`.
 *
 * @example
 * const input = buildReportInput(await store.events(runId), plan, {});
 * writeFileSync('report.html', renderHtml(input));
 */
export function buildReportInput(
  events: Iterable<RunEvent>,
  planJson: unknown,
  logTails: Readonly<Record<string, LogTail>> = {},
  options: BuildReportOptions = {},
): ReportInput {
  const state = options.state ?? foldRun(events);
  const tasks = reportTasks(state, planJson);
  const deps = dependencyMap(tasks);
  const plan = isObject(planJson) && isObject(planJson.plan) ? planJson.plan : planJson;
  const summary = summarize(state, deps, contractRefsOf(plan));
  return { summary, state, tasks, logTails, generatedAt: options.generatedAt ?? Date.now() };
}

import type { Redactor } from '../redact.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { WeftErrorCode } from '../errors.js';
import { checkOption } from '../options.js';
import type { ProgressEvent, RunEvent, RunMode, RunStatus, TaskResultData } from './events.js';
import type { Executor } from '../ports/executor.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { BudgetSpec, PlanSpec } from '../plan/plan-schema.js';
import type { Workspace } from '../ports/workspace.js';
import type { TaskCache } from '../ports/cache.js';
import type { RunState } from './run-state.js';
import type { DispatchPlan } from '../schedule/dispatch-plan.js';
import type { CompiledPlan } from '../plan/compile.js';
import { RunBus } from './run-bus.js';

/** A live-only event: what an executor reports while a task runs. Not journaled. */
export interface ProgressNotice {
  readonly type: 'task.progress';
  readonly at: number;
  readonly task: string;
  readonly attempt: number;
  readonly progress: ProgressEvent;
}

/** What the engine shows live: every journaled event, and progress notices. */
export type EngineNotice = RunEvent | ProgressNotice;

/** How a run ended, and the state it ended in. */
export interface RunOutcome {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly state: RunState;
}

/** What {@link runPlan} runs, and how. Defaults are in {@link ENGINE_DEFAULTS}; each is checked on entry. */
export interface EngineOptions {
  /** The run's id, as journaled. */
  readonly runId: string;
  readonly plan: CompiledPlan;
  /** Executors by name; a task whose executor is missing fails with `WEFT_EXECUTOR`. */
  readonly executors: ReadonlyMap<string, Executor>;
  /** Folder the plan's relative paths resolve against. */
  readonly baseDir: string;
  /** Folder of this run's files (logs); `undefined` keeps nothing on disk. */
  readonly runDir?: string;
  /** Where a task works. @default baseDir */
  readonly workdirFor?: (task: ResolvedTask) => string;
  /** The budget M: a positive integer. @default plan.workers (1 when `mode` is `sequential`) */
  readonly workers?: number;
  /** `sequential`: one task at a time, in declaration order. @default 'parallel' */
  readonly mode?: RunMode;
  /** Stop starting tasks (and cancel running ones) after the first failure. @default false */
  readonly failFast?: boolean;
  /** Ctrl-C: aborting it cancels running tasks and stops the run. */
  readonly signal?: AbortSignal;
  /** Where time comes from (a `VirtualClock` in tests and estimates). @default systemClock */
  readonly clock?: Clock;
  /** Jitter source for retry backoff, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Environment visible to `when` conditions as `env.NAME`. @default {} (no variables) */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Ready-queue priorities (larger first), e.g. from `dispatchOrder`. @default critical path */
  readonly score?: ArrayLike<number>;
  /** A schedule to follow while the run goes as planned (`dispatchOrder`'s); see `DispatchPlan`. */
  readonly dispatchPlan?: DispatchPlan;
  /**
   * Ready-queue priorities from the first task that ends off (or runs past) its estimate on, in
   * place of `score` (`dispatchOrder`'s expected-path order; see `surprise.ts`), made when that
   * first happens. @default `score` throughout
   */
  readonly surpriseScore?: () => ArrayLike<number>;
  /**
   * Durable journal: every batch of events is handed here, and awaited, *before* it takes effect
   * (a task starts only once its `task.started` is stored).
   */
  readonly journal?: (events: readonly RunEvent[]) => void | Promise<void>;
  /** Live view of every event and progress notice (terminal, dashboard). */
  readonly onEvent?: (event: EngineNotice) => void;
  /**
   * The run's event bus: every journaled event is published once it is stored, and every progress
   * notice as it comes (see {@link RunBus}). `onEvent` sees the same, first.
   */
  readonly bus?: RunBus;
  /** State replayed from the journal of an interrupted run: its succeeded tasks are kept. */
  readonly prior?: RunState;
  /** Recorded in `run.created` so a resume can rebuild the run (plan, vars, folders). */
  readonly runOptions?: Readonly<Record<string, unknown>>;
  /** On resume: tasks with `resume: never` that a person checked and wants run again. */
  readonly retryTasks?: ReadonlySet<string>;
  /**
   * With `prior`: attempts still running elsewhere to wait for rather than start again (task id →
   * attempt), e.g. jobs a remote worker still runs for a coordinator that died (see policies/resume.ts).
   */
  readonly adopt?: ReadonlyMap<string, number>;
  /**
   * Checks a successful attempt's result; a returned string is feedback, and the task is sent back
   * to fix it (same session), up to `fixAttempts`. An object also says what failed (`message`, which
   * the task's failure shows once the fixes run out) and its `code`.
   */
  readonly validateResult?: (task: ResolvedTask, result: TaskResultData) => string | ResultRejection | undefined;
  /** Compiles a plan grown by a task with `expands: true`; throws PlanValidationError when it is not valid. */
  readonly recompile?: (spec: PlanSpec) => CompiledPlan;
  /**
   * Masks secrets in text that reaches the journal. A {@link Redactor} (which lists its secrets)
   * is also handed to executors, which mask their log files with it. @default no masking
   */
  readonly redact?: Redactor | ((text: string) => string);
  /** Skips tasks whose inputs did not change (see `isCacheable`); without it nothing is cached. */
  readonly cache?: TaskCache;
  /** Worktrees and the merge queue; without it every task works in `workdirFor(task)`. */
  readonly workspace?: Workspace;
  /** Run budget. @default the plan's `budget` */
  readonly budget?: BudgetSpec;
  /** How long a provider's pool stays narrowed after a rate limit, ms. @default 60000 */
  readonly throttleCooldownMs?: number;
  /** Retries a transient (rate-limit) failure at most this often without counting it. @default 20 */
  readonly maxTransientRetries?: number;
  /**
   * Reads the decisions people made (`weft approve` / `weft reject`) since the last call, for tasks
   * with `approval: required`; asked every {@link approvalPollMs} while a task waits. Without it a
   * waiting task waits until the run is stopped (a decision is then read on resume, from `prior`).
   */
  readonly pollDecisions?: () => Promise<readonly ApprovalDecision[]>;
  /** How often {@link pollDecisions} is asked while a task waits for approval, ms. @default 1000 */
  readonly approvalPollMs?: number;
}

/** A person's decision on a task that waits for approval, as `weft approve` / `weft reject` journal it. */
export type ApprovalDecision = Extract<RunEvent, { readonly type: 'approval.decided' }>;

/** The defaults of {@link EngineOptions} that do not depend on the plan. */
export const ENGINE_DEFAULTS = {
  /** @default 'parallel' */
  mode: 'parallel' as RunMode,
  /** @default false */
  failFast: false,
  /** @default systemClock */
  clock: systemClock as Clock,
  /** @default Math.random */
  random: Math.random as () => number,
  /** @default 60000 (one minute) */
  throttleCooldownMs: 60_000,
  /** @default 20 */
  maxTransientRetries: 20,
  /** @default 1000 (one second) */
  approvalPollMs: 1000,
} as const satisfies Partial<EngineOptions>;

/** {@link EngineOptions} with every default filled in. */
export type ResolvedEngineOptions = EngineOptions & {
  readonly [K in keyof typeof ENGINE_DEFAULTS]-?: NonNullable<EngineOptions[K]>;
} & {
  readonly workers: number;
  readonly budget: BudgetSpec | undefined;
  readonly redact: Redactor | ((text: string) => string);
};

const identity = (text: string): string => text;

/**
 * The options spread over {@link ENGINE_DEFAULTS} and checked at once: a `WeftError`
 * (`WEFT_USAGE`) names the field, what was expected and what came.
 *
 * @throws WeftError when a field has the wrong type or is out of range.
 */
export function resolveEngineOptions(options: EngineOptions): ResolvedEngineOptions {
  check(typeof options === 'object' && options !== null, 'options', 'an object', options);
  const o = { ...ENGINE_DEFAULTS, ...withoutUndefined(options) };
  check(typeof o.runId === 'string' && o.runId !== '', 'runId', 'a non-empty string', o.runId);
  const compiled = typeof o.plan === 'object' && o.plan !== null && typeof o.plan.graph === 'object';
  check(compiled, 'plan', 'a compiled plan (compilePlan)', o.plan);
  check(typeof o.executors?.get === 'function', 'executors', 'a Map of executors by name', o.executors);
  check(typeof o.baseDir === 'string', 'baseDir', 'a folder path', o.baseDir);
  check(o.mode === 'parallel' || o.mode === 'sequential', 'mode', "'parallel' or 'sequential'", o.mode);
  const workers = o.mode === 'sequential' ? 1 : (o.workers ?? o.plan.workers);
  check(Number.isInteger(workers) && workers >= 1, 'workers', 'a positive integer', workers);
  check(typeof o.failFast === 'boolean', 'failFast', 'a boolean', o.failFast);
  check(isNonNegative(o.throttleCooldownMs), 'throttleCooldownMs', 'a non-negative number of ms', o.throttleCooldownMs);
  check(
    o.approvalPollMs > 0 && isNonNegative(o.approvalPollMs),
    'approvalPollMs',
    'a positive number of ms',
    o.approvalPollMs,
  );
  const transient = o.maxTransientRetries;
  check(Number.isInteger(transient) && transient >= 0, 'maxTransientRetries', 'a non-negative integer', transient);
  for (const name of [
    'random',
    'workdirFor',
    'journal',
    'onEvent',
    'validateResult',
    'recompile',
    'pollDecisions',
  ] as const) {
    check(o[name] === undefined || typeof o[name] === 'function', name, 'a function', o[name]);
  }
  check(o.bus === undefined || o.bus instanceof RunBus, 'bus', 'a RunBus', o.bus);
  check(o.signal === undefined || o.signal instanceof AbortSignal, 'signal', 'an AbortSignal', o.signal);
  check(o.runDir === undefined || typeof o.runDir === 'string', 'runDir', 'a folder path', o.runDir);
  check(
    o.surpriseScore === undefined || typeof o.surpriseScore === 'function',
    'surpriseScore',
    'a function',
    o.surpriseScore,
  );
  for (const name of ['env', 'prior', 'runOptions', 'dispatchPlan'] as const) {
    check(o[name] === undefined || isObject(o[name]), name, 'an object', o[name]);
  }
  check(
    o.score === undefined || (isObject(o.score) && typeof o.score.length === 'number'),
    'score',
    'an array of numbers',
    o.score,
  );
  check(o.retryTasks === undefined || o.retryTasks instanceof Set, 'retryTasks', 'a Set of task ids', o.retryTasks);
  check(o.adopt === undefined || o.adopt instanceof Map, 'adopt', 'a Map of task id to attempt', o.adopt);
  const cache = o.cache === undefined || hasMethods(o.cache, ['probe', 'restore', 'save']);
  check(cache, 'cache', 'a TaskCache (probe, restore, save)', o.cache);
  const workspace = o.workspace === undefined || hasMethods(o.workspace, ['prepare', 'integrate', 'release']);
  check(workspace, 'workspace', 'a Workspace (prepare, integrate, release)', o.workspace);
  check(o.redact === undefined || typeof o.redact === 'function', 'redact', 'a function or a Redactor', o.redact);
  const clock = typeof o.clock?.now === 'function' && typeof o.clock.setTimeout === 'function';
  check(clock, 'clock', 'a Clock (now, setTimeout, clearTimeout, defer)', o.clock);
  const budget = o.budget ?? o.plan.spec.budget;
  if (budget !== undefined) {
    check(budget.usd === undefined || isNonNegative(budget.usd), 'budget.usd', 'a non-negative number', budget.usd);
    const tokens = budget.tokens;
    check(tokens === undefined || isNonNegative(tokens), 'budget.tokens', 'a non-negative number', tokens);
  }
  return { ...o, workers, budget, redact: o.redact ?? identity };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return isObject(value) && names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');
}

function isNonNegative(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}

/** Fields given as `undefined` take their default, as if not given (`{ workers: undefined }`). */
function withoutUndefined<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}

function check(ok: boolean, field: string, expected: string, got: unknown): asserts ok {
  checkOption('runPlan', ok, field, expected, got, 'runPlan/runWeft');
}

/** Why `validateResult` sent a successful attempt back: what failed, and what the task is told. */
export interface ResultRejection {
  readonly message: string;
  readonly feedback: string;
  /** @default 'WEFT_RESULT_INVALID' */
  readonly code?: WeftErrorCode;
}

/** One function handing a notice to `onEvent`, then to the bus; `undefined` when neither listens. */
export function announcer(
  onEvent: ((event: EngineNotice) => void) | undefined,
  bus: RunBus | undefined,
): ((event: EngineNotice) => void) | undefined {
  if (bus === undefined) return onEvent;
  if (onEvent === undefined) return (e) => bus.publish(e);
  return (e) => {
    onEvent(e);
    bus.publish(e);
  };
}

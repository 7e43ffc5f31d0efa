import type { ConditionTask } from './condition-check.js';
import { controlFields } from './compile-control.js';
import { PlanValidationError } from '../errors.js';
import { tryBuildGraph, type Graph, type Pool, type ResolvedTask } from './graph.js';
import { DEFAULT_PRIORITY_CLASS, type BackoffSpec, type PlanSpec, type TaskSpec } from './plan-schema.js';
import { formatDuration } from './duration.js';
import { issueAt, schemaIssues, type RawIssue } from './schema-issues.js';
import { parsePlan } from './plan-parse.js';
import { closest } from '../suggest.js';
import { cycleIssues, dependencyIssues, rawDependencyIssues } from './dependency-issues.js';
import { overriddenVars, type VarsFrom } from './overridden-vars.js';
import {
  agentShellIssues,
  answerFieldIssues,
  budgetWithoutUsage,
  commandFieldIssues,
  backoffMs,
  durationMs,
  envIssues,
  executorIssues,
  MAX_TIMER_MS,
  outputSchemaIssues,
  pathFieldIssues,
  poolIssues,
  poolNameIssues,
  unusedDefaultsIssues,
  verifiedGateIssues,
  whenCondition,
  type IssueAt,
} from './task-field-checks.js';
import { defaultsProcessIssues, processFieldIssues } from './process-fields.js';
import { contractIssues, contractNeeds, taskContracts } from './contracts.js';
import { loopIssues, resolveLoop, type ResolvedLoop } from './loop-check.js';

/** What validation needs to know of an executor. */
export interface ExecutorInfo {
  /** Which field the executor runs: a command, a prompt, or a registered function. */
  readonly requires: 'run' | 'prompt' | 'fn';
  /**
   * The API provider behind it (`anthropic`, `openai`, …). Its tasks share a pool of that name —
   * declared under `pools`, or as wide as the run's workers — which weft narrows for a while after a 429.
   */
  readonly provider?: string;
  /** Its tasks' `stallAfter` when they set none, ms (agents that go silent for long have hung). @default undefined: not watched */
  readonly stallAfterMs?: number;
  /**
   * Its tasks run as an OS process tree (a command, an agent CLI), so `limits` and `sandbox` apply;
   * a task of any other executor that sets them is refused. @default false
   */
  readonly runsProcess?: boolean;
  /**
   * It only answers (an LLM API): it changes no file and is no agent, so `writes`, `outputs` and an
   * agent CLI's `maxTurns`, `permissionMode`, `allowedTools` on its tasks are refused. @default false
   */
  readonly answersOnly?: boolean;
  /**
   * Its attempts wait in a queue before they start (a remote worker takes them, `--dispatch`): a
   * task's `timeout` and watchdog count from its first progress — which it reports when a worker
   * takes the attempt — not from when it was sent. @default false
   */
  readonly queues?: boolean;
  /** Extra checks on a task, e.g. a command string that needs `shell: true`. */
  check?(task: TaskSpec): readonly { readonly field: string; readonly message: string; readonly fix?: string }[];
}

/** The executors a plan may name, by name, as validation sees them. */
export type ExecutorCatalog = ReadonlyMap<string, ExecutorInfo>;

/** How {@link compilePlan} reads a plan: the file for messages, the executors, `--set`, learned durations. */
export interface CompileOptions {
  /** File name used in messages. @default '<plan>' */
  readonly file?: string;
  readonly executors: ExecutorCatalog;
  /** `--set` overrides for `vars`. */
  readonly vars?: Readonly<Record<string, string | number | boolean>>;
  /** Where `vars` came from, for the messages about them. @default 'flags' (`--set`) */
  readonly varsFrom?: VarsFrom;
  /** Measured durations by task id (running medians of earlier runs); they take precedence over `estimate`. */
  readonly history?: ReadonlyMap<string, number>;
}

/** A valid plan: the document as parsed, and the task graph the scheduler and engine run. */
export interface CompiledPlan {
  /** The plan document as the schema parsed it; the tasks as they run are in `graph`. */
  readonly spec: PlanSpec;
  readonly name: string;
  /** The plan's `workers` (the budget M before `-j`). */
  readonly workers: number;
  /** `vars` after `--set`, typed like the declared values. */
  readonly vars: Readonly<Record<string, string | number | boolean>>;
  readonly graph: Graph;
  /** The plan's `loop:`, resolved against the graph; absent when it has none. */
  readonly loop?: ResolvedLoop;
}

export type { RawIssue } from './schema-issues.js';

/**
 * Validates a plan object and compiles it into a graph. Collects every problem rather than
 * stopping at the first, and throws one {@link PlanValidationError} listing them all.
 */
export function compilePlan(raw: unknown, options: CompileOptions): CompiledPlan {
  const result = checkPlan(raw, options);
  if (result.issues.length > 0 || result.plan === undefined) {
    const file = options.file ?? '<plan>';
    throw new PlanValidationError(result.issues.map((i) => ({ file, ...i })));
  }
  return result.plan;
}

/** Like {@link compilePlan} but returns the issues (with their document paths) instead of throwing. */
export function checkPlan(raw: unknown, options: CompileOptions): { plan?: CompiledPlan; issues: RawIssue[] } {
  const parsed = parsePlan(raw);
  // A plan the schema rejects still gets its dependencies checked, so one pass shows every problem.
  if (!parsed.success) return { issues: [...schemaIssues(parsed.error, raw), ...rawDependencyIssues(raw)] };
  const spec = parsed.data;
  const issues: RawIssue[] = [];
  const ids = new Map<string, number>();
  spec.tasks.forEach((t, i) => {
    const first = ids.get(t.id);
    if (first !== undefined) {
      issues.push({
        path: ['tasks', i, 'id'],
        task: t.id,
        field: `tasks[${i}].id`,
        message: `duplicate id "${t.id}" (first used by tasks[${first}])`,
        fix: 'give each task a unique id',
      });
    } else ids.set(t.id, i);
  });
  const pools = new Map(Object.entries(spec.pools ?? {}));
  poolNameIssues(pools.keys(), issues);
  // Each capped profile is a pool its tasks hold one unit of (`profile:cpu`), so the scheduler caps it like any pool.
  for (const [profile, cap] of Object.entries(spec.profiles ?? {}))
    if (cap !== undefined) pools.set(`profile:${profile}`, cap);
  const vars = overriddenVars(spec.vars ?? {}, options.vars ?? {}, issues, options.varsFrom);
  const defaults = spec.defaults ?? {};
  const tasks: ResolvedTask[] = [];
  // Built only for a plan with conditions: a 100k-task plan without any should not pay for it.
  let conditionNames: { vars: typeof vars; tasks: Map<string, ConditionTask> } | undefined;
  // A task without a gate reads no condition names: it gets none.
  const noNames = { vars, tasks: new Map<string, ConditionTask>() };
  // The tasks each task's gate reads, by task index: a list, not a map by id, which only a plan
  // with a problem needs (see `cycles`) and a 100k-task plan would spend ~50 ms filling.
  const gateReads: (readonly string[])[] = [];
  // Whether any task runs a process: `defaults.limits`/`sandbox` would otherwise do nothing.
  let anyProcess = false;
  // Whether any task may report tokens or cost: a plan's `budget` would otherwise never stop anything.
  let anyUsage = false;
  // The profiles and pools tasks use, and whether a task may add more: a cap no task uses caps nothing.
  const usedProfiles = new Set<string>();
  const usedPools = new Set<string>();
  let anyExpands = false;
  // Which kinds of task there are: `defaults.shell`, `.model` and an agent CLI's fields act only on some.
  const kinds = { command: false, prompt: false, agent: false };

  envIssues(defaults.env, (name) => ({ path: ['defaults', 'env', name], field: `defaults.env.${name}` }), issues);
  issues.push(...contractIssues(spec, ids));
  if (spec.loop !== undefined)
    issues.push(
      ...loopIssues(
        spec.loop,
        spec,
        ids,
        (conditionNames ??= { vars, tasks: conditionTasks(spec, options.executors) }),
      ),
    );
  const contracts = taskContracts(spec);
  const providers = contractNeeds(spec);
  spec.tasks.forEach((t, i) => {
    const at = (field: string, ...rest: (string | number)[]) => issueAt(i, t.id, field, rest);
    dependencyIssues(t, i, ids, issues);
    verifiedGateIssues(t, spec.tasks, ids, at, issues);
    outputSchemaIssues(t, at, issues);
    const names = () => (conditionNames ??= { vars, tasks: conditionTasks(spec, options.executors) });
    const control = controlFields(t, t.gate === undefined ? noNames : names());
    for (const p of control.problems) issues.push({ ...at(p.field), message: p.message, fix: p.fix });
    gateReads.push(control.reads);
    const executorName =
      t.gate !== undefined ? GATE : (t.executor ?? defaultExecutor(t, defaults.executor, options.executors));
    // A gate runs nothing: no executor to check.
    if (executorName !== GATE) executorIssues(t, executorName, spec.defaults, options.executors, at, issues);
    const info = executorName === undefined ? undefined : options.executors.get(executorName);
    if (executorName !== undefined) {
      answerFieldIssues(t, executorName, info, at, issues);
      agentShellIssues(t, executorName, info, at, issues);
    }
    // An unknown executor (reported above) is not held against the defaults.
    if (executorName !== GATE) {
      kinds.command ||= info === undefined || info.requires === 'run';
      kinds.prompt ||= info === undefined || info.requires === 'prompt';
      kinds.agent ||= info === undefined || (info.requires === 'prompt' && info.answersOnly !== true);
    }
    commandFieldIssues(t, executorName, at, issues);
    pathFieldIssues(t, t.cwd ?? defaults.cwd, at, issues);
    // A task that expands the plan may add agent or API tasks: a budget can bound what it adds.
    if ((executorName !== GATE && executorName !== 'shell') || t.expands === true) anyUsage = true;
    // An unknown or missing executor is reported above.
    if (info?.runsProcess === true || (info === undefined && executorName !== GATE)) anyProcess = true;
    else processFieldIssues(t, executorName ?? GATE, at, issues);
    const provider = executorProvider(executorName, options);
    const profile = t.profile ?? defaults.profile;
    if (profile !== undefined) usedProfiles.add(profile);
    if (t.expands === true) anyExpands = true;
    const profilePool = profile !== undefined && pools.has(`profile:${profile}`) ? `profile:${profile}` : undefined;
    const uses: Record<string, number> =
      defaults.uses === undefined && t.uses === undefined && provider === undefined && profilePool === undefined
        ? NO_USES
        : { ...defaults.uses, ...t.uses };
    if (profilePool !== undefined) uses[profilePool] = 1;
    if (provider !== undefined && uses[provider] === undefined) {
      uses[provider] = 1;
      if (!pools.has(provider)) pools.set(provider, UNDECLARED_PROVIDER_POOL);
    }
    poolIssues(uses, pools, at, issues);
    // A misspelt pool (reported above, with a did-you-mean) counts as a use of the pool it was meant
    // for: that pool is not also called unused.
    for (const pool in uses) usedPools.add(pools.has(pool) ? pool : (closest(pool, pools.keys()) ?? pool));
    const when = whenCondition(t, ids, names, at, issues);
    const ms = (field: 'estimate' | 'timeout' | 'stallAfter', value: string | number | undefined) =>
      durationMs(field, value, at, issues);
    if (t.env !== undefined) envIssues(t.env, (name) => at('env', name), issues);
    const backoff =
      defaults.backoff === undefined && t.backoff === undefined ? NO_BACKOFF : { ...defaults.backoff, ...t.backoff };
    const declaredEstimate = ms('estimate', t.estimate ?? defaults.estimate); // checked even when history replaces it
    tasks.push({
      ...defaults,
      ...t,
      executor: executorName ?? 'shell',
      title: t.title ?? t.id,
      // A check waits for what it verifies, a contract's consumer for its provider.
      needs:
        t.verifies === undefined && !providers.has(t.id)
          ? (t.needs ?? [])
          : [...new Set([...(t.needs ?? []), ...(t.verifies ?? []), ...(providers.get(t.id) ?? [])])],
      ...(contracts.has(t.id) ? { contracts: contracts.get(t.id) } : {}),
      // A gate waits for the tasks it reads (a list without repeats: with no `after` of its own, it is the after).
      after:
        control.reads.length === 0
          ? (t.after ?? [])
          : (t.after ?? []).length === 0
            ? control.reads
            : [...new Set([...(t.after ?? []), ...control.reads])],
      gate: control.gate,
      gateSource: t.gate,
      priority: t.priority ?? 0,
      class: t.class ?? defaults.class ?? DEFAULT_PRIORITY_CLASS,
      retries: t.retries ?? defaults.retries ?? 0,
      // Measured durations from earlier runs beat guesses (the planner's or the author's).
      estimateMs: t.gate !== undefined ? 0 : (options.history?.get(t.id) ?? declaredEstimate), // a gate takes no time
      timeoutMs: ms('timeout', t.timeout ?? defaults.timeout),
      stallAfterMs: stallAfterMs(ms('stallAfter', t.stallAfter ?? defaults.stallAfter), executorName, options),
      backoff: backoff === NO_BACKOFF ? DEFAULT_BACKOFF : resolveBackoff(backoff, at, issues),
      when,
      whenSource: typeof t.when === 'string' ? t.when : t.when === false ? 'false' : undefined,
      uses,
      writes: t.writes ?? [],
      env:
        defaults.env === undefined && t.env === undefined
          ? NO_ENV
          : Object.fromEntries(Object.entries({ ...defaults.env, ...t.env }).map(([k, v]) => [k, String(v)])),
    });
  });

  if (!anyProcess) issues.push(...defaultsProcessIssues(defaults));
  if (!anyUsage) issues.push(...budgetWithoutUsage(spec));
  // A task that expands the plan may add tasks of any profile, using any pool.
  // A var a broken condition may be meant to read is not called unread: that condition's own line says what is wrong.
  const conditionBroken = issues.some((i) => /(^|\.)(when|gate|until)$/.test(i.field ?? ''));
  if (!anyExpands)
    issues.push(
      ...unusedCapIssues(spec, usedProfiles, usedPools),
      ...(conditionBroken ? [] : unreadVarIssues(spec)),
      ...unusedDefaultsIssues(defaults, kinds),
    );
  const cycles = () => {
    // By id, as dependencies name tasks: a repeated id (an issue too) reads as its last task.
    const readsOf = new Map(spec.tasks.map((t, i) => [t.id, gateReads[i] ?? []]));
    return cycleIssues(
      spec.tasks.map((t) => {
        const reads = readsOf.get(t.id) ?? [];
        return reads.length === 0 ? t : { ...t, after: [...(t.after ?? []), ...reads] };
      }),
    );
  };
  if (issues.length > 0) {
    // A cycle is reported with the other problems, not once they are fixed.
    return { issues: [...issues, ...cycles()] };
  }
  const poolList: Pool[] = [...pools].map(([name, capacity]) => ({ name, capacity }));
  // Building the graph orders it topologically; only a plan that cannot be ordered pays for the
  // search that names its cycles.
  // Without duplicate ids (an issue), `ids` is the graph's index: 100k ids are not indexed twice.
  const graph = tryBuildGraph({ name: spec.name ?? 'plan', tasks, pools: poolList, index: ids });
  if (graph === undefined) return { issues: cycles() };
  const loop = spec.loop === undefined ? undefined : resolveLoop(spec.loop, graph);
  if (loop !== undefined && loop.loop === undefined) return { issues: loop.issues };
  const plan = { spec, name: spec.name ?? 'plan', workers: spec.workers ?? 4, vars, graph };
  return { plan: loop?.loop === undefined ? plan : { ...plan, loop: loop.loop }, issues: [] };
}

/**
 * `profiles` caps no task has the `profile` of, and `pools` no task uses (in `uses`, or as its
 * executor's provider): they would cap nothing (a misspelt name, or a leftover).
 */
function unusedCapIssues(spec: PlanSpec, profiles: ReadonlySet<string>, pools: ReadonlySet<string>): RawIssue[] {
  type Words = (n: string) => string;
  const unused = (kind: 'profiles' | 'pools', used: ReadonlySet<string>, has: Words, give: Words) =>
    Object.keys(spec[kind] ?? {})
      .filter((n) => !used.has(n))
      .map((n) => ({
        path: [kind, n],
        field: `${kind}.${n}`,
        message: `no task ${has(n)}, so ${kind}.${n} would cap nothing`,
        fix: `give the tasks it should cap ${give(n)}, or remove ${kind}.${n}`,
      }));
  return [
    ...unused(
      'profiles',
      profiles,
      (n) => `has profile: ${n}`,
      (n) => `profile: ${n} (or defaults.profile)`,
    ),
    ...unused(
      'pools',
      pools,
      (n) => `uses pool ${n}`,
      (n) => `uses: {${n}: 1} (or defaults.uses)`,
    ),
  ];
}

/** A name a condition reads from `vars` (`vars.deploy`, `!vars.deploy`, `vars.level >= 2`). */
const VAR_READ = /(?<![\w.-])vars\.([A-Za-z_][\w-]*)/g;

/**
 * `vars` no condition reads (a task's `when` or `gate`, `loop.until`): only conditions read them, so
 * they would do nothing (a leftover, a misspelt name, or a `{{name}}` that only `weft init` fills in).
 */
function unreadVarIssues(spec: PlanSpec): RawIssue[] {
  const declared = Object.keys(spec.vars ?? {});
  if (declared.length === 0) return [];
  const read = new Set<string>();
  for (const text of [spec.loop?.until, ...spec.tasks.flatMap((t) => [t.when, t.gate])])
    if (typeof text === 'string') for (const m of text.matchAll(VAR_READ)) read.add(m[1] as string);
  const unread = declared.filter((n) => !read.has(n));
  if (unread.length === 0) return [];
  const tasks = JSON.stringify(spec.tasks);
  return unread.map((n) => ({
    path: ['vars', n],
    field: `vars.${n}`,
    message: `no condition reads vars.${n}, so it would do nothing`,
    fix: [`{{${n}}}`, `{{ ${n} }}`].some((p) => tasks.includes(p))
      ? `{{${n}}} in a task is not filled in from vars (only weft init fills a template's in): write the value there, and remove vars.${n}`
      : `read it in a when, gate or loop.until (e.g. when: vars.${n}), or remove vars.${n}`,
  }));
}

/** What conditions may read of each task: its `outputSchema`, or that it is a function (output without one). */
function conditionTasks(spec: PlanSpec, executors: ExecutorCatalog): Map<string, ConditionTask> {
  const fallback = spec.defaults?.executor;
  const names = new Map<string, ConditionTask>();
  for (const t of spec.tasks) {
    const fn = executors.get(t.executor ?? fallback ?? '')?.requires === 'fn';
    // A task without a schema is one of two facts, shared: 100k tasks need not be 100k objects.
    const facts =
      t.outputSchema !== undefined
        ? { outputSchema: t.outputSchema, outputWithoutSchema: fn }
        : fn
          ? FUNCTION_TASK
          : PLAIN_TASK;
    names.set(t.id, facts); // a repeated id (reported elsewhere) reads as its last task, as before
  }
  return names;
}

const FUNCTION_TASK: ConditionTask = Object.freeze({ outputWithoutSchema: true });
const PLAIN_TASK: ConditionTask = Object.freeze({ outputWithoutSchema: false });

/** The executor name a gate resolves to: it runs nothing, no executor is looked up. */
export const GATE = 'gate';

/**
 * The built-in executors that only answer (LLM APIs; their `info.answersOnly`), for the places that
 * know a task by its executor's name alone: such a task needs no worktree and cannot run a check.
 */
export const ANSWERING_EXECUTORS: ReadonlySet<string> = new Set(['anthropic', 'openai']);

/**
 * The capacity of a provider's pool the plan does not declare: as wide as the run's workers, whatever
 * `-j` makes them (the plan's `workers` was 4 agents at most under `-j 8`), so it binds only while a
 * rate limit narrows it (see `run/provider-throttles.ts`, which narrows it from the workers).
 */
export const UNDECLARED_PROVIDER_POOL = 1 << 20;

// Shared by every task that sets none: a 100k-task plan should not allocate 200k empty objects.
const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});
const NO_USES: Record<string, number> = Object.freeze({}) as Record<string, number>;
const NO_BACKOFF: NonNullable<TaskSpec['backoff']> = Object.freeze({});
const DEFAULT_BACKOFF = Object.freeze({ initialMs: 1000, maxMs: 300_000, factor: 2, jitter: true });

/**
 * A task's `backoff` (its own over the defaults'). `max` defaults to 5m, or to `initial` when that is
 * longer: `initial: 10m` alone waits 10m, not 5m. An `initial` longer than a `max` given with it is
 * refused: no delay could be that long.
 */
function resolveBackoff(backoff: BackoffSpec, at: IssueAt, issues: RawIssue[]): ResolvedTask['backoff'] {
  const initialMs = backoffMs('initial', backoff.initial, 1000, at, issues);
  const maxMs = backoffMs('max', backoff.max, Math.max(300_000, initialMs), at, issues);
  if (initialMs > maxMs && backoff.max !== undefined)
    issues.push({
      ...at('backoff', 'initial'),
      message: `initial delay ${formatDuration(initialMs)} is longer than backoff.max ${formatDuration(maxMs)}, so no retry would wait that long`,
      fix: `lower backoff.initial to at most ${formatDuration(maxMs)}, or raise backoff.max`,
    });
  return {
    initialMs,
    maxMs: Math.min(MAX_TIMER_MS, maxMs),
    factor: backoff.factor ?? 2,
    jitter: backoff.jitter ?? true,
  };
}

/** The task's own (or the defaults') `stallAfter`, else its executor's; 0 means not watched. */
function stallAfterMs(
  given: number | undefined,
  name: string | undefined,
  options: CompileOptions,
): number | undefined {
  const ms = given ?? (name === undefined ? undefined : options.executors.get(name)?.stallAfterMs);
  return ms === 0 ? undefined : ms;
}

function executorProvider(name: string | undefined, options: CompileOptions): string | undefined {
  const provider = name === undefined ? undefined : options.executors.get(name)?.provider;
  return provider === '' ? undefined : provider;
}

/**
 * A task without `executor` takes `defaults.executor` when that executor runs what the task has
 * (a command or a prompt); a task with only `run` is a shell task.
 */
function defaultExecutor(t: TaskSpec, fallback: string | undefined, executors: ExecutorCatalog): string | undefined {
  const info = fallback === undefined ? undefined : executors.get(fallback);
  if (
    fallback !== undefined &&
    (info === undefined || info.requires === 'fn' || (info.requires === 'run') === (t.run !== undefined))
  )
    return fallback;
  if (t.run !== undefined) return 'shell';
  return t.prompt === undefined ? 'shell' : fallback;
}

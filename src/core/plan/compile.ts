import type { z } from 'zod';
import { ConditionSyntaxError, parseCondition, referencedTasks, type Expr } from './condition.js';
import { checkWhen, type ConditionTask } from './condition-check.js';
import { controlFields } from './compile-control.js';
import { parseDuration } from './duration.js';
import { PlanValidationError, type PlanIssue } from '../errors.js';
import { tryBuildGraph, type Graph, type Pool, type ResolvedTask } from './graph.js';
import { PlanSchema, TaskSchema, DefaultsSchema, type PlanSpec, type TaskSpec } from './plan-schema.js';
import { WorkspaceSchema, WorkspaceSetupSchema } from './workspace-schema.js';
import { closest } from '../suggest.js';

/** What validation needs to know of an executor. */
export interface ExecutorInfo {
  /** Which field the executor runs: a command, a prompt, or a registered function. */
  readonly requires: 'run' | 'prompt' | 'fn';
  /**
   * The API provider behind it (`anthropic`, `openai`, …). Its tasks share a pool of that name —
   * declared under `pools`, or as wide as `workers` — which weft narrows for a while after a 429.
   */
  readonly provider?: string;
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
}

/** An issue before it is given a file and a line: `path` is where in the document it sits. */
export type RawIssue = Omit<PlanIssue, 'file'> & { readonly path: readonly (string | number)[] };

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
  const parsed = PlanSchema.safeParse(raw);
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
  const vars = overriddenVars(spec.vars ?? {}, options.vars ?? {}, issues);
  const defaults = spec.defaults ?? {};
  const tasks: ResolvedTask[] = [];
  const conditionNames = { vars, tasks: conditionTasks(spec, options.executors) };
  const gateReads = new Map<string, readonly string[]>();

  envIssues(defaults.env, (name) => ({ path: ['defaults', 'env', name], field: `defaults.env.${name}` }), issues);
  spec.tasks.forEach((t, i) => {
    const at = (field: string, ...rest: (string | number)[]) => issueAt(i, t.id, field, rest);
    dependencyIssues(t, i, ids, issues);
    const control = controlFields(t, conditionNames);
    for (const p of control.problems) issues.push({ ...at(p.field), message: p.message, fix: p.fix });
    gateReads.set(t.id, control.reads);
    const executorName =
      t.gate !== undefined ? GATE : (t.executor ?? defaultExecutor(t, defaults.executor, options.executors));
    if (executorName === GATE) {
      // A gate runs nothing: no executor to check.
    } else if (executorName === undefined) {
      issues.push({
        ...at('executor'),
        message: 'a task with a prompt needs an executor',
        fix: 'set executor: claude | codex | gemini | anthropic | openai (or defaults.executor)',
      });
    } else {
      const info = options.executors.get(executorName);
      if (info === undefined) {
        const hint = closest(executorName, options.executors.keys());
        issues.push({
          ...at('executor'),
          message: `unknown executor "${executorName}"`,
          fix:
            hint === undefined ? `use one of: ${[...options.executors.keys()].join(', ')}` : `did you mean "${hint}"?`,
        });
      } else {
        if (info.requires === 'run' && t.run === undefined)
          issues.push({
            ...at('run'),
            message: `executor "${executorName}" needs a command`,
            fix: 'add run: "<command>"',
          });
        if (info.requires === 'prompt' && t.prompt === undefined)
          issues.push({
            ...at('prompt'),
            message: `executor "${executorName}" needs a prompt`,
            fix: 'add prompt: "<what the agent should do>"',
          });
        for (const p of info.check?.({ ...defaults, ...t }) ?? [])
          issues.push({ ...at(p.field), message: p.message, ...(p.fix === undefined ? {} : { fix: p.fix }) });
      }
    }
    const provider = executorProvider(executorName, options);
    const uses: Record<string, number> =
      defaults.uses === undefined && t.uses === undefined && provider === undefined
        ? NO_USES
        : { ...defaults.uses, ...t.uses };
    if (provider !== undefined && uses[provider] === undefined) {
      uses[provider] = 1;
      if (!pools.has(provider)) pools.set(provider, spec.workers ?? 4);
    }
    for (const [pool, units] of Object.entries(uses)) {
      const capacity = pools.get(pool);
      if (capacity === undefined) {
        const hint = closest(pool, pools.keys());
        issues.push({
          ...at('uses', pool),
          message: `unknown pool "${pool}"`,
          fix: hint === undefined ? `declare it under pools: {${pool}: <capacity>}` : `did you mean "${hint}"?`,
        });
      } else if (units > capacity) {
        issues.push({
          ...at('uses', pool),
          message: `needs ${units} units of pool "${pool}" but it has only ${capacity}`,
          fix: `lower uses.${pool} to at most ${capacity} or raise pools.${pool}`,
        });
      }
    }
    let when: Expr | undefined;
    if (typeof t.when === 'string') {
      try {
        when = parseCondition(t.when);
        for (const p of checkWhen(when, conditionNames)) issues.push({ ...at('when'), ...p });
        for (const ref of new Set(referencedTasks(when))) {
          if (ids.has(ref) && ![...(t.needs ?? []), ...(t.after ?? [])].includes(ref))
            issues.push({
              ...at('when'),
              message: `condition reads task "${ref}" which is not in needs or after`,
              fix: `add "${ref}" to after (or needs) so it has finished when the condition is checked`,
            });
        }
      } catch (error) {
        if (!(error instanceof ConditionSyntaxError)) throw error;
        issues.push({
          ...at('when'),
          message: `bad condition at character ${error.position + 1}: ${error.message}`,
          fix: 'write e.g. vars.flag, !vars.flag, vars.env == "prod" && tasks.build.succeeded',
        });
      }
    } else if (t.when === false) when = { kind: 'literal', value: false };

    const ms = (field: 'estimate' | 'timeout', value: string | number | undefined): number | undefined => {
      if (value === undefined) return undefined;
      const parsedMs = parseDuration(value);
      if (parsedMs === undefined)
        issues.push({ ...at(field), message: `bad duration "${value}"`, fix: 'write e.g. 45m, 1h30m, 90s or 250ms' });
      // A timer set past 2³¹-1 ms fires at once: such a timeout would kill the task as it starts.
      else if (field === 'timeout' && parsedMs > MAX_TIMER_MS)
        issues.push({
          ...at(field),
          message: `timeout ${value} is longer than the longest timer, 24d20h31m`,
          fix: 'use at most 24d, or leave timeout out for none',
        });
      return parsedMs;
    };
    envIssues(t.env, (name) => at('env', name), issues);
    const backoff = { ...defaults.backoff, ...t.backoff };
    const declaredEstimate = ms('estimate', t.estimate ?? defaults.estimate); // checked even when history replaces it
    tasks.push({
      ...defaults,
      ...t,
      executor: executorName ?? 'shell',
      title: t.title ?? t.id,
      // A check waits for what it verifies.
      needs: t.verifies === undefined ? (t.needs ?? []) : [...new Set([...(t.needs ?? []), ...t.verifies])],
      // A gate waits for the tasks it reads.
      after: control.reads.length === 0 ? (t.after ?? []) : [...new Set([...(t.after ?? []), ...control.reads])],
      gate: control.gate,
      gateSource: t.gate,
      priority: t.priority ?? 0,
      retries: t.retries ?? defaults.retries ?? 0,
      // Measured durations from earlier runs beat guesses (the planner's or the author's).
      estimateMs: t.gate !== undefined ? 0 : (options.history?.get(t.id) ?? declaredEstimate), // a gate takes no time
      timeoutMs: ms('timeout', t.timeout ?? defaults.timeout),
      backoff: {
        initialMs: backoff.initial === undefined ? 1000 : (parseDuration(backoff.initial) ?? 1000),
        maxMs: backoff.max === undefined ? 300_000 : Math.min(MAX_TIMER_MS, parseDuration(backoff.max) ?? 300_000),
        factor: backoff.factor ?? 2,
        jitter: backoff.jitter ?? true,
      },
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

  if (issues.length > 0) return { issues };
  const poolList: Pool[] = [...pools].map(([name, capacity]) => ({ name, capacity }));
  // Building the graph orders it topologically; only a plan that cannot be ordered pays for the
  // search that names its cycles.
  const graph = tryBuildGraph({ name: spec.name ?? 'plan', tasks, pools: poolList });
  if (graph === undefined)
    return {
      issues: cycleIssues(
        spec.tasks.map((t) => {
          const reads = gateReads.get(t.id) ?? [];
          return reads.length === 0 ? t : { ...t, after: [...(t.after ?? []), ...reads] };
        }),
      ),
    };
  return { plan: { spec, name: spec.name ?? 'plan', workers: spec.workers ?? 4, vars, graph }, issues: [] };
}

type VarValue = string | number | boolean;

/** The longest delay a JavaScript timer takes (2³¹-1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Names and values of `env` that no process environment can hold: an empty name or one with `=`
 * or NUL, and a value with NUL (it would end the value early, or smuggle in another variable).
 */
function envIssues(
  env: Readonly<Record<string, unknown>> | undefined,
  at: (name: string) => Pick<RawIssue, 'path' | 'field'> & { task?: string },
  issues: RawIssue[],
): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      issues.push({
        ...at(name),
        message: `environment variable name ${JSON.stringify(name)} is ${name === '' ? 'empty' : `not allowed (it contains ${name.includes('=') ? '"="' : 'NUL'})`}`,
        fix: 'use letters, digits and _, e.g. NODE_ENV',
      });
    } else if (typeof value === 'string' && value.includes('\0')) {
      issues.push({
        ...at(name),
        message: `environment variable ${name} contains a NUL character`,
        fix: 'remove the NUL (\\u0000): no process environment can hold one',
      });
    }
  }
}

/** What conditions may read of each task: its `outputSchema`, or that it is a function (output without one). */
function conditionTasks(spec: PlanSpec, executors: ExecutorCatalog): Map<string, ConditionTask> {
  const fallback = spec.defaults?.executor;
  return new Map(
    spec.tasks.map((t) => {
      const fn = executors.get(t.executor ?? fallback ?? '')?.requires === 'fn';
      return [
        t.id,
        { ...(t.outputSchema === undefined ? {} : { outputSchema: t.outputSchema }), outputWithoutSchema: fn },
      ];
    }),
  );
}

/**
 * The plan's `vars` with `--set` values over them. A value typed on the command line takes the type
 * of the one it replaces — `--set deploy=no` on `deploy: false` is an error, not the truthy string
 * "no" — and a name the plan does not declare is an error, not a silent no-op.
 */
function overriddenVars(
  declared: Readonly<Record<string, VarValue>>,
  overrides: Readonly<Record<string, VarValue>>,
  issues: RawIssue[],
): Record<string, VarValue> {
  const vars: Record<string, VarValue> = { ...declared };
  const names = Object.keys(declared);
  for (const [name, value] of Object.entries(overrides)) {
    // Own names only: `--set __proto__=1` names no variable, whatever Object.prototype holds.
    const was = Object.hasOwn(declared, name) ? declared[name] : undefined;
    const at = { path: was === undefined ? ['vars'] : ['vars', name], field: `vars.${name}` };
    if (was === undefined) {
      const hint = closest(name, names);
      issues.push({
        ...at,
        message: `--set ${name}: the plan has no variable "${name}"`,
        fix:
          hint !== undefined
            ? `did you mean "${hint}"?`
            : names.length > 0
              ? `its variables: ${names.join(', ')}`
              : `declare it under vars: {${name}: …}`,
      });
    } else if (typeof value !== 'string' || typeof was === 'string') vars[name] = value;
    else if (typeof was === 'boolean') {
      if (/^(true|false)$/i.test(value)) vars[name] = value.toLowerCase() === 'true';
      else
        issues.push({
          ...at,
          message: `--set ${name}=${value}: expected true or false`,
          fix: `--set ${name}=true or --set ${name}=false`,
        });
    } else if (value.trim() !== '' && Number.isFinite(Number(value))) vars[name] = Number(value);
    else issues.push({ ...at, message: `--set ${name}=${value}: expected a number`, fix: `e.g. --set ${name}=${was}` });
  }
  return vars;
}

/** A task's `needs` and `after` that name itself or no task in `ids`. */
function dependencyIssues(
  t: {
    readonly id: string;
    readonly needs?: readonly unknown[];
    readonly after?: readonly unknown[];
    readonly verifies?: readonly unknown[];
  },
  i: number,
  ids: ReadonlyMap<string, number>,
  issues: RawIssue[],
): void {
  for (const key of ['needs', 'after', 'verifies'] as const) {
    (t[key] ?? []).forEach((dep, k) => {
      if (typeof dep !== 'string') return; // the schema says so
      if (dep === t.id)
        issues.push({
          ...issueAt(i, t.id, key, [k]),
          message: `"${t.id}" depends on itself`,
          fix: `remove "${dep}" from ${key}`,
        });
      else if (!ids.has(dep)) {
        const hint = closest(dep, ids.keys());
        issues.push({
          ...issueAt(i, t.id, key, [k]),
          message: `unknown task "${dep}"`,
          fix: hint === undefined ? `use the id of a task in this plan` : `did you mean "${hint}"?`,
        });
      }
    });
  }
}

/** {@link dependencyIssues} on a document the schema rejected: every task with a string id and lists for needs/after. */
function rawDependencyIssues(raw: unknown): RawIssue[] {
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  if (!Array.isArray(tasks)) return [];
  const shaped = tasks.map((t: unknown) => {
    const o = (typeof t === 'object' && t !== null ? t : {}) as { id?: unknown; needs?: unknown; after?: unknown };
    const list = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
    return typeof o.id === 'string' ? { id: o.id, needs: list(o.needs), after: list(o.after) } : undefined;
  });
  const ids = new Map<string, number>();
  shaped.forEach((t, i) => {
    if (t !== undefined && !ids.has(t.id)) ids.set(t.id, i);
  });
  const issues: RawIssue[] = [];
  shaped.forEach((t, i) => {
    if (t !== undefined)
      dependencyIssues(
        {
          id: t.id,
          ...(t.needs === undefined ? {} : { needs: t.needs }),
          ...(t.after === undefined ? {} : { after: t.after }),
        },
        i,
        ids,
        issues,
      );
  });
  return issues;
}

function issueAt(
  i: number,
  task: string,
  field: string,
  rest: readonly (string | number)[],
): Pick<RawIssue, 'path' | 'task' | 'field'> {
  const path = ['tasks', i, field, ...rest];
  return { path, task, field: fieldName(path) };
}

/** The executor name a gate resolves to: it runs nothing, no executor is looked up. */
export const GATE = 'gate';

// Shared by every task that sets none: a 100k-task plan should not allocate 200k empty objects.
const NO_ENV: Readonly<Record<string, string>> = Object.freeze({});
const NO_USES: Record<string, number> = Object.freeze({}) as Record<string, number>;

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

/** Finds dependency cycles and reports each as `a → b → c → a`. */
function cycleIssues(tasks: readonly TaskSpec[]): RawIssue[] {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const edges = tasks.map((t) =>
    [...(t.needs ?? []), ...(t.after ?? []), ...(t.verifies ?? [])]
      .map((d) => index.get(d) ?? -1)
      .filter((d) => d >= 0),
  );
  const state = new Uint8Array(tasks.length); // 0 new, 1 on stack, 2 done
  const stack: number[] = [];
  const issues: RawIssue[] = [];
  const visit = (start: number): void => {
    // Iterative DFS: plans can be deep chains.
    const iters: number[] = [0];
    stack.push(start);
    state[start] = 1;
    while (stack.length > 0) {
      const v = stack[stack.length - 1] as number;
      const k = iters[iters.length - 1] as number;
      const next = edges[v]?.[k];
      if (next === undefined) {
        state[v] = 2;
        stack.pop();
        iters.pop();
        continue;
      }
      iters[iters.length - 1] = k + 1;
      if (state[next] === 1) {
        const cycle = stack.slice(stack.indexOf(next)).map((i) => tasks[i]?.id ?? '?');
        // Edges point from a task to what it needs; show the flow of work instead (needed → needer),
        // starting from the task the issue names.
        const flow = [cycle[0], ...cycle.slice(1).reverse()];
        const first = tasks[next];
        // Point at the entry that closes the cycle: the dependency of `first` on the task above it.
        const closing = cycle[1] ?? '';
        const key = (first?.needs ?? []).includes(closing)
          ? 'needs'
          : (first?.after ?? []).includes(closing)
            ? 'after'
            : 'verifies';
        const k = Math.max(0, (first?.[key] ?? []).indexOf(closing));
        issues.push({
          path: ['tasks', next, key, k],
          task: first?.id ?? '?',
          field: `${key}[${k}]`,
          message: `dependency cycle ${[...flow, flow[0]].join(' → ')}`,
          fix: 'remove one of these dependencies',
        });
      } else if (state[next] === 0) {
        state[next] = 1;
        stack.push(next);
        iters.push(0);
      }
    }
  };
  for (let i = 0; i < tasks.length; i++) if (state[i] === 0) visit(i);
  return issues;
}

const KNOWN_TASK_FIELDS = Object.keys(TaskSchema.shape);
const KNOWN_PLAN_FIELDS = Object.keys(PlanSchema.shape);
const KNOWN_DEFAULT_FIELDS = Object.keys(DefaultsSchema.shape);
/** Fields `workspace:` (path `[workspace]`) or `workspace.setup:` may have. */
const knownWorkspaceFields = (path: readonly (string | number)[]): readonly string[] =>
  Object.keys(path.length === 1 ? WorkspaceSchema.shape : WorkspaceSetupSchema.shape);

function taskAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'tasks' || typeof path[1] !== 'number') return undefined;
  const tasks = (raw as { tasks?: unknown } | null)?.tasks;
  const t = Array.isArray(tasks) ? (tasks[path[1]] as { id?: unknown } | undefined) : undefined;
  return typeof t?.id === 'string' ? t.id : undefined;
}

function fieldName(path: readonly PropertyKey[]): string {
  const rel = path[0] === 'tasks' && typeof path[1] === 'number' ? path.slice(2) : path;
  return (
    rel.reduce<string>(
      (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? String(p) : `${s}.${String(p)}`),
      '',
    ) || '(plan)'
  );
}

function schemaIssues(error: z.ZodError, raw: unknown): RawIssue[] {
  const issues: RawIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const task = taskAt(raw, path);
    const base = { path, ...(task === undefined ? {} : { task }) };
    if (issue.code === 'unrecognized_keys') {
      const known =
        path[0] === 'workspace'
          ? knownWorkspaceFields(path)
          : path.length === 0
            ? KNOWN_PLAN_FIELDS
            : path[0] === 'defaults' && path.length === 1
              ? KNOWN_DEFAULT_FIELDS
              : KNOWN_TASK_FIELDS;
      for (const key of issue.keys) {
        const hint = closest(key, known);
        issues.push({
          ...base,
          path: [...path, key],
          field: fieldName([...path, key]),
          message: `unknown field "${key}"`,
          fix: hint === undefined ? `remove it (known fields: ${known.join(', ')})` : `did you mean "${hint}"?`,
        });
      }
      continue;
    }
    issues.push({
      ...base,
      field: fieldName(path),
      message: describeZodIssue(issue, raw, path),
      fix: fixFor(issue, path),
    });
  }
  return issues;
}

/** zod's name for a type, as a YAML writer would say it. */
function typeWord(expected: string): string {
  return (
    (
      {
        record: 'a mapping',
        object: 'a mapping',
        array: 'a list',
        number: 'a number',
        int: 'a whole number',
        string: 'a string',
        boolean: 'true or false',
      } as Record<string, string>
    )[expected] ?? expected
  );
}

/** The value at `path` in the document as written (zod's issues do not carry it). */
function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[key] : undefined),
    raw,
  );
}

/** What a schema issue means, in a YAML writer's words, for the value at `path` in `raw`. */
export function describeZodIssue(issue: z.core.$ZodIssue, raw: unknown, path: readonly (string | number)[]): string {
  if (issue.code === 'invalid_type') {
    const got = valueAt(raw, path);
    const shown = JSON.stringify(got) ?? '';
    const received =
      got === undefined
        ? 'nothing'
        : Array.isArray(got)
          ? 'a list'
          : got === null
            ? 'null'
            : typeof got === 'object'
              ? 'a mapping'
              : `${typeof got} ${shown.length > 40 ? `${shown.slice(0, 37)}…` : shown}`;
    return `expected ${typeWord(issue.expected)}, got ${received}`;
  }
  if (issue.code === 'invalid_union') return 'has the wrong type';
  return issue.message;
}

function fixFor(issue: z.core.$ZodIssue, path: readonly (string | number)[]): string {
  const last = path.at(-1);
  if (last === 'estimate' || last === 'timeout' || last === 'initial' || last === 'max')
    return 'write a duration like 45m, 1h30m, 90s or 250ms';
  if (last === 'id') return 'use letters, digits, ".", "_" and "-" (e.g. build-api)';
  if (last === 'run') return 'write a command string or an argv list, e.g. run: ["npm", "test"]';
  if (last === 'needs' || last === 'after' || last === 'writes') return 'write a list, e.g. [a, b]';
  const parent = path.at(-2);
  if (typeof last === 'number' && (parent === 'needs' || parent === 'after')) return 'write a task id, e.g. "build"';
  if (last === 'workers') return 'use a whole number from 1 to 1024';
  if (path.length === 0 || last === 'tasks') return 'a plan needs `tasks:` with at least one task';
  if (issue.code === 'invalid_type')
    return `write ${typeWord(issue.expected)}${issue.expected === 'record' || issue.expected === 'object' ? ', e.g. {NAME: value}' : ''}`;
  return 'see `weft schema` for the expected shape';
}

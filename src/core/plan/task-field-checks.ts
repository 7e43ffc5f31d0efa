import { ConditionSyntaxError, parseCondition, referencedTasks, type Expr } from './condition.js';
import { checkWhen, type ConditionNames } from './condition-check.js';
import type { ExecutorCatalog } from './compile.js';
import { parseDuration } from './duration.js';
import type { PlanSpec, TaskSpec } from './plan-schema.js';
import type { RawIssue } from './schema-issues.js';
import { closest } from '../suggest.js';
import { expandBraces } from './glob-overlap.js';
import { jsonSchemaProblem } from '../json-schema.js';

// The per-field checks of `checkPlan`: each adds the problems of one field of a task to `issues`,
// in the order compile calls them, which is the order a user sees them in.

/** Where a task's problem is: its path in the document and the field's name (see `issueAt`). */
export type IssueAt = (
  field: string,
  ...rest: (string | number)[]
) => Pick<RawIssue, 'path' | 'field'> & { task?: string };

/** The longest delay a JavaScript timer takes (2³¹-1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * `executor`: the task has one (a task with a prompt needs one), it is known, and it gets what it
 * runs (a command or a prompt); then the executor's own checks on the task with the defaults under it.
 */
export function executorIssues(
  t: TaskSpec,
  executorName: string | undefined,
  defaults: PlanSpec['defaults'],
  executors: ExecutorCatalog,
  at: IssueAt,
  issues: RawIssue[],
): void {
  if (executorName === undefined) {
    issues.push({
      ...at('executor'),
      message: 'a task with a prompt needs an executor',
      fix: 'set executor: claude | codex | gemini | anthropic | openai (or defaults.executor)',
    });
    return;
  }
  const info = executors.get(executorName);
  if (info === undefined) {
    const hint = closest(executorName, executors.keys());
    issues.push({
      ...at('executor'),
      message: `unknown executor "${executorName}"`,
      fix: hint === undefined ? `use one of: ${[...executors.keys()].join(', ')}` : `did you mean "${hint}"?`,
    });
    return;
  }
  if (t.run !== undefined && t.prompt !== undefined) {
    const ignored = info.requires === 'prompt' ? 'run' : 'prompt';
    issues.push({
      ...at(ignored),
      message: `a task runs a command or gives a prompt, not both: executor "${executorName}" would ignore its ${ignored}`,
      fix: 'keep run for a command, prompt for an agent; split the work into two tasks if it needs both',
    });
  }
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
  for (const p of info.check?.(defaults === undefined ? t : { ...defaults, ...t }) ?? [])
    issues.push({ ...at(p.field), message: p.message, ...(p.fix === undefined ? {} : { fix: p.fix }) });
}

/** `uses`: every pool is declared (or is the task's provider or profile) and has the units asked for. */
export function poolIssues(
  uses: Readonly<Record<string, number>>,
  pools: ReadonlyMap<string, number>,
  at: IssueAt,
  issues: RawIssue[],
): void {
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
}

/**
 * `when`: the condition parsed and checked against the names it may read (`names` builds them on
 * first use), and every task it reads waited for; `false` is a condition that never holds.
 */
export function whenCondition(
  t: TaskSpec,
  ids: ReadonlyMap<string, number>,
  names: () => ConditionNames,
  at: IssueAt,
  issues: RawIssue[],
): Expr | undefined {
  if (t.when === false) return { kind: 'literal', value: false };
  if (typeof t.when !== 'string') return undefined;
  let when: Expr | undefined;
  try {
    when = parseCondition(t.when);
    for (const p of checkWhen(when, names())) issues.push({ ...at('when'), ...p });
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
  return when;
}

/** How to write a duration, for a duration field that holds none. */
const DURATION_FIX = 'write e.g. 45m, 1h30m, 90s or 250ms: each unit once, the largest first';

/**
 * A backoff's `initial` or `max` in ms, `fallback` when not given; a text that is not a duration is
 * a problem, not the default.
 */
export function backoffMs(
  key: 'initial' | 'max',
  value: string | number | undefined,
  fallback: number,
  at: IssueAt,
  issues: RawIssue[],
): number {
  if (value === undefined) return fallback;
  const parsedMs = parseDuration(value);
  if (parsedMs === undefined)
    issues.push({ ...at('backoff', key), message: `bad duration "${value}"`, fix: DURATION_FIX });
  return parsedMs ?? fallback;
}

/** `estimate`, `timeout`, `stallAfter` in ms; a timer beyond what JavaScript can wait for is a problem. */
export function durationMs(
  field: 'estimate' | 'timeout' | 'stallAfter',
  value: string | number | undefined,
  at: IssueAt,
  issues: RawIssue[],
): number | undefined {
  if (value === undefined) return undefined;
  const parsedMs = parseDuration(value);
  if (parsedMs === undefined) issues.push({ ...at(field), message: `bad duration "${value}"`, fix: DURATION_FIX });
  // A timeout of 0 kills the task as it starts (stallAfter: 0 means no watchdog, as documented).
  else if (field === 'timeout' && parsedMs === 0)
    issues.push({
      ...at(field),
      message: 'timeout 0 would stop the task as it starts',
      fix: 'give the longest the task may take, e.g. 30m, or leave timeout out for none',
    });
  // A timer set past 2³¹-1 ms fires at once: such a timeout would kill the task as it starts.
  else if (field !== 'estimate' && parsedMs > MAX_TIMER_MS)
    issues.push({
      ...at(field),
      message: `${field} ${value} is longer than the longest timer, 24d20h31m`,
      fix: `use at most 24d, or leave ${field} out for none`,
    });
  return parsedMs;
}

/**
 * `env` (a task's or the defaults'): names and values that no process environment can hold — an
 * empty name or one with `=` or NUL, and a value with NUL (it would end the value early, or smuggle
 * in another variable).
 */
export function envIssues(
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

/** What {@link jsonSchemaProblem} said of each outputSchema text seen. */
const schemaProblems = new Map<string, string | undefined>();

/** `outputSchema` is a JSON Schema weft can check outputs against: refused before the run, not after the task ran. */
export function outputSchemaIssues(t: TaskSpec, at: IssueAt, issues: RawIssue[]): void {
  if (t.outputSchema === undefined) return;
  // Many tasks share one schema (a reviewer's verdict): each text is converted once.
  const text = JSON.stringify(t.outputSchema);
  if (!schemaProblems.has(text)) {
    if (schemaProblems.size >= 1000) schemaProblems.clear(); // a long-lived server compiles many plans
    schemaProblems.set(text, jsonSchemaProblem(t.outputSchema));
  }
  const problem = schemaProblems.get(text);
  if (problem !== undefined)
    issues.push({
      ...at('outputSchema'),
      message: `not a JSON Schema weft can check: ${problem}`,
      fix: 'e.g. {type: object, required: [score], properties: {score: {type: number}}}',
    });
}

/**
 * `verifies` names work to check, not a gate: a gate runs nothing, so a failing check could route
 * no fix back to it.
 */
export function verifiedGateIssues(
  t: TaskSpec,
  tasks: readonly TaskSpec[],
  ids: ReadonlyMap<string, number>,
  at: IssueAt,
  issues: RawIssue[],
): void {
  (t.verifies ?? []).forEach((id, k) => {
    const target = ids.get(id);
    if (target !== undefined && tasks[target]?.gate !== undefined)
      issues.push({
        ...at('verifies', k),
        message: `"${id}" is a gate: it runs nothing, so there is no work of its to check`,
        fix: `verify the tasks the gate reads, or make this check read the gate with when: tasks.${id}.passed`,
      });
  });
}

/** `pools`: a name starting with `profile:` is a profile's own pool, which `profiles:` would silently replace. */
export function poolNameIssues(names: Iterable<string>, issues: RawIssue[]): void {
  for (const name of names)
    if (name.startsWith('profile:'))
      issues.push({
        path: ['pools', name],
        field: `pools.${name}`,
        message: `pool names starting with "profile:" are the profiles' own (profiles: {${name.slice(8)}: N} makes that pool)`,
        fix: `rename the pool, or cap the profile under profiles`,
      });
}

/** The fields only an agent CLI reads (its turns, tools and permissions): an LLM API call has none. */
const AGENT_CLI_FIELDS = ['maxTurns', 'permissionMode', 'allowedTools'] as const;

/** The fields that set up a task's process (its environment, its command's shell): an LLM API call runs none. */
const SETUP_FIELDS = ['env', 'shell'] as const;

/** An agent's fields, which a command has no use for (an API task reads `model` too). */
const AGENT_FIELDS = ['model', ...AGENT_CLI_FIELDS] as const;

/**
 * A task's own fields that the built-in shell executor would ignore: `budget` (a command reports no
 * usage; an executor of the library's user may) and an agent's `model`, `maxTurns`,
 * `permissionMode`, `allowedTools`. Set in `defaults`, they are for the plan's other tasks.
 */
export function commandFieldIssues(
  t: TaskSpec,
  executorName: string | undefined,
  at: IssueAt,
  issues: RawIssue[],
): void {
  if (executorName !== 'shell') return;
  if (t.budget !== undefined)
    issues.push({
      ...at('budget'),
      message: 'a command reports no tokens or cost, so a budget on it would never stop it',
      fix: 'put budget on agent or API tasks, or on the plan (budget: at the top)',
    });
  for (const field of AGENT_FIELDS)
    if (t[field] !== undefined)
      issues.push({
        ...at(field),
        message: `a command is no agent: ${field} would do nothing on it`,
        fix: `remove ${field}, or make the task an agent's (prompt: "…", executor: claude)`,
      });
}

/** What kinds of task a plan has, for the `defaults` fields that only some kinds read. */
export interface TaskKinds {
  /** A task runs a command (an executor that takes `run`): `shell` acts on it. */
  command: boolean;
  /** A task gives a prompt (an agent or an API): `model` acts on it. */
  prompt: boolean;
  /** A task is an agent's, not one API call: `maxTurns`, `permissionMode`, `allowedTools` act on it. */
  agent: boolean;
}

/**
 * `shell` on an agent's task: it runs no command (its prompt is an argument, never through a shell),
 * so `shell` would do nothing. (On an API task it is refused with the other set-up fields.)
 */
export function agentShellIssues(
  t: TaskSpec,
  executorName: string,
  info: { readonly requires: string; readonly answersOnly?: boolean } | undefined,
  at: IssueAt,
  issues: RawIssue[],
): void {
  if (t.shell !== true || info?.requires !== 'prompt' || info.answersOnly === true) return;
  issues.push({
    ...at('shell'),
    message: `executor "${executorName}" runs no command (it is given a prompt), so shell would do nothing`,
    fix: 'remove shell; it is for tasks with run',
  });
}

/**
 * `defaults` fields no task of the plan reads: `shell` without a command task, `model` without a
 * prompt, an agent CLI's `maxTurns`, `permissionMode`, `allowedTools` without an agent's task.
 * (A plan with a task that `expands` is not asked: the tasks it adds may read them.)
 */
export function unusedDefaultsIssues(defaults: NonNullable<PlanSpec['defaults']>, kinds: TaskKinds): RawIssue[] {
  const unused = (field: keyof typeof defaults, none: string, fix: string): RawIssue[] =>
    defaults[field] === undefined
      ? []
      : [
          {
            path: ['defaults', field],
            field: `defaults.${field}`,
            message: `${none}, so ${field} would do nothing`,
            fix: `remove defaults.${field}${fix}`,
          },
        ];
  return [
    ...(kinds.command ? [] : unused('shell', 'no task of this plan runs a command (run:)', '')),
    ...(kinds.prompt
      ? []
      : unused('model', 'no task of this plan gives a prompt (agent or API tasks)', ': a command has no model')),
    ...(kinds.agent
      ? []
      : AGENT_CLI_FIELDS.flatMap((field) =>
          unused(
            field,
            'no task of this plan is an agent CLI task (claude, codex, gemini)',
            ": it is an agent CLI's field",
          ),
        )),
  ];
}

/**
 * On a task of an executor that only answers (an LLM API: a prompt, and no process that could touch
 * a file): `writes` and `outputs`, which could never be there, so every attempt — each one paid —
 * would fail for them; an agent CLI's `maxTurns`, `permissionMode`, `allowedTools`, which one
 * API call (no turns, no tools) never reads; and `env` and `shell`, which set up a process the call
 * never starts (its `cwd` stays: inputs are read from it). Set in `defaults`, those are for the
 * plan's other tasks.
 */
export function answerFieldIssues(
  t: TaskSpec,
  executorName: string,
  info: { readonly answersOnly?: boolean } | undefined,
  at: IssueAt,
  issues: RawIssue[],
): void {
  if (info?.answersOnly !== true) return;
  for (const field of ['writes', 'outputs'] as const)
    if ((t[field] ?? []).length > 0)
      issues.push({
        ...at(field),
        message: `executor "${executorName}" only answers (in text or JSON) and changes no file, so ${field} could never hold`,
        fix: `give the task to an agent that edits files (executor: claude, codex or gemini), or remove ${field}`,
      });
  for (const field of AGENT_CLI_FIELDS)
    if (t[field] !== undefined)
      issues.push({
        ...at(field),
        message: `executor "${executorName}" only answers (one API call: no turns, no tools), so ${field}, an agent CLI's field, would do nothing on it`,
        fix: `remove ${field}, or give the task to an agent CLI (executor: claude, codex or gemini)`,
      });
  for (const field of SETUP_FIELDS)
    if (t[field] !== undefined)
      issues.push({
        ...at(field),
        message: `executor "${executorName}" only answers (one API call, no process), so ${field}, which sets up a task's process, would do nothing on it`,
        fix: `remove ${field}, or give the task to a command or an agent CLI (executor: shell, claude, codex or gemini)`,
      });
}

/** A path that names a place of its own, not one under the task's folder: `/etc/x`, `\\host\share`, `C:\x`, `C:/x`. */
const ABSOLUTE = /^(?:[/\\]|[A-Za-z]:(?:[/\\]|$))/;

/**
 * How far a relative path (or glob) goes from where it starts, in folders: where it ends
 * (`a/../b` → 1) and the highest it climbs (`../x` → -1, `a/../b` → 0). Both separators count (a
 * plan may be run on Windows); `**` may match no folder at all, so a `..` after it climbs from
 * the folder before it.
 */
function walk(path: string): { readonly end: number; readonly lowest: number } {
  let end = 0;
  let lowest = 0;
  for (const segment of path.split(/[/\\]+/)) {
    if (segment === '..') lowest = Math.min(lowest, --end);
    else if (segment !== '' && segment !== '.' && segment !== '**') end++;
  }
  return { end, lowest };
}

/**
 * `writes` and `outputs` name files inside the plan's folder, written from the task's folder (its
 * `cwd`): an absolute path, or one whose `..` climbs out once normalised (`a/../b` stays in), would
 * let a task claim any file on the machine, the run's cache copy files to and from there, and
 * `outputs` check files no worktree holds. A task whose `cwd` is outside the plan's folder (or
 * absolute) may not climb out of its own folder. Every alternative of a `{a,b}` glob is checked.
 */
export function pathFieldIssues(t: TaskSpec, cwd: string | undefined, at: IssueAt, issues: RawIssue[]): void {
  const paths = [...(t.writes ?? []), ...(t.outputs ?? [])];
  if (paths.length === 0) return;
  const dir = cwd === undefined || ABSOLUTE.test(cwd) ? undefined : walk(cwd);
  // How deep under the bound (the plan's folder, else the task's own) the task's folder is.
  const start = dir === undefined || dir.lowest < 0 ? 0 : dir.end;
  const inPlan = cwd === undefined || (dir !== undefined && dir.lowest >= 0);
  const bound = inPlan ? "the plan's folder" : `the task's folder (cwd: ${cwd})`;
  for (const field of ['writes', 'outputs'] as const)
    (t[field] ?? []).forEach((path, k) => {
      const alternatives = expandBraces(path.trim());
      const absolute = alternatives.some((alt) => ABSOLUTE.test(alt));
      if (!absolute && alternatives.every((alt) => start + walk(alt).lowest >= 0)) return;
      issues.push({
        ...at(field, k),
        message: `${JSON.stringify(path)} ${absolute ? 'is an absolute path' : `climbs out of ${bound}`}: a task ${field === 'writes' ? 'writes' : 'produces'} files only inside ${absolute ? bound : 'it'}`,
        fix: `name a path inside ${bound}, relative to ${inPlan ? "the task's folder" : 'it'} (e.g. ${field === 'writes' ? 'src/**' : 'dist/app.js'}), or remove it`,
      });
    });
}

/**
 * A plan's `budget` (or `defaults.budget`) where no task can report tokens or cost (only commands
 * and gates): it would never stop anything.
 */
export function budgetWithoutUsage(spec: PlanSpec): RawIssue[] {
  const places = [
    ...(spec.budget === undefined ? [] : [['budget'] as const]),
    ...(spec.defaults?.budget === undefined ? [] : [['defaults', 'budget'] as const]),
  ];
  return places.map((path) => ({
    path: [...path],
    field: path.join('.'),
    message:
      'no task here reports tokens or cost (commands and gates do not), so this budget would never stop anything',
    fix: 'remove it, or give it agent or API tasks to bound',
  }));
}

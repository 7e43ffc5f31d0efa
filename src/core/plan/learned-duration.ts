import type { ResolvedTask } from './graph.js';

/**
 * Which measurements a learned duration comes from:
 * - `task`: this task's own runs (same plan, same id, same command or prompt);
 * - `command`: tasks in any plan that run the same thing (executor, command or prompt, model, env, folder);
 * - `kind`: the other tasks of its kind (`review-3` → `review`) on the same executor in the same plan.
 */
export type LearnedFrom = 'task' | 'command' | 'kind';

/** Durations measured in earlier runs (ms, oldest first), one list per {@link LearnedFrom}. */
export type DurationSamples = Partial<Readonly<Record<LearnedFrom, readonly number[]>>>;

/** A duration weft uses in place of a task's estimate, and where it comes from. */
export interface LearnedDuration {
  /** The running median of the samples, ms. */
  readonly ms: number;
  /** How many measurements the median is taken over. */
  readonly runs: number;
  readonly from: LearnedFrom;
  /** The estimate the plan declares for the task (its own or `defaults.estimate`), ms. */
  readonly declaredMs: number | undefined;
}

/**
 * The one rule for learned durations, used by `weft run` (its critical-path order) and `weft
 * estimate` alike: a declared estimate gives way only to the same task's own measurements; a task
 * with no estimate takes, in this order, its own, those of tasks running the same thing (in any
 * plan), those of its kind in its plan. `undefined`: keep what the plan says.
 * @example learnedDuration(30_000, { kind: [900] }) // undefined: a kind never replaces a declared estimate
 */
export function learnedDuration(declaredMs: number | undefined, samples: DurationSamples): LearnedDuration | undefined {
  const order: readonly LearnedFrom[] = declaredMs === undefined ? ['task', 'command', 'kind'] : ['task'];
  for (const from of order) {
    const values = samples[from];
    if (values === undefined || values.length === 0) continue;
    return { ms: Math.round(median(values)), runs: values.length, from, declaredMs };
  }
  return undefined;
}

/** `review-3` and `review_12` are the same kind of task as `review`. */
export function taskKind(id: string): string {
  return id.replace(/[-_.]?\d+$/, '') || id;
}

/** The middle value (the mean of the two middle ones for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  const high = sorted[mid] as number;
  return sorted.length % 2 === 1 ? high : ((sorted[mid - 1] as number) + high) / 2;
}

/**
 * What a task runs, as one canonical text: the fields that decide how long it takes (executor,
 * command or prompt, shell, model, environment) and the folder it runs in. Two tasks with the same
 * text do the same work; a changed command gives another text, so its old durations are not reused.
 * A function task is named by its id, since that is how `fn` finds it.
 * @param workdir The task's working folder, relative to the project (so the text is the same on every machine).
 */
export function whatTaskRuns(task: ResolvedTask, workdir: string): string {
  const env = Object.entries(task.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    task.executor,
    task.executor === 'fn' ? task.id : null,
    task.run ?? null,
    task.prompt ?? null,
    task.shell ?? false,
    task.model ?? null,
    env,
    workdir,
  ]);
}

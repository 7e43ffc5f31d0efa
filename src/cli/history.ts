import { attemptRunMs } from '../core/run/metrics.js';
import { createHash } from 'node:crypto';
import { relative, resolve, sep } from 'node:path';
import type { RunState } from '../core/run/run-state.js';
import type { Store } from '../core/ports/store.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import { compilePlan, type CompileOptions, type CompiledPlan } from '../core/plan/compile.js';
import { learnedDuration, taskKind, whatTaskRuns } from '../core/plan/learned-duration.js';
import type { LearnedDuration, LearnedFrom } from '../core/plan/learned-duration.js';

/** How many recent durations a key keeps; the median of them is the learned estimate. */
const WINDOW = 15;

/**
 * Where a plan's history lives: its file, relative to the project (two files are two plans, even
 * with the same `name`), and the folder its tasks run in.
 */
export interface HistoryScope {
  /** The folder holding `.weft/`. */
  readonly projectDir: string;
  /** The plan file (absolute), or a label such as `<planner>` for a plan that has none. */
  readonly planFile: string;
  /** The folder a task without `cwd` runs in (the plan file's folder). */
  readonly baseDir: string;
}

/** What {@link withHistory} hands `weft run` and `weft estimate`: the plan with learned durations, and which. */
export interface PlanWithHistory {
  readonly compiled: CompiledPlan;
  /** Per task id, the learned duration that replaced its estimate (tasks that keep theirs are absent). */
  readonly learned: ReadonlyMap<string, LearnedDuration>;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);
const slash = (path: string): string => path.split(sep).join('/');

/** Version 1 keys (`duration:task:<plan name>:<id>`, `duration:kind:<executor>:<kind>`) are never read again. */
function keysOf(scope: HistoryScope, task: ResolvedTask): Record<LearnedFrom, string> {
  const plan = scope.planFile.startsWith('<') ? scope.planFile : slash(relative(scope.projectDir, scope.planFile));
  const what = whatTaskRuns(task, slash(relative(scope.projectDir, resolve(scope.baseDir, task.cwd ?? '.'))) || '.');
  return {
    task: `duration:v2:task:${sha(JSON.stringify([plan, task.id, what]))}`,
    command: `duration:v2:command:${sha(what)}`,
    kind: `duration:v2:kind:${sha(JSON.stringify([plan, task.executor, taskKind(task.id)]))}`,
  };
}

/** One measurement as stored: the task's id and how long it took, ms. */
type Sample = readonly [task: string, ms: number];

const isSample = (v: unknown): v is Sample =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number' && v[1] >= 0;

/** A stored list of measurements, or none for anything else (a foreign or damaged row is ignored, not fatal). */
async function samplesAt(store: Store, key: string): Promise<readonly Sample[]> {
  const value = await store.getCache(key);
  return Array.isArray(value) && value.every(isSample) ? value : [];
}

/** After a run: each succeeded, really-run task's duration joins its own, its command's and its kind's lists. */
export async function recordDurations(
  store: Store,
  scope: HistoryScope,
  compiled: CompiledPlan,
  state: RunState,
): Promise<void> {
  // Gathered per key first: tasks that share a command or kind share a key, which is then read and
  // written once, not once per task (1,000 `true` tasks: 2,000 cache rows instead of 6,000 reads and writes).
  const byKey = new Map<string, Sample[]>();
  for (const r of state.tasks.values()) {
    const a = r.attempts.at(-1);
    const task = compiled.graph.tasks[compiled.graph.index.get(r.id) ?? -1];
    if (r.state !== 'succeeded' || r.result?.cached === true || a?.endedAt === undefined) continue;
    if (task === undefined) continue;
    const sample: Sample = [r.id, attemptRunMs(a)];
    for (const key of Object.values(keysOf(scope, task))) {
      const samples = byKey.get(key);
      if (samples === undefined) byKey.set(key, [sample]);
      else samples.push(sample);
    }
  }
  for (const [key, samples] of byKey)
    await store.putCache(key, [...(await samplesAt(store, key)), ...samples.slice(-WINDOW)].slice(-WINDOW));
}

/**
 * Learned durations for a plan's tasks, decided by {@link learnedDuration}: a declared estimate is
 * replaced only by the task's own measurements; a task without one may take those of tasks running
 * the same thing, then of its kind in this plan. Tasks that keep their estimate are absent.
 */
export async function loadHistory(
  store: Store,
  scope: HistoryScope,
  tasks: readonly ResolvedTask[],
): Promise<Map<string, LearnedDuration>> {
  const learned = new Map<string, LearnedDuration>();
  // Tasks running the same command, or of one kind, share a key: read it once.
  const read = new Map<string, readonly Sample[]>();
  const samplesOf = async (key: string): Promise<readonly Sample[]> => {
    let found = read.get(key);
    if (found === undefined) read.set(key, (found = await samplesAt(store, key)));
    return found;
  };
  for (const t of tasks) {
    const keys = keysOf(scope, t);
    const samples: Partial<Record<LearnedFrom, readonly number[]>> = {};
    for (const from of ['task', 'command', 'kind'] as const) {
      // A kind speaks for the task's siblings: its own earlier runs (before its command changed) do not count.
      const found = (await samplesOf(keys[from])).filter(([id]) => from !== 'kind' || id !== t.id);
      samples[from] = found.map(([, ms]) => ms);
    }
    const l = learnedDuration(t.estimateMs, samples);
    if (l !== undefined) learned.set(t.id, l);
  }
  return learned;
}

/**
 * The plan again, with durations measured in earlier runs in place of estimates where
 * {@link learnedDuration} allows. `weft run` orders its tasks by these numbers and `weft estimate`
 * prints them: both call this, so they agree.
 * @param compiled The plan compiled without history (its estimates are the declared ones).
 */
export async function withHistory(
  store: Store,
  scope: HistoryScope,
  compiled: CompiledPlan,
  options: CompileOptions,
): Promise<PlanWithHistory> {
  const learned = await loadHistory(store, scope, compiled.graph.tasks);
  if (learned.size === 0) return { compiled, learned };
  const history = new Map([...learned].map(([id, l]) => [id, l.ms]));
  return { compiled: compilePlan(compiled.spec, { ...options, history }), learned };
}

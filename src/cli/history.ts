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

/**
 * The history keys of a plan's tasks (version 1 keys, `duration:task:<plan name>:<id>` and
 * `duration:kind:<executor>:<kind>`, are never read again). Hashes of the same text are made once:
 * tasks share command and kind keys.
 */
function keyMaker(scope: HistoryScope): (task: ResolvedTask) => Record<LearnedFrom, string> {
  const plan = scope.planFile.startsWith('<') ? scope.planFile : slash(relative(scope.projectDir, scope.planFile));
  const hashes = new Map<string, string>();
  const hashed = (text: string): string => {
    let h = hashes.get(text);
    if (h === undefined) hashes.set(text, (h = sha(text)));
    return h;
  };
  return (task) => {
    const what = whatTaskRuns(task, slash(relative(scope.projectDir, resolve(scope.baseDir, task.cwd ?? '.'))) || '.');
    return {
      task: `duration:v2:task:${sha(JSON.stringify([plan, task.id, what]))}`,
      command: `duration:v2:command:${hashed(what)}`,
      kind: `duration:v2:kind:${hashed(JSON.stringify([plan, task.executor, taskKind(task.id)]))}`,
    };
  };
}

/** One measurement as stored: the task's id and how long it took, ms. */
type Sample = readonly [task: string, ms: number];

const isSample = (v: unknown): v is Sample =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number' && v[1] >= 0;

/** A stored list of measurements, or none for anything else (a foreign or damaged row is ignored, not fatal). */
const samplesIn = (value: unknown): readonly Sample[] => (Array.isArray(value) && value.every(isSample) ? value : []);

/** A gate runs nothing: it has no duration to learn. */
const runsSomething = (task: ResolvedTask): boolean => task.gate === undefined;

/** After a run: each succeeded, really-run task's duration joins its own, its command's and its kind's lists. */
export async function recordDurations(
  store: Store,
  scope: HistoryScope,
  compiled: CompiledPlan,
  state: RunState,
): Promise<void> {
  // Gathered per key first: tasks that share a command or kind share a key, which is then read and
  // written once, not once per task; and all keys in one read and one write (a 100,000-task run
  // has ~200,000 keys: one transaction each took ~5 s).
  const byKey = new Map<string, Sample[]>();
  const keys = keyMaker(scope);
  for (const r of state.tasks.values()) {
    const a = r.attempts.at(-1);
    const task = compiled.graph.tasks[compiled.graph.index.get(r.id) ?? -1];
    if (r.state !== 'succeeded' || r.result?.cached === true || a?.endedAt === undefined) continue;
    if (task === undefined || !runsSomething(task)) continue;
    const sample: Sample = [r.id, attemptRunMs(a)];
    for (const key of Object.values(keys(task))) {
      const samples = byKey.get(key);
      if (samples === undefined) byKey.set(key, [sample]);
      else samples.push(sample);
    }
  }
  if (byKey.size === 0) return;
  const stored = await store.getCacheMany([...byKey.keys()]);
  const next = new Map<string, readonly Sample[]>();
  for (const [key, samples] of byKey)
    next.set(key, [...samplesIn(stored.get(key)), ...samples.slice(-WINDOW)].slice(-WINDOW));
  await store.putCacheMany(next);
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
  const keys = keyMaker(scope);
  const keyed = tasks.filter(runsSomething).map((t) => [t, keys(t)] as const);
  // Tasks running the same command, or of one kind, share a key: all read at once.
  const stored = await store.getCacheMany([...new Set(keyed.flatMap(([, k]) => Object.values(k)))]);
  for (const [t, k] of keyed) {
    const samples: Partial<Record<LearnedFrom, readonly number[]>> = {};
    for (const from of ['task', 'command', 'kind'] as const) {
      // A kind speaks for the task's siblings: its own earlier runs (before its command changed) do not count.
      const found = samplesIn(stored.get(k[from])).filter(([id]) => from !== 'kind' || id !== t.id);
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

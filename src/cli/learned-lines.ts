import { formatDuration } from '../core/plan/duration.js';
import { taskKind, type LearnedDuration } from '../core/plan/learned-duration.js';

/** How many learned tasks `weft estimate` lists before it says how many more there are. */
const SHOWN = 12;

/**
 * A learned figure as `weft estimate` marks it.
 * @example
 * learnedFigure('api', { ms: 12_000, runs: 3, from: 'task', declaredMs: 2_700_000 })
 * // '~12.0s (learned, 3 runs, instead of 45m00s)'
 */
export function learnedFigure(id: string, l: LearnedDuration): string {
  const runs = `${l.runs} run${l.runs === 1 ? '' : 's'}`;
  const of = { task: '', command: ' of the same command', kind: ` of ${taskKind(id)}* tasks` }[l.from];
  const instead = l.declaredMs === undefined ? '' : `, instead of ${formatDuration(l.declaredMs)}`;
  return `~${formatDuration(l.ms)} (learned, ${runs}${of}${instead})`;
}

/**
 * The lines under `weft estimate`'s figures naming each task whose duration was learned, in the
 * order of `ids`; none when nothing was learned.
 */
export function learnedLines(ids: readonly string[], learned: ReadonlyMap<string, LearnedDuration>): string[] {
  if (learned.size === 0) return []; // `--no-history`, or no earlier runs: not a lookup per task
  const rows = ids.filter((id) => learned.has(id));
  if (rows.length === 0) return [];
  const width = Math.min(24, Math.max(...rows.map((id) => id.length)));
  const head = `${rows.length} of ${ids.length} task durations measured in earlier runs`;
  const out = [
    `  learned             ${head} (--no-history: the plan's estimates)`,
    ...rows.slice(0, SHOWN).map((id) => `    ${id.padEnd(width)}  ${learnedFigure(id, learned.get(id)!)}`),
  ];
  if (rows.length > SHOWN) out.push(`    … and ${rows.length - SHOWN} more (--json lists them all)`);
  return out;
}

/** The same for `weft estimate --json`, in seconds like its other figures. */
export function learnedJson(ids: readonly string[], learned: ReadonlyMap<string, LearnedDuration>): object[] {
  if (learned.size === 0) return []; // not an empty array per task
  const sec = (ms: number): number => Math.round(ms) / 1000;
  return ids.flatMap((id) => {
    const l = learned.get(id);
    if (l === undefined) return [];
    const declared = l.declaredMs === undefined ? null : sec(l.declaredMs);
    return [{ task: id, estimate: sec(l.ms), runs: l.runs, from: l.from, declared }];
  });
}

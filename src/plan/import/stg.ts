import { WeftError } from '../../core/errors.js';
import type { PlanSpec, TaskSpec } from '../../core/plan/plan-schema.js';

/**
 * Reads a graph of the Standard Task Graph Set (Tobita & Kasahara, J. Scheduling 5(5), 2002) into
 * a plan, so `weft estimate` can run on the published benchmark graphs.
 *
 * The format is whitespace-separated integers: the number `n` of real tasks, then `n + 2` lines
 * `id time npreds pred…`, then `#` comment lines (generator, CP length, parallelism). Each time
 * unit becomes one second of `estimate`; each task runs `true`, a harmless stand-in command.
 *
 * Task 0 (entry) and task `n + 1` (exit) are zero-time dummies that only tie the graph together;
 * they are dropped with their edges, so the plan has exactly the `n` real tasks (ids `t1`…`tn`,
 * numbered as in the file) and the edge count the paper reports. A dummy with a non-zero time
 * is kept as an ordinary task (`t0`, `t<n+1>`) so no work is lost.
 *
 * @throws {WeftError} `WEFT_IMPORT` with `file:line: what was wrong` for malformed input.
 * @example parseStg(readFileSync('rand0000.stg', 'utf8'), 'rand0000.stg').tasks.length // 50
 */
export function parseStg(text: string, file: string): PlanSpec {
  const lines = text.split(/\r?\n/);
  function fail(line: number, message: string): never {
    throw new WeftError('WEFT_IMPORT', `${file}:${line}: ${message}`, {
      hint: 'expected the STG format: n, then n+2 lines "id time npreds preds…", then # comments',
    });
  }
  const comments: string[] = [];
  let n: number | undefined;
  const rows: { line: number; time: number; preds: number[] }[] = [];
  for (let k = 0; k < lines.length; k++) {
    const raw = (lines[k] as string).trim();
    const line = k + 1;
    if (raw === '') continue;
    if (raw.startsWith('#')) {
      comments.push(raw.replace(/^#\s?/, ''));
      continue;
    }
    const tokens = raw.split(/\s+/);
    const numbers = tokens.map((t) => (/^\d+$/.test(t) ? Number(t) : Number.NaN));
    const badAt = numbers.findIndex((v) => Number.isNaN(v));
    if (badAt >= 0) fail(line, `expected a non-negative integer, got "${tokens[badAt]}"`);
    if (n === undefined) {
      if (numbers.length !== 1) fail(line, `expected the number of tasks alone on the first line, got "${raw}"`);
      n = numbers[0] as number;
      if (n < 1) fail(line, 'the graph has no tasks');
      continue;
    }
    if (rows.length === n + 2) fail(line, `expected only comments after the ${n + 2} task lines, got "${raw}"`);
    if (numbers.length < 3) fail(line, `expected "id time npreds preds…", got "${raw}"`);
    const [id, time, npreds, ...preds] = numbers as [number, number, number, ...number[]];
    if (id !== rows.length) fail(line, `expected task ${rows.length}, got task ${id}`);
    if (preds.length !== npreds) fail(line, `task ${id} declares ${npreds} predecessors but lists ${preds.length}`);
    for (const p of preds) {
      if (p > n + 1) fail(line, `task ${id} names predecessor ${p}, but ids run from 0 to ${n + 1}`);
      if (p === id) fail(line, `task ${id} lists itself as a predecessor`);
    }
    rows.push({ line, time, preds });
  }
  if (n === undefined) fail(lines.length, 'empty file: expected the number of tasks');
  if (rows.length < n + 2) fail(lines.length, `expected ${n + 2} task lines (tasks 0 to ${n + 1}), got ${rows.length}`);

  const exit = n + 1;
  const keep = (id: number): boolean => (id !== 0 && id !== exit) || rows[id]?.time !== 0;
  const tasks: TaskSpec[] = [];
  rows.forEach((row, id) => {
    if (!keep(id)) return;
    const needs = [...new Set(row.preds)].filter(keep).map((p) => `t${p}`);
    tasks.push({ id: `t${id}`, run: 'true', ...(needs.length > 0 ? { needs } : {}), estimate: row.time });
  });
  const name = file.replace(/^.*[\\/]/, '').replace(/\.stg$/i, '') || 'stg';
  return { name, ...(comments.length > 0 ? { description: comments.join('\n') } : {}), tasks };
}

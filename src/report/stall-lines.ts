import type { RunSummary } from '../core/run/metrics.js';
import { stallLine, type Stall } from '../core/run/stalls.js';
import { escapeHtml as esc } from './report-format.js';

/**
 * The run's stalls (`stallAfter`), one line each, the same in every report:
 * `build attempt 1 stalled (no progress for 1.00s): retried as attempt 2`.
 */
export function stallLines(summary: RunSummary): string[] {
  return stallEntries(summary).map((e) => e.line);
}

/** Each stall with its task and its line, for {@link stallLines} and {@link stallsHtml}. */
function stallEntries(summary: RunSummary): { task: string; stall: Stall; line: string }[] {
  return summary.tasks.flatMap((t) =>
    (t.stalls ?? []).map((stall) => ({ task: t.id, stall, line: `${t.id} ${stallLine(stall)}` })),
  );
}

/** Each task's stalls by id, for the JSON report (a task without any is absent). */
export function stallsById(summary: RunSummary): ReadonlyMap<string, readonly Stall[]> {
  return new Map(summary.tasks.flatMap((t) => (t.stalls === undefined ? [] : [[t.id, t.stalls] as const])));
}

/** The stalls section of the HTML report: `li.stall[data-task][data-then]`; empty when nothing stalled. */
export function stallsHtml(summary: RunSummary): string {
  const items = stallEntries(summary).map(
    ({ task, stall, line }) => `<li class="stall" data-task="${esc(task)}" data-then="${stall.then}">${esc(line)}</li>`,
  );
  return items.length === 0 ? '' : `<section class="stalls"><h2>Stalls</h2><ul>${items.join('')}</ul></section>`;
}

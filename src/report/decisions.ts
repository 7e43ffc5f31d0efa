import { formatDuration } from '../core/plan/duration.js';
import type { RunSummary } from '../core/run/metrics.js';
import type { TaskRow } from './report-model.js';
import { flakySummary } from '../core/run/policies/check-failed.js';

/**
 * What the run's checks found (`verifies`), each verdict once, the same in every report:
 * `check build: broken by backend; frontend passes on its own`, or for a check whose failure did
 * not repeat on the same tree `check build: flaky — failed (…), then passed when run again on the same tree; no task is told`.
 */
export function checkLines(rows: readonly TaskRow[]): string[] {
  const verdicts = new Set<string>();
  for (const r of rows) {
    for (const a of r.attempts)
      if (a.error?.code === 'WEFT_CHECK_FAILED') verdicts.add(a.error.message.split('\n')[0] as string);
    if (r.flaky !== undefined) verdicts.add(flakySummary(r.id, r.flaky));
  }
  return [...verdicts];
}

/**
 * What the run's gates, approvals, scores and preemptions decided, one line each, the same in every report:
 * `approve blocked: tasks.ui.output.score = 4 < 6`, `deploy approved by ana@host at …`,
 * `deploy waits for approval since …`; first, each iteration of the plan's loop:
 * `loop iteration 1: repeat (2m10s, $0.4100): approve blocked: …`.
 */
export function decisionLines(rows: readonly TaskRow[], loop: RunSummary['loop'] = []): string[] {
  const out: string[] = [];
  for (const it of loop) {
    const cost = it.costUsd === undefined ? '' : `, $${it.costUsd.toFixed(4)}`;
    const time = it.durationMs === undefined ? '' : ` (${formatDuration(it.durationMs)}${cost})`;
    const why = it.reasons.length === 0 ? '' : `: ${it.reasons.join('; ')}`;
    out.push(`loop iteration ${it.iteration}: ${it.outcome ?? 'running'}${time}${why}`);
  }
  for (const r of rows) {
    const a = r.approval;
    if (a !== undefined) {
      const by = a.by === undefined ? '' : ` by ${a.by}`;
      const when = new Date(a.decidedAt ?? a.since).toISOString();
      out.push(
        a.state === 'waiting'
          ? `${r.id} waits for approval since ${when}`
          : `${r.id} ${a.state}${by} at ${when}${a.reason === undefined ? '' : `: ${a.reason}`}`,
      );
    }
    if (r.state === 'blocked' && a?.state !== 'rejected') out.push(`${r.id} blocked: ${r.reason ?? ''}`);
    else if (r.state === 'succeeded' && r.executor === 'gate') out.push(`${r.id} passed`);
    const scores = r.attempts.flatMap((x) => (x.score === undefined ? [] : [x.score]));
    if (scores.length > 0) out.push(`${r.id} scored ${scores.join(' → ')}`);
    for (const x of r.attempts)
      if (x.preemptedBy !== undefined)
        out.push(`${r.id} attempt ${x.attempt} preempted by P0 task ${x.preemptedBy}; it ran again`);
  }
  return out;
}

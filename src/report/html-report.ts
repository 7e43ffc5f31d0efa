import { chainLine, criticalSteps } from '../core/run/critical-path.js';
import { createHash } from 'node:crypto';
import { ganttSvg } from './gantt-svg.js';
import { graphSvg } from './graph-svg.js';
import { REPORT_CSS, REPORT_JS } from './html-assets.js';
import { stallsHtml } from './stall-lines.js';
import {
  checksHtml,
  contractsHtml,
  decisionsHtml,
  failuresHtml,
  logsHtml,
  tasksTableHtml,
  usageHtml,
} from './html-sections.js';
import type { ReportInput } from './report-input.js';
import { costOf, dur, escapeHtml as esc, int, iso, pct, times } from './report-format.js';
import {
  ATTEMPT_OUTCOMES,
  FULL_REPORT_TASKS,
  reportModel,
  shownNote,
  shownRows,
  type ReportModel,
} from './report-model.js';

/**
 * Only the report's own script may run: even if some run data slipped past escaping, an injected
 * script would be blocked, and nothing may be fetched from anywhere.
 */
const CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${createHash('sha256').update(REPORT_JS).digest('base64')}'`;

const metric = (key: string, label: string, value: string, note = ''): string =>
  `<div class="metric" data-metric="${key}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div>${note === '' ? '' : `<div class="note">${esc(note)}</div>`}</div>`;

function summaryHtml(input: ReportInput, model: ReportModel): string {
  const s = input.summary;
  const c = s.counts;
  const notRun = [
    ...(c.failed > 0 ? [`${c.failed} failed`] : []),
    ...(c.skipped > 0 ? [`${c.skipped} skipped`] : []),
    ...(c.cancelled > 0 ? [`${c.cancelled} cancelled`] : []),
    ...((c.blocked ?? 0) > 0 ? [`${c.blocked} blocked`] : []),
    ...(c.pending > 0 ? [`${c.pending} not run`] : []),
  ];
  const u = model.usage;
  const metrics = [
    metric(
      'success-rate',
      'Success rate',
      pct(s.successRate),
      `${c.succeeded} of ${c.total} succeeded${notRun.length === 0 ? '' : ` · ${notRun.join(', ')}`}`,
    ),
    metric(
      'makespan',
      'Makespan',
      dur(s.makespanMs),
      `on ${s.workers} worker${s.workers === 1 ? '' : 's'}${s.pausedMs > 0 ? ` · ${dur(s.pausedMs)} stopped, not counted` : ''}`,
    ),
    metric('task-time', 'Task time', dur(s.taskTimeMs), 'summed over attempts'),
    metric(
      'handling',
      'Around tasks',
      dur(s.handlingMs),
      'outside their processes: worktrees, commits, merges, output checks',
    ),
    metric('speedup', 'Speed-up', times(s.speedup), 'task time ÷ makespan'),
    metric('utilisation', 'Utilisation', pct(s.utilisation), 'of worker time busy'),
    metric(
      'critical-path',
      'Critical path',
      dur(s.criticalPathMs),
      `${s.criticalPath.length} task${s.criticalPath.length === 1 ? '' : 's'}`,
    ),
    metric(
      'retries',
      'Retries',
      String(s.retries),
      s.resumes > 0 ? `${s.resumes} resume${s.resumes === 1 ? '' : 's'}` : '',
    ),
    ...(s.fixes > 0
      ? [metric('fixes', 'Fixes', String(s.fixes), 'sent back to their task: conflicts, failed checks, …')]
      : []),
    metric(
      'tokens',
      'Tokens',
      int(u.inputTokens + u.outputTokens),
      `${int(u.inputTokens)} in / ${int(u.outputTokens)} out`,
    ),
    metric('cost', 'Cost', costOf(u)),
    model.changes === null
      ? metric('files', 'Files changed', '—', 'not measured: every task ran in place')
      : metric(
          'files',
          'Files changed',
          int(model.changes.filesChanged),
          `+${int(model.changes.linesAdded)} / −${int(model.changes.linesRemoved)} lines`,
        ),
  ];
  const chain =
    s.criticalPath.length === 0
      ? '<span class="empty">no task ran</span>'
      : chainLine(
          criticalSteps(s).map((label, k) => ({ id: s.criticalPath[k] as string, label })),
          ({ id, label }) => `<span class="task" data-task="${esc(id)}">${esc(label)}</span>`,
        );
  const perWorker = model.workersUsed
    .map((w) => `w${w}: ${s.tasksPerWorker[String(w)] ?? 0} attempts, ${dur(s.busyPerWorkerMs[String(w)] ?? 0)} busy`)
    .join(' · ');
  return (
    `<section class="summary"><h2>Summary</h2><div class="metrics">${metrics.join('')}</div>` +
    `<p class="chain"><strong>Critical path</strong> (the chain that decided when the run ended): ${chain}</p>` +
    `<p class="meta">Per worker: ${esc(perWorker === '' ? '—' : perWorker)}</p></section>`
  );
}

const legend = (items: readonly string[]): string =>
  `<div class="legend">${items.map((k) => `<span><i class="sw-${k}"></i>${k}</span>`).join('')}</div>`;

/** The task graph; for a run of more than {@link FULL_REPORT_TASKS} tasks, a line saying why there is none. */
function graphSection(model: ReportModel): string {
  const head = '<section class="graph-section"><h2>Task graph</h2>';
  if (model.rows.length > FULL_REPORT_TASKS)
    return `${head}<p class="meta">Not drawn for a run of ${int(model.rows.length)} tasks (more than ${int(FULL_REPORT_TASKS)}): the critical path above shows the chain that decided the end.</p></section>`;
  return `${head}<p class="meta">Layers by dependency depth; dashed edges are <code>after</code>; the critical path is outlined.</p>
${legend(['succeeded', 'failed', 'skipped', 'cancelled', 'pending', 'critical'])}
<div class="scroll">${graphSvg(model)}</div></section>`;
}

/**
 * The report as ONE self-contained HTML file: inline CSS, inline SVG (Gantt chart and task graph),
 * a few lines of inline script for hover highlights, no external resources. All run data is escaped.
 *
 * Stable hooks for tests and tools: `rect.gantt-bar[data-task][data-attempt]`, `g.gantt-row[data-worker]`,
 * `g.node[data-task]`, `path.edge[data-from][data-to]`, `.critical`, `[data-metric]`, `details.log[data-task]`.
 */
export function renderHtml(input: ReportInput): string {
  const model = reportModel(input);
  // A large run's sections list some tasks, chosen by shownRows; the summary and the timeline count them all.
  const shown = { ...model, rows: shownRows(model.rows) };
  const s = input.summary;
  const title = `weft report — ${s.plan || 'run'} ${s.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="weft">
<title>${esc(title)}</title>
<style>${REPORT_CSS}</style></head>
<body><main>
<header><h1>${esc(s.plan || 'weft run')} <span class="status ${esc(s.status)}">${esc(s.status)}</span></h1>
<p class="meta">Run <code>${esc(s.runId)}</code> · ${esc(s.mode)} · ${s.workers} worker${s.workers === 1 ? '' : 's'} · started ${esc(iso(input.state.createdAt))}${s.reason === undefined ? '' : ` · ${esc(s.reason)}`}</p></header>
${summaryHtml(input, model)}
<section class="timeline"><h2>Timeline</h2><p class="meta">One row per worker, one bar per attempt; a retried task shows a bar for each attempt.</p>
${legend([...ATTEMPT_OUTCOMES.filter((o) => o !== 'running' || model.rows.some((r) => r.attempts.some((a) => a.outcome === 'running'))), 'critical'])}
<div class="scroll">${ganttSvg(model)}</div></section>
${graphSection(model)}
${contractsHtml(s)}
${checksHtml(model)}
${decisionsHtml(shown, s.loop)}
${stallsHtml(input.summary)}
${failuresHtml(shown)}
${tasksTableHtml(shown, shownNote(model.rows.length, shown.rows.length))}
${usageHtml(model)}
${logsHtml(shown)}
<footer>Generated by weft at ${esc(iso(input.generatedAt))}</footer>
</main><script>${REPORT_JS}</script></body></html>
`;
}

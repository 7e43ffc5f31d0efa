import type { RunSummary } from '../core/run/metrics.js';
import { costOf, dur, escapeHtml as esc, int } from './report-format.js';
import { sinceStart, type ReportModel, type TaskRow } from './report-model.js';
import { checkLines, decisionLines } from './decisions.js';

/** Table and log sections of the HTML report. Every piece of run data goes through `esc`. */

const pill = (state: string): string => `<span class="pill ${esc(state)}">${esc(state)}</span>`;

/** Each contract's verdict, when the plan has contracts: `tr.contract[data-contract][data-verdict]`. */
export function contractsHtml(summary: RunSummary): string {
  const contracts = summary.contracts ?? [];
  if (contracts.length === 0) return '';
  const rows = contracts.map(
    (k) =>
      `<tr class="contract" data-contract="${esc(k.name)}" data-verdict="${k.verdict}"><td><code>${esc(k.name)}</code></td>` +
      `<td>${esc(k.provider)}</td><td>${esc(k.consumers.join(', '))}</td><td>${pill(k.verdict === 'verified' ? 'succeeded' : k.verdict === 'broken' ? 'failed' : 'pending')} ${esc(k.verdict)}</td>` +
      `<td class="num">${k.brokenAttempts}</td><td>${esc(k.problem ?? '—')}</td></tr>`,
  );
  return (
    `<section class="contracts"><h2>Contracts</h2><table><thead><tr><th>Contract</th><th>Provider</th><th>Consumers</th><th>Verdict</th><th class="num">Broken attempts</th><th>Last mismatch</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></section>`
  );
}

/** Failed tasks (and cancelled ones that had started): the error and the stderr a user needs. */
export function failuresHtml(model: ReportModel): string {
  const failed = model.rows.filter((r) => r.state === 'failed' || (r.state === 'cancelled' && r.attempts.length > 0));
  if (failed.length === 0) return '';
  const items = failed.map((r) => {
    const e = r.error;
    const facts = [
      `${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'}`,
      ...(r.worker === undefined ? [] : [`last on w${r.worker}`]),
      ...(e?.exitCode === undefined || e.exitCode === null ? [] : [`exit code ${e.exitCode}`]),
      ...(e?.signal === undefined || e.signal === null ? [] : [`signal ${e.signal}`]),
      ...(e?.timedOut === true ? ['timed out'] : []),
    ].join(' · ');
    const stderr = r.log?.stderr !== undefined && r.log.stderr !== '' ? r.log.stderr : e?.stderrTail;
    return (
      `<div class="failure" data-task="${esc(r.id)}"><p><code>${esc(r.id)}</code> — ${esc(r.title)} ${pill(r.state)}</p>` +
      `<p class="msg">${esc(e?.message ?? r.reason ?? r.state)}</p><p class="meta">${esc(facts)}</p>` +
      (stderr === undefined || stderr === '' ? '' : `<pre class="stderr">${esc(stderr)}</pre>`) +
      `</div>`
    );
  });
  return `<section class="failures"><h2>Failures (${failed.length})</h2>${items.join('')}</section>`;
}

/** What the run's checks found (`verifies`), one line each, as the Markdown report says it. */
export function checksHtml(model: ReportModel): string {
  const lines = checkLines(model.rows);
  if (lines.length === 0) return '';
  return `<section class="checks"><h2>Checks</h2><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></section>`;
}

/** What gates, approvals, scores and preemptions decided, one line each. */
export function decisionsHtml(model: ReportModel, loop: RunSummary['loop']): string {
  const lines = decisionLines(model.rows, loop);
  if (lines.length === 0) return '';
  return `<section class="decisions"><h2>Gates, approvals, scores and preemptions</h2><ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></section>`;
}

/** One row per task: state, attempts, worker, timing, usage, files. */
export function tasksTableHtml(model: ReportModel, note = ''): string {
  const head = [
    'Task',
    'Title',
    'Executor',
    'State',
    'Attempts',
    'Worker',
    'Start',
    'Duration',
    'Tokens in / out',
    'Cost',
    'Files',
  ];
  const numeric = new Set(['Attempts', 'Start', 'Duration', 'Tokens in / out', 'Cost', 'Files']);
  const row = (r: TaskRow): string => {
    const first = r.attempts[0];
    const cells = [
      `<td class="id">${esc(r.id)}</td>`,
      `<td>${esc(r.title)}${r.reason === undefined || r.state === 'succeeded' ? '' : `<div class="meta">${esc(r.reason)}</div>`}</td>`,
      `<td>${esc(r.executor)}</td>`,
      `<td>${pill(r.state)}${r.skipCause === undefined ? '' : ` <span class="meta">(${esc(r.skipCause)})</span>`}</td>`,
      `<td class="num">${r.attempts.length}</td>`,
      `<td>${r.worker === undefined ? '—' : `w${r.worker}`}</td>`,
      `<td class="num">${first === undefined ? '—' : `+${esc(dur(sinceStart(model, first.startedAt)))}`}</td>`,
      `<td class="num">${r.attempts.length === 0 ? '—' : esc(dur(r.durationMs))}</td>`,
      `<td class="num">${r.usage === undefined ? '—' : `${int(r.usage.inputTokens)} / ${int(r.usage.outputTokens)}`}</td>`,
      `<td class="num">${r.usage === undefined ? '—' : esc(costOf(r.usage))}</td>`,
      `<td class="num">${r.files === undefined ? '—' : esc(`${r.files.changed} (+${r.files.added}/−${r.files.removed})`)}</td>`,
    ];
    return `<tr class="task-row${r.critical ? ' critical' : ''}" data-task="${esc(r.id)}">${cells.join('')}</tr>`;
  };
  return (
    `<section class="tasks"><h2>Tasks</h2>${note === '' ? '' : `<p class="meta shown-note">${esc(note)}</p>`}<div class="scroll"><table><thead><tr>${head.map((h) => `<th${numeric.has(h) ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${model.rows.map(row).join('')}</tbody></table></div><p class="meta">Tasks in bold blue are on the critical path.</p></section>`
  );
}

/** Tokens and cost per task that reported usage, with the run's totals. */
export function usageHtml(model: ReportModel): string {
  const used = model.rows.filter((r) => r.usage !== undefined);
  const u = model.usage;
  if (used.length === 0)
    return `<section class="usage"><h2>Usage and cost</h2><p class="empty">No task reported token usage.</p></section>`;
  const line = (label: string, x: typeof u, cls = ''): string =>
    `<tr${cls}><td class="id">${label}</td><td class="num">${int(x.inputTokens)}</td><td class="num">${int(x.outputTokens)}</td><td class="num">${int(x.cacheReadTokens)}</td><td class="num">${int(x.cacheWriteTokens)}</td><td class="num">${esc(costOf(x))}</td></tr>`;
  return (
    `<section class="usage"><h2>Usage and cost</h2><table><thead><tr><th>Task</th><th class="num">Input tokens</th><th class="num">Output tokens</th><th class="num">Cache read</th><th class="num">Cache write</th><th class="num">Cost</th></tr></thead><tbody>` +
    used.map((r) => line(esc(r.id), r.usage as typeof u, ` data-task="${esc(r.id)}"`)).join('') +
    line('<strong>total</strong>', u, ' class="total"') +
    `</tbody></table></section>`
  );
}

/** Each task's latest-attempt log tails, collapsed; failed tasks open. */
export function logsHtml(model: ReportModel): string {
  const withLogs = model.rows.filter((r) => r.log !== undefined && (r.log.stdout !== '' || r.log.stderr !== ''));
  if (withLogs.length === 0)
    return `<section class="logs"><h2>Logs</h2><p class="empty">No task wrote output.</p></section>`;
  const item = (r: TaskRow): string => {
    const log = r.log as NonNullable<TaskRow['log']>;
    const stream = (name: 'stdout' | 'stderr'): string =>
      log[name] === '' ? '' : `<div class="stream">${name}</div><pre class="${name}">${esc(log[name])}</pre>`;
    return (
      `<details class="log" data-task="${esc(r.id)}"${r.state === 'failed' ? ' open' : ''}><summary><code>${esc(r.id)}</code> — attempt ${log.attempt} ${pill(r.state)}</summary>` +
      `${stream('stdout')}${stream('stderr')}</details>`
    );
  };
  return `<section class="logs"><h2>Logs (last lines of each task's latest attempt)</h2>${withLogs.map(item).join('')}</section>`;
}

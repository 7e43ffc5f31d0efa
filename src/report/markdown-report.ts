import { chainLine, criticalSteps } from '../core/run/critical-path.js';
import type { RunSummary } from '../core/run/metrics.js';
import type { ReportInput } from './report-input.js';
import { costOf, dur, int, iso, mdCell, mdFence, pct, STATE_MARK, times, tokens } from './report-format.js';
import { reportModel, shownNote, shownRows, sinceStart, type TaskRow } from './report-model.js';
import { checkLines, decisionLines } from './decisions.js';
import { stallLines } from './stall-lines.js';

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  `| ${head.join(' | ')} |`,
  `| ${head.map((h) => (/^(#|Tokens|Cost|Duration|Attempts|Files|Value)/.test(h) ? '---:' : '---')).join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

function failureSection(rows: readonly TaskRow[]): string[] {
  const failed = rows.filter((r) => r.state === 'failed' || (r.state === 'cancelled' && r.attempts.length > 0));
  if (failed.length === 0) return [];
  const out = ['## Failures', ''];
  for (const r of failed) {
    const last = r.attempts.at(-1);
    out.push(`### ✗ ${mdCell(r.id)} — ${mdCell(r.title)}`, '');
    out.push(
      `- **state:** ${r.state}${last === undefined ? '' : ` after ${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'} (last on w${last.worker})`}`,
    );
    const message = r.error?.message ?? r.reason;
    if (message !== undefined) out.push(`- **error:** ${mdCell(message)}`);
    if (r.error?.exitCode !== undefined && r.error.exitCode !== null) out.push(`- **exit code:** ${r.error.exitCode}`);
    if (r.error?.signal !== undefined && r.error.signal !== null) out.push(`- **signal:** ${mdCell(r.error.signal)}`);
    if (r.error?.timedOut === true) out.push('- **timed out**');
    const stderr = r.log?.stderr !== undefined && r.log.stderr !== '' ? r.log.stderr : r.error?.stderrTail;
    if (stderr !== undefined && stderr !== '') out.push('', 'stderr (tail):', '', mdFence(stderr));
    out.push('');
  }
  return out;
}

/** What the run's checks found (`verifies`), see {@link checkLines}. */
function checkSection(rows: readonly TaskRow[]): string[] {
  const verdicts = checkLines(rows);
  return verdicts.length === 0 ? [] : ['## Checks', '', ...verdicts.map((v) => `- ${mdCell(v)}`), ''];
}

/** Each contract's verdict (`contracts:`), when the plan has any. */
function contractSection(contracts: RunSummary['contracts']): string[] {
  if (contracts === undefined || contracts.length === 0) return [];
  return [
    '## Contracts',
    '',
    ...table(
      ['Contract', 'Provider', 'Consumers', 'Verdict', 'Broken attempts', 'Last mismatch'],
      contracts.map((k) => [
        mdCell(k.name),
        mdCell(k.provider),
        mdCell(k.consumers.join(', ')),
        `${k.verdict === 'verified' ? '✓' : k.verdict === 'broken' ? '✗' : '·'} ${k.verdict}`,
        String(k.brokenAttempts),
        k.problem === undefined ? '—' : mdCell(k.problem),
      ]),
    ),
    '',
  ];
}

/** What gates and approvals decided. */
function decisionSection(rows: readonly TaskRow[], loop: RunSummary['loop']): string[] {
  const lines = decisionLines(rows, loop);
  return lines.length === 0
    ? []
    : ['## Gates, approvals, scores and preemptions', '', ...lines.map((l) => `- ${mdCell(l)}`), ''];
}

/** What the watchdog stopped (`stallAfter`) and what came of it. */
function stallSection(summary: RunSummary): string[] {
  const lines = stallLines(summary);
  return lines.length === 0 ? [] : ['## Stalls', '', ...lines.map((l) => `- ${mdCell(l)}`), ''];
}

/** A readable Markdown report: summary, critical path, failures, per-task table. */
export function renderMarkdown(input: ReportInput): string {
  const { summary: s } = input;
  const m = reportModel(input);
  const rows = shownRows(m.rows);
  const note = shownNote(m.rows.length, rows.length);
  const c = s.counts;
  const counts = [
    `${c.succeeded} succeeded`,
    `${c.failed} failed`,
    `${c.skipped} skipped`,
    ...(c.cancelled > 0 ? [`${c.cancelled} cancelled`] : []),
    ...((c.blocked ?? 0) > 0 ? [`${c.blocked} blocked`] : []),
    ...(c.pending > 0 ? [`${c.pending} not run`] : []),
  ].join(', ');
  const perWorker = m.workersUsed
    .map((w) => `w${w}: ${s.tasksPerWorker[String(w)] ?? 0} (${dur(s.busyPerWorkerMs[String(w)] ?? 0)} busy)`)
    .join(', ');
  const out = [
    `# weft run ${mdCell(s.runId)} — ${mdCell(s.plan)}`,
    '',
    `**${s.status}**${s.reason === undefined ? '' : ` — ${mdCell(s.reason)}`} · ${s.mode} · ${s.workers} worker${s.workers === 1 ? '' : 's'} · generated ${iso(input.generatedAt)}`,
    '',
    '## Summary',
    '',
    ...table(
      ['Metric', 'Value'],
      [
        ['Success rate', `${pct(s.successRate)} (${counts} of ${c.total})`],
        [
          'Makespan',
          `${dur(s.makespanMs)}${s.pausedMs > 0 ? ` (${dur(s.pausedMs)} while weft was stopped not counted)` : ''}`,
        ],
        ['Task time (summed)', dur(s.taskTimeMs)],
        [
          'Around tasks (summed)',
          `${dur(s.handlingMs)} outside their processes (worktrees, commits, merges, output checks)`,
        ],
        ['Speed-up', times(s.speedup)],
        ['Utilisation', pct(s.utilisation)],
        [
          'Critical path',
          s.criticalPath.length === 0 ? '—' : `${s.criticalPath.length} tasks, ${dur(s.criticalPathMs)}`,
        ],
        ['Tasks per worker', perWorker === '' ? '—' : perWorker],
        ['Retries', String(s.retries)],
        ...(s.fixes > 0 ? [['Fixes', `${s.fixes} (sent back to their task)`]] : []),
        ...(s.preemptions > 0 ? [['Preemptions', String(s.preemptions)]] : []),
        [
          'Tokens',
          `${tokens(m.usage)}${m.usage.cacheReadTokens + m.usage.cacheWriteTokens > 0 ? ` (cache ${int(m.usage.cacheReadTokens)} read / ${int(m.usage.cacheWriteTokens)} written)` : ''}`,
        ],
        ['Cost', costOf(m.usage)],
        [
          'Files changed',
          m.changes === null
            ? '— (not measured: every task ran in place)'
            : `${int(m.changes.filesChanged)} (+${int(m.changes.linesAdded)} / −${int(m.changes.linesRemoved)} lines)`,
        ],
        ...(s.resumes > 0 ? [['Resumes', String(s.resumes)]] : []),
      ],
    ),
    '',
    '## Critical path',
    '',
    s.criticalPath.length === 0
      ? 'No task ran.'
      : `${chainLine(criticalSteps(s), (id) => `\`${id.replace(/[`\n]/g, '')}\``)} (${dur(s.criticalPathMs)})`,
    '',
    ...contractSection(s.contracts),
    ...checkSection(m.rows),
    ...decisionSection(rows, s.loop),
    ...stallSection(s),
    ...failureSection(rows),
    '## Tasks',
    '',
    ...(note === '' ? [] : [note, '']),
    ...table(
      ['Task', 'Title', 'Executor', 'State', 'Attempts', 'Worker', 'Start', 'Duration', 'Tokens', 'Cost', 'Files'],
      rows.map((r) => {
        const first = r.attempts[0];
        return [
          `${r.critical ? '**' : ''}${mdCell(r.id)}${r.critical ? '**' : ''}`,
          mdCell(r.title),
          mdCell(r.executor),
          `${STATE_MARK[r.state] ?? '·'} ${r.state}${r.skipCause === undefined ? '' : ` (${r.skipCause})`}`,
          String(r.attempts.length),
          r.worker === undefined ? '—' : `w${r.worker}`,
          first === undefined ? '—' : `+${dur(sinceStart(m, first.startedAt))}`,
          r.attempts.length === 0 ? '—' : dur(r.durationMs),
          r.usage === undefined ? '—' : tokens(r.usage),
          r.usage === undefined ? '—' : costOf(r.usage),
          r.files === undefined ? '—' : `${r.files.changed} (+${r.files.added}/−${r.files.removed})`,
        ];
      }),
    ),
    '',
    '**Bold** tasks are on the critical path.',
    '',
  ];
  return `${out.join('\n')}`;
}

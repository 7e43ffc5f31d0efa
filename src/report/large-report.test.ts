import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run/events.js';
import { T0 } from './fixtures/sample-run.js';
import { renderHtml } from './html-report.js';
import { renderMarkdown } from './markdown-report.js';
import { buildReportInput, type ReportInput } from './report-input.js';
import { FULL_REPORT_TASKS } from './report-model.js';

/**
 * A run of `n` independent tasks on 3 workers, one after another on each: 10 ms each on w0, 5 ms on
 * w1 but `long` (500 ms), 1 ms on w2, where `broken` fails. w0 ends last, so the critical path is
 * there and on w1; w2 is done long before. The kind of run whose report listed (and drew) every task.
 */
function bigRun(n: number): ReportInput {
  const ids = Array.from({ length: n }, (_, i) => (i === 4 ? 'long' : i === n - 2 ? 'broken' : `t${i}`));
  const events: RunEvent[] = [
    { type: 'run.created', at: T0, runId: 'big', plan: 'big', workers: 3, mode: 'parallel', tasks: ids },
  ];
  const free = [T0, T0, T0];
  ids.forEach((id, i) => {
    const worker = i % 3;
    const at = free[worker] as number;
    const ms = id === 'long' ? 500 : ([10, 5, 1][worker] as number);
    events.push({ type: 'task.started', at, task: id, attempt: 1, worker });
    events.push(
      id === 'broken'
        ? { type: 'task.failed', at: at + ms, task: id, attempt: 1, error: { message: 'exit 1' } }
        : { type: 'task.succeeded', at: at + ms, task: id, attempt: 1, result: {} },
    );
    free[worker] = at + ms;
  });
  events.push({ type: 'run.finished', at: Math.max(...free), status: 'failed' });
  return buildReportInput(events, { tasks: ids.map((id) => ({ id })) }, {}, { generatedAt: T0 });
}

const rowsOf = (page: string): string[] =>
  [...page.matchAll(/<tr class="task-row[^"]*" data-task="([^"]+)"/g)].map((m) => m[1] as string);

describe(`a report of a run of more than ${FULL_REPORT_TASKS} tasks`, () => {
  const input = bigRun(FULL_REPORT_TASKS + 500);

  it('HTML: lists the failed task and the longest ones first in a table of 2,000 rows, says so, and draws no graph', () => {
    const page = renderHtml(input);
    const rows = rowsOf(page);
    expect(rows).toHaveLength(FULL_REPORT_TASKS);
    expect(rows).toContain('broken'); // the shortest task, failed: never left out
    expect(rows).toContain('long');
    expect(rows.indexOf('long')).toBeLessThan(rows.indexOf('t6')); // in the plan's order
    expect(page).toContain(
      '2,000 of 2,500 tasks shown: failed and blocked ones first, then the critical path, then the longest.',
    );
    expect(page).toContain('Not drawn for a run of 2,500 tasks (more than 2,000)');
    expect(page).not.toContain('<g class="node');
    // The summary still counts every task.
    expect(page).toMatch(/data-metric="success-rate"[^]*2499 of 2500 succeeded/);
  });

  it('HTML: the timeline draws neighbouring attempts on a worker as one bar, and keeps the critical path and the failure as their own', () => {
    const page = renderHtml(input);
    const bars = [...page.matchAll(/<rect class="gantt-bar ([^"]*)"([^>]*)>/g)].map((m) => ({
      merged: (m[1] as string).includes('gantt-many'),
      task: /data-task="([^"]+)"/.exec(m[2] as string)?.[1],
      worker: Number(/data-worker="(\d+)"/.exec(m[2] as string)?.[1]),
      attempts: Number(/data-attempts="(\d+)"/.exec(m[2] as string)?.[1] ?? 1),
    }));
    // Every attempt is drawn once: in a merged bar or its own.
    expect(bars.reduce((n, b) => n + b.attempts, 0)).toBe(2500);
    // The critical path keeps a bar per attempt, as in a small run.
    const own = new Set(bars.filter((b) => !b.merged).map((b) => b.task));
    expect(input.summary.criticalPath.length).toBeGreaterThan(500);
    expect(input.summary.criticalPath.filter((id) => !own.has(id))).toEqual([]);
    // The rest are few bars, far fewer than their attempts; the failure, among succeeded neighbours, has its own.
    const critical = input.summary.criticalPath.length;
    expect(bars.length - critical).toBeLessThan((2500 - critical) / 4);
    expect(own.has('broken')).toBe(true);
  });

  it('Markdown: the same 2,000 tasks and the note', () => {
    const md = renderMarkdown(input);
    const rows = md.split('\n').filter((l) => /^\| (\*\*)?(t\d+|long|broken)(\*\*)? \|/.test(l));
    expect(rows).toHaveLength(FULL_REPORT_TASKS);
    expect(md).toContain('2,000 of 2,500 tasks shown');
    expect(rows.some((l) => /^\| (\*\*)?broken(\*\*)? \|/.test(l))).toBe(true);
  });

  it(`a run of ${FULL_REPORT_TASKS} tasks is shown whole`, () => {
    const page = renderHtml(bigRun(FULL_REPORT_TASKS));
    expect(rowsOf(page)).toHaveLength(FULL_REPORT_TASKS);
    expect(page).not.toContain('tasks shown:');
    expect(page).not.toContain('gantt-many');
    expect(page).toContain('<g class="node');
  });
});

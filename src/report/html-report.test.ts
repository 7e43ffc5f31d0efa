import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run/events.js';
import { HOSTILE_TITLE, sampleEvents, sampleLogTails, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { REPORT_JS } from './html-assets.js';
import { renderHtml } from './html-report.js';
import { buildReportInput } from './report-input.js';

const html = () =>
  renderHtml(buildReportInput(sampleEvents(), samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 }));
const count = (text: string, re: RegExp): number => [...text.matchAll(re)].length;
const tags = (text: string, re: RegExp): string[] => [...text.matchAll(re)].map((m) => m[0]);

describe('renderHtml', () => {
  it('lists each preemption among the decisions', () => {
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['batch', 'hotfix'] },
      { type: 'task.started', at: T0 + 10, task: 'batch', attempt: 1, worker: 0 },
      { type: 'task.preempted', at: T0 + 500, task: 'batch', attempt: 1, by: 'hotfix', byClass: 'P0' },
      {
        type: 'task.retrying',
        at: T0 + 600,
        task: 'batch',
        attempt: 1,
        retryAt: T0 + 600,
        error: { message: 'preempted by hotfix', code: 'WEFT_PREEMPTED' },
      },
      { type: 'task.started', at: T0 + 600, task: 'hotfix', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: T0 + 700, task: 'hotfix', attempt: 1, result: {} },
      { type: 'task.started', at: T0 + 700, task: 'batch', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: T0 + 900, task: 'batch', attempt: 2, result: {} },
      { type: 'run.finished', at: T0 + 900, status: 'succeeded' },
    ];
    const page = renderHtml(buildReportInput(events, { tasks: [{ id: 'batch' }, { id: 'hotfix' }] }, {}));
    expect(page).toContain('<h2>Gates, approvals, scores and preemptions</h2>');
    expect(page).toContain('<li>batch attempt 1 preempted by P0 task hotfix; it ran again</li>');
  });

  it("counts a loop's second iteration as no retry in the graph, as the summary does", () => {
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['code', 'flaky'] },
      { type: 'loop.iteration.started', at: T0, iteration: 1 },
      { type: 'task.started', at: T0, task: 'code', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: T0 + 100, task: 'code', attempt: 1, result: {} },
      { type: 'loop.iteration.ended', at: T0 + 100, iteration: 1, outcome: 'repeat', reasons: ['x'], durationMs: 100 },
      { type: 'loop.iteration.started', at: T0 + 100, iteration: 2, tasks: ['code'] },
      { type: 'task.started', at: T0 + 100, task: 'code', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: T0 + 200, task: 'code', attempt: 2, result: {} },
      { type: 'loop.iteration.ended', at: T0 + 200, iteration: 2, outcome: 'passed', reasons: [], durationMs: 100 },
      { type: 'task.started', at: T0 + 200, task: 'flaky', attempt: 1, worker: 0 },
      {
        type: 'task.retrying',
        at: T0 + 300,
        task: 'flaky',
        attempt: 1,
        retryAt: T0 + 300,
        error: { message: 'exit 1' },
      },
      { type: 'task.started', at: T0 + 300, task: 'flaky', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: T0 + 400, task: 'flaky', attempt: 2, result: {} },
      { type: 'run.finished', at: T0 + 400, status: 'succeeded' },
    ];
    const page = renderHtml(buildReportInput(events, { tasks: [{ id: 'code' }, { id: 'flaky' }] }, {}));
    const node = (id: string) =>
      new RegExp(`<g class="node[^>]*data-task="${id}"[^>]*><title>([^<]*)</title>`).exec(page)?.[1];
    expect(node('code')).toContain('succeeded · 200ms');
    expect(node('code')).not.toContain('retr');
    expect(node('flaky')).toContain('succeeded · 200ms · 1 retry');
  });

  it('draws one Gantt bar per attempt, on a row per worker used, coloured by outcome', () => {
    const page = html();
    const bars = tags(page, /<rect class="gantt-bar[^>]*>/g);
    expect(bars).toHaveLength(8);
    expect(count(page, /<g class="gantt-row" data-worker="\d+">/g)).toBe(3);
    const unit = bars.filter((b) => b.includes('data-task="test-unit"'));
    expect(unit.map((b) => /outcome-(\w+)/.exec(b)?.[1])).toEqual(['retrying', 'succeeded']);
    expect(unit.map((b) => /data-worker="(\d)"/.exec(b)?.[1])).toEqual(['1', '2']);
    expect(bars.find((b) => b.includes('data-task="test-e2e"'))).toContain('outcome-failed');
    // 9s across 940px: package starts at 7s.
    expect(bars.find((b) => b.includes('data-task="package"'))).toMatch(/x="(783\.1)" y="\d+" width="208\.9"/);
  });

  it('draws the task graph in dependency layers, the critical path highlighted', () => {
    const page = html();
    const nodes = tags(page, /<g class="node[^>]*>/g);
    expect(nodes).toHaveLength(8);
    const critical = nodes.filter((n) => / critical"/.test(n)).map((n) => /data-task="([^"]+)"/.exec(n)?.[1]);
    expect(critical).toEqual(['setup', 'build', 'test-unit', 'package']);
    const layer = (id: string) =>
      Number(/data-layer="(\d+)"/.exec(nodes.find((n) => n.includes(`data-task="${id}"`)) ?? '')?.[1]);
    expect(['setup', 'lint', 'build', 'docs', 'test-unit', 'package', 'deploy'].map(layer)).toEqual([
      0, 1, 1, 2, 2, 3, 4,
    ]);
    expect(nodes.find((n) => n.includes('"deploy"'))).toContain('state-skipped');
    expect(nodes.find((n) => n.includes('"test-e2e"'))).toContain('state-failed');
    expect(count(page, /<path class="edge[^"]*"/g)).toBe(9);
    expect(
      tags(page, /<path class="edge critical"[^>]*>/g).map((e) =>
        /data-from="([^"]+)" data-to="([^"]+)"/.exec(e)?.slice(1).join('>'),
      ),
    ).toEqual(['setup>build', 'build>test-unit', 'test-unit>package']);
    expect(count(page, /<path class="edge soft"/g)).toBe(1);
  });

  it('shows the summary metrics, failures, log tails, usage and cost', () => {
    const page = html();
    expect(page).toMatch(/data-metric="success-rate"><div class="label">Success rate<\/div><div class="value">75%/);
    expect(page).toMatch(/data-metric="speedup">.*?<div class="value">1\.50×/);
    expect(page).toMatch(/data-metric="handling"><div class="label">Around tasks<\/div><div class="value">0ms</);
    expect(page).toMatch(/data-metric="cost">.*?<div class="value">\$0\.0433/);
    expect(page).toMatch(/data-metric="files">.*?<div class="value">5<\/div><div class="note">\+160 \/ −7 lines/);
    expect(page).toContain('<div class="failure" data-task="test-e2e">');
    expect(count(page, /<details class="log" data-task=/g)).toBe(3);
    expect(count(page, /<tr class="task-row/g)).toBe(8);
    expect(page).toContain(
      '<td class="id"><strong>total</strong></td><td class="num">2,000</td><td class="num">2,340</td>',
    );
  });

  it('escapes every piece of run data: a <script> in a log tail stays text', () => {
    const page = html();
    expect(count(page, /<script/g)).toBe(1);
    expect(page).not.toContain('<script>window.__pwned');
    expect(page).toContain('&lt;/pre&gt;&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect(page).not.toContain(HOSTILE_TITLE);
    expect(page).toContain('Write &lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt; docs &amp; more');
    expect(page).toContain('exit code 1 &lt;b&gt;&amp;amp; friends&lt;/b&gt;');
    expect(page).not.toMatch(/<img|<b>/);
  });

  it('is self-contained: no URL, and only its own script may run', () => {
    const page = html();
    expect(page).not.toMatch(/https?:|\/\/[a-z]|<[^>]*\s(?:src|href)=/i);
    const hash = createHash('sha256').update(REPORT_JS).digest('base64');
    expect(page).toContain(`script-src 'sha256-${hash}'`);
    expect(page).toContain(`<script>${REPORT_JS}</script>`);
  });

  it('reports a run that never started a task, and one cut short mid-attempt', () => {
    const created: RunEvent = {
      type: 'run.created',
      at: T0,
      runId: 'r',
      plan: 'p',
      workers: 2,
      mode: 'parallel',
      tasks: ['a'],
    };
    expect(renderHtml(buildReportInput([created], undefined, {}, { generatedAt: T0 }))).toContain('No task started.');
    const cut = renderHtml(
      buildReportInput(
        [
          created,
          { type: 'task.started', at: T0 + 10, task: 'a', attempt: 1, worker: 1 },
          { type: 'task.ready', at: T0 + 500, task: 'b' },
        ],
        undefined,
        {},
        { generatedAt: T0 },
      ),
    );
    expect(cut).toMatch(
      /<rect class="gantt-bar outcome-running critical" data-task="a" data-attempt="1" data-worker="1" data-outcome="running" x="52\.0" y="5" width="940\.0"/,
    );
  });

  it('leaves the hours weft was stopped between two lives of a run out of the time axis and the makespan', () => {
    const HOUR = 3_600_000;
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a', 'b', 'c'] },
      { type: 'task.started', at: T0, task: 'a', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: T0 + 1000, task: 'a', attempt: 1, result: { exitCode: 0 } },
      { type: 'task.started', at: T0 + 1000, task: 'b', attempt: 1, worker: 0 },
      { type: 'task.cancelled', at: T0 + 2000, task: 'b', attempt: 1, reason: 'interrupted (Ctrl-C)' },
      { type: 'run.finished', at: T0 + 2000, status: 'cancelled', reason: 'interrupted (Ctrl-C)' },
      { type: 'run.resumed', at: T0 + 2000 + 10 * HOUR, by: 'test' },
      { type: 'task.started', at: T0 + 2000 + 10 * HOUR, task: 'b', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: T0 + 4000 + 10 * HOUR, task: 'b', attempt: 2, result: { exitCode: 0 } },
      { type: 'task.started', at: T0 + 4000 + 10 * HOUR, task: 'c', attempt: 1, worker: 0 },
      { type: 'task.succeeded', at: T0 + 5000 + 10 * HOUR, task: 'c', attempt: 1, result: { exitCode: 0 } },
      { type: 'run.finished', at: T0 + 5000 + 10 * HOUR, status: 'succeeded' },
    ];
    const input = buildReportInput(events, undefined, {}, { generatedAt: T0 });
    expect(input.summary).toMatchObject({
      makespanMs: 5000,
      pausedMs: 10 * HOUR,
      taskTimeMs: 5000,
      utilisation: 1,
      retries: 0,
    });
    const page = renderHtml(input);
    // 5 s of run time across 940 px: b's second attempt starts at 2 s, not 10 hours in.
    expect(tags(page, /<rect class="gantt-bar[^>]*>/g).find((b) => b.includes('data-attempt="2"'))).toMatch(
      /x="428\.0" y="\d+" width="376\.0"/,
    );
    expect(page).toMatch(/<line class="gantt-pause" x1="428\.0"[^>]*><title>weft was stopped for 10h(00m)? here/);
    // b ran twice, but only because the Ctrl-C cut its first attempt off: not a retry.
    expect(page).toMatch(/succeeded · 3\.00s<\/text>/);
    // The task table's start times are on the same run time: c, which ran after the resume, started at 4 s.
    expect(page).toMatch(/<tr class="task-row[^"]*" data-task="c">(?:(?!<\/tr>).)*<td class="num">\+4\.00s<\/td>/);
    expect(tags(page, /<text class="node-sub"[^>]*>[^<]*/g).filter((t) => t.includes('retr'))).toEqual([]);
    expect(page).toMatch(
      /data-metric="makespan">.*?<div class="value">5\.00s<\/div><div class="note">on 1 worker · 10h(00m)? stopped, not counted/,
    );
  });
});

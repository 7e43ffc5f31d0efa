import { describe, expect, it } from 'vitest';
import { HOSTILE_TITLE, sampleEvents, sampleLogTails, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { renderMarkdown } from './markdown-report.js';
import { buildReportInput } from './report-input.js';
import type { RunEvent } from '../core/run/events.js';

const md = () =>
  renderMarkdown(buildReportInput(sampleEvents(), samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 }));

describe('renderMarkdown', () => {
  it('opens with the run and a summary table of the metrics', () => {
    const text = md();
    expect(text).toMatch(
      /^# weft run 20231114-221320-beef — release\n\n\*\*failed\*\* — 1 task failed · parallel · 3 workers/,
    );
    expect(text).toContain('| Success rate | 75% (6 succeeded, 1 failed, 1 skipped of 8) |');
    expect(text).toContain('| Makespan | 9.00s |');
    expect(text).toContain('| Speed-up | 1.50× |');
    expect(text).toContain(
      '| Around tasks (summed) | 0ms outside their processes (worktrees, commits, merges, output checks) |',
    );
    expect(text).toContain('| Utilisation | 50% |');
    expect(text).toContain('| Tasks per worker | w0: 3 (6.50s busy), w1: 3 (4.50s busy), w2: 2 (2.50s busy) |');
    expect(text).toContain('| Retries | 1 |');
    expect(text).toContain('| Tokens | 2,000 in / 2,340 out (cache 500 read / 0 written) |');
    expect(text).toContain('| Cost | $0.0433 |');
    expect(text).toContain('| Files changed | 5 (+160 / −7 lines) |');
  });

  it('says files changed were not measured, rather than 0, when no task ran in a worktree', () => {
    const events = sampleEvents().filter(
      (e) => e.type !== 'task.succeeded' || (e.task !== 'package' && e.task !== 'docs'),
    );
    const text = renderMarkdown(buildReportInput(events, samplePlanJson(), {}, { generatedAt: T0 }));
    expect(text).toContain('| Files changed | — (not measured: every task ran in place) |');
  });

  it('names the critical path and shows each failure with its error and stderr tail', () => {
    const text = md();
    expect(text).toContain('## Critical path\n\n`setup` → `build` → `test-unit` → `package` (9.00s)');
    const failures = text.slice(text.indexOf('## Failures'), text.indexOf('## Tasks'));
    expect(failures).toContain('### ✗ test-e2e — End-to-end tests');
    expect(failures).toContain('- **error:** exit code 1 &lt;b&gt;&amp;amp; friends&lt;/b&gt;');
    expect(failures).toContain('- **exit code:** 1');
    expect(failures).toContain(
      '```text\nbuilding docs\n</pre><script>window.__pwned = 1</script>\nFAIL e2e/login.spec.ts | expected 200\n```',
    );
    expect(failures).not.toContain('test-unit');
  });

  it('has one table row per task, escaping what would break the table or render as HTML', () => {
    const text = md();
    const rows = text
      .slice(text.indexOf('## Tasks'))
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| Task') && !l.startsWith('| ---'));
    expect(rows).toHaveLength(8);
    expect(rows[0]).toBe(
      '| **setup** | Install dependencies | shell | ✓ succeeded | 1 | w0 | +0ms | 1.00s | — | — | — |',
    );
    expect(rows.find((r) => r.includes('test-unit'))).toContain('| 2 | w2 | +4.00s | 2.50s |');
    expect(rows.find((r) => r.includes('deploy'))).toContain('↷ skipped (upstream)');
    expect(text).not.toContain(HOSTILE_TITLE);
    expect(rows.find((r) => r.startsWith('| docs'))).toContain(
      'Write &lt;img src=x onerror="window.__pwned=2"&gt; docs &amp; more',
    );
  });

  it('lengthens a code fence past any backticks in the log', () => {
    const tails = { 'test-e2e': { attempt: 1, stdout: '', stderr: 'a\n````\nb' } };
    const text = renderMarkdown(buildReportInput(sampleEvents(), samplePlanJson(), tails, { generatedAt: T0 }));
    expect(text).toContain('`````text\na\n````\nb\n`````');
  });

  it('says a task with tokens of a model that has no price is unpriced, not $0.00, and the total leaves it out aloud', () => {
    const usage = (model: string, costUsd?: number) => ({
      model,
      inputTokens: 1000,
      outputTokens: 500,
      ...(costUsd === undefined ? {} : { costUsd }),
    });
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 2, mode: 'parallel', tasks: ['ask', 'ask2'] },
      { type: 'task.started', at: T0, task: 'ask', attempt: 1, worker: 0 },
      { type: 'task.started', at: T0, task: 'ask2', attempt: 1, worker: 1 },
      { type: 'task.succeeded', at: T0 + 100, task: 'ask', attempt: 1, result: { usage: usage('priced', 0.0105) } },
      { type: 'task.succeeded', at: T0 + 100, task: 'ask2', attempt: 1, result: { usage: usage('local-llm') } },
      { type: 'run.finished', at: T0 + 100, status: 'succeeded' },
    ];
    const text = renderMarkdown(buildReportInput(events, { tasks: [{ id: 'ask' }, { id: 'ask2' }] }, {}));
    expect(text).toContain('| Cost | $0.0105 + local-llm unpriced |');
    expect(text).toMatch(/\| ask2 \|.*\| 1,000 in \/ 500 out \| local-llm unpriced \|/);
    expect(text).toMatch(/\| ask \|.*\| \$0\.0105 \|/);
  });
});

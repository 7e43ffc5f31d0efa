import { describe, expect, it } from 'vitest';
import { sampleEvents, sampleLogTails, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { buildJsonReport, renderJson, type JsonReport } from './json-report.js';
import { buildReportInput } from './report-input.js';

const input = () => buildReportInput(sampleEvents(), samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 });

describe('renderJson', () => {
  it('holds the plan with its dependencies and every run metric', () => {
    const report = JSON.parse(renderJson(input())) as JsonReport;
    expect(report).toMatchObject({
      format: 'weft-report',
      version: 1,
      generatedAt: new Date(T0 + 10_000).toISOString(),
    });
    expect(report.run).toMatchObject({
      id: '20231114-221320-beef',
      plan: 'release',
      status: 'failed',
      reason: '1 task failed',
      workers: 3,
      resumes: 0,
    });
    expect(report.plan.tasks.find((t) => t.id === 'package')).toEqual({
      id: 'package',
      title: 'Package',
      needs: ['test-unit', 'lint'],
      after: [],
      executor: 'claude',
    });
    const s = report.summary;
    expect(s.counts).toEqual({
      total: 8,
      succeeded: 6,
      failed: 1,
      skipped: 1,
      cancelled: 0,
      blocked: 0,
      running: 0,
      pending: 0,
    });
    expect(s.successRate).toBe(0.75);
    expect(s.makespanMs).toBe(9000);
    // setup 1000 + build 3000 + lint 1500 + docs 1000 + test-unit 1000+1500 + test-e2e 2500 + package 2000
    expect(s.taskTimeMs).toBe(13_500);
    expect(s.speedup).toBeCloseTo(1.5);
    expect(s.utilisation).toBeCloseTo(0.5);
    expect(s.criticalPath).toEqual(['setup', 'build', 'test-unit', 'package']);
    expect(s.criticalPathMs).toBe(1000 + 3000 + 3000 + 2000);
    expect(s.workersUsed).toEqual([0, 1, 2]);
    expect(s.tasksPerWorker).toEqual({ '0': 3, '1': 3, '2': 2 });
    expect(s.retries).toBe(1);
    expect(s.usage).toEqual({
      inputTokens: 2000,
      outputTokens: 2340,
      cacheReadTokens: 500,
      cacheWriteTokens: 0,
      costUsd: expect.closeTo(0.0433, 6),
    });
    expect(s.changes).toEqual({ filesChanged: 5, linesAdded: 160, linesRemoved: 7 });
  });

  it('lists each task with every attempt, its outcome and error', () => {
    const report = buildJsonReport(input());
    const unit = report.tasks.find((t) => t.id === 'test-unit');
    expect(unit).toMatchObject({ state: 'succeeded', critical: true, worker: 2, durationMs: 2500, exitCode: 0 });
    expect(unit?.attempts).toEqual([
      {
        attempt: 1,
        worker: 1,
        startedAt: new Date(T0 + 4000).toISOString(),
        endedAt: new Date(T0 + 5000).toISOString(),
        durationMs: 1000,
        outcome: 'retrying',
        error: { message: 'exit code 1', exitCode: 1, stderrTail: 'flaky: ECONNRESET' },
        usage: null,
        score: null,
        preemptedBy: null,
      },
      {
        attempt: 2,
        worker: 2,
        startedAt: new Date(T0 + 5500).toISOString(),
        endedAt: new Date(T0 + 7000).toISOString(),
        durationMs: 1500,
        outcome: 'succeeded',
        error: null,
        usage: null,
        score: null,
        preemptedBy: null,
      },
    ]);
    expect(report.tasks.find((t) => t.id === 'deploy')).toMatchObject({
      state: 'skipped',
      skipCause: 'upstream',
      attempts: [],
      worker: null,
      files: null,
    });
    expect(report.tasks.find((t) => t.id === 'docs')?.files).toEqual({ changed: 2, added: 120, removed: 0 });
    expect(report.tasks.find((t) => t.id === 'test-e2e')?.attempts[0]?.outcome).toBe('failed');
  });

  it('counts no files and no usage when no result carried them', () => {
    const events = sampleEvents().filter(
      (e) => e.type !== 'task.succeeded' || (e.task !== 'package' && e.task !== 'docs'),
    );
    const s = buildJsonReport(buildReportInput(events, samplePlanJson(), {}, { generatedAt: T0 })).summary;
    // Not zeros: nothing measured what the tasks changed (as summary.json has no files then).
    expect(s.changes).toBeNull();
    // docs' usage still counts: it came with a task.output event before the attempt ended.
    expect(s.usage.inputTokens).toBe(400);
  });

  it("times a task by its process's life, as the summary and `weft status` do, not from dispatch to its end", () => {
    // setup was dispatched at +0 and ended at +1000, but its process ran from +400 to +600.
    const events = sampleEvents().map((e) =>
      e.type === 'task.succeeded' && e.task === 'setup'
        ? { ...e, processStartedAt: T0 + 400, processEndedAt: T0 + 600 }
        : e,
    );
    const report = buildJsonReport(
      buildReportInput(events, samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 }),
    );
    const setup = report.tasks.find((t) => t.id === 'setup');
    expect(setup?.durationMs).toBe(200);
    expect(setup?.attempts[0]?.durationMs).toBe(200);
    // The task time summed is the sum of the tasks' durations the report lists.
    expect(report.summary.taskTimeMs).toBe(report.tasks.reduce((sum, t) => sum + t.durationMs, 0));
    // The other 800 ms were weft's (worktree, merge, checks), and are said to be.
    expect(report.summary.handlingMs).toBe(800);
  });
});

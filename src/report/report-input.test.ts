import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run/events.js';
import { sampleEvents, sampleLogTails, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { buildReportInput, planTasksOf } from './report-input.js';

describe('buildReportInput', () => {
  it('folds the journal, reads the plan and computes the summary with the bottleneck chain', () => {
    const input = buildReportInput(sampleEvents(), samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 });
    expect(input.tasks.map((t) => t.id)).toEqual([
      'setup',
      'lint',
      'build',
      'docs',
      'test-unit',
      'test-e2e',
      'package',
      'deploy',
    ]);
    expect(input.tasks.find((t) => t.id === 'docs')).toMatchObject({ executor: 'claude', after: ['lint'], needs: [] });
    expect(input.tasks.find((t) => t.id === 'lint')).toMatchObject({
      title: 'lint',
      executor: 'shell',
      needs: ['setup'],
    });
    expect(input.summary.criticalPath).toEqual(['setup', 'build', 'test-unit', 'package']);
    expect(input.summary.makespanMs).toBe(9000);
    expect(input.summary.retries).toBe(1);
    expect(input.state.tasks.get('test-unit')?.attempts).toHaveLength(2);
    expect(input.generatedAt).toBe(T0 + 10_000);
  });

  it('keeps tasks added mid-run and tasks only the journal knows', () => {
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['a', 'ghost'] },
      { type: 'plan.expanded', at: T0 + 1, by: 'a', tasks: [{ id: 'b', needs: ['a'], prompt: 'x' }, { nope: true }] },
    ];
    const input = buildReportInput(events, { tasks: [{ id: 'a', run: 'true' }], defaults: { executor: 'codex' } });
    expect(input.tasks).toEqual([
      { id: 'a', title: 'a', needs: [], after: [], executor: 'codex' },
      { id: 'b', title: 'b', needs: ['a'], after: [], executor: 'codex' },
      { id: 'ghost', title: 'ghost', needs: [], after: [], executor: 'unknown' },
    ]);
  });
});

describe('planTasksOf', () => {
  it('reads a run folder plan.json, a bare plan, and nothing from anything else', () => {
    expect(planTasksOf(samplePlanJson())).toHaveLength(8);
    expect(planTasksOf({ tasks: [{ id: 'x', run: 'true', title: '' }] })).toEqual([
      { id: 'x', title: 'x', needs: [], after: [], executor: 'shell' },
    ]);
    expect(planTasksOf(undefined)).toEqual([]);
    expect(planTasksOf({ plan: { tasks: 'no' } })).toEqual([]);
  });

  it('has what the run waited on: what a check verifies, what a gate reads, a contract provider', () => {
    const tasks = planTasksOf({
      contracts: [{ name: 'api', provider: 'ui', consumers: ['deploy'] }],
      tasks: [
        { id: 'ui', run: 'x' },
        { id: 'test', run: 'x', verifies: ['ui'] },
        { id: 'approve', gate: 'tasks.ui.output.score >= 6 && tasks.test.succeeded' },
        { id: 'deploy', run: 'x', needs: ['approve'] },
      ],
    });
    expect(tasks.map((t) => [t.id, t.needs, t.after])).toEqual([
      ['ui', [], []],
      ['test', ['ui'], []],
      ['approve', [], ['ui', 'test']],
      ['deploy', ['approve', 'ui'], []],
    ]);
  });
});

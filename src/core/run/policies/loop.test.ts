import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../plan/compile.js';
import type { ResolvedLoop } from '../../plan/loop-check.js';
import { iterationEnded, loopFeedback, type LoopTaskView } from './loop.js';
import type { WhenSources } from './when.js';

const OUT = { type: 'object', properties: { veto: { type: 'string' }, score: { type: 'number' } } };
const plan = compilePlan(
  {
    tasks: [
      { id: 'code', run: 'x' },
      { id: 'review', run: 'x', needs: ['code'], outputSchema: OUT },
      { id: 'approve', gate: '!tasks.review.output.veto' },
    ],
    loop: { repeat: ['code', 'review', 'approve'], until: 'tasks.approve.passed', max: 3, feedback: ['review'] },
  },
  { executors: new Map([['shell', { requires: 'run' as const }]]) },
);
const loop = plan.loop as ResolvedLoop;

function sources(tasks: readonly LoopTaskView[]): WhenSources {
  return { vars: {}, task: (id) => tasks.find((t) => t.id === id) };
}

const vetoed: LoopTaskView[] = [
  { id: 'code', state: 'succeeded' },
  { id: 'review', state: 'succeeded', result: { output: { veto: 'SQL built from input' } } },
  { id: 'approve', state: 'blocked', reason: "tasks.review.output.veto = 'SQL built from input'" },
];
const approved: LoopTaskView[] = [
  { id: 'code', state: 'succeeded' },
  { id: 'review', state: 'succeeded', result: { output: { veto: '' } } },
  { id: 'approve', state: 'succeeded' },
];

describe('iterationEnded', () => {
  it('until holds → passed, with no reasons', () => {
    expect(iterationEnded(loop, 1, approved, sources(approved), undefined)).toEqual({ outcome: 'passed', reasons: [] });
  });

  it('until false → repeat, naming each blocked task with why; at max → exhausted', () => {
    const why = ["approve blocked: tasks.review.output.veto = 'SQL built from input'"];
    expect(iterationEnded(loop, 1, vetoed, sources(vetoed), undefined)).toEqual({ outcome: 'repeat', reasons: why });
    expect(iterationEnded(loop, 3, vetoed, sources(vetoed), undefined)).toEqual({ outcome: 'exhausted', reasons: why });
  });

  it('nothing blocked but until false: the reasons are the failing parts of until', () => {
    const open = approved.map((t) => (t.id === 'approve' ? { ...t, state: 'skipped' as const } : t));
    expect(iterationEnded(loop, 1, open, sources(open), undefined)).toEqual({
      outcome: 'repeat',
      reasons: ['until: tasks.approve.passed = false'],
    });
  });

  it('a failed repeated task → failed; the budget → budget; a cancelled run → no end (a resume goes on)', () => {
    const failed = vetoed.map((t) => (t.id === 'code' ? { ...t, state: 'failed' as const, reason: 'exit 1' } : t));
    expect(iterationEnded(loop, 1, failed, sources(failed), undefined)).toMatchObject({
      outcome: 'failed',
      reasons: ['code failed: exit 1', "approve blocked: tasks.review.output.veto = 'SQL built from input'"],
    });
    const upstream = approved.map((t) =>
      t.id === 'review'
        ? { ...t, state: 'skipped' as const, skipCause: 'upstream' as const, reason: 'dependency "code" failed' }
        : t,
    );
    expect(iterationEnded(loop, 1, upstream, sources(upstream), undefined)).toEqual({
      outcome: 'failed',
      reasons: ['review skipped: dependency "code" failed'],
    });
    expect(iterationEnded(loop, 1, approved, sources(approved), 'failed')?.outcome).toBe('failed');
    expect(iterationEnded(loop, 1, approved, sources(approved), 'budget')?.outcome).toBe('budget');
    expect(iterationEnded(loop, 1, approved, sources(approved), 'cancelled')).toBeUndefined();
  });
});

describe('loopFeedback', () => {
  const ids = ['code', 'review', 'approve'];
  it('says which iteration this is, why the last did not pass, and what the feedback tasks produced', () => {
    const previous = new Map(vetoed.map((t) => [t.id, t]));
    const text = loopFeedback(loop, (i) => ids[i] ?? '', 2, ['approve blocked: x'], previous);
    expect(text.split('\n')).toEqual([
      'Iteration 1 of the loop did not pass (until: tasks.approve.passed); this is iteration 2 of at most 3.',
      'Why it did not pass:',
      '- approve blocked: x',
      'What the feedback tasks produced in that iteration:',
      '--- review ---',
      '{',
      '  "veto": "SQL built from input"',
      '}',
      'Address this feedback, then finish the task.',
    ]);
  });

  it("a feedback task's text when it has no structured output, its state when it has neither; long output is cut", () => {
    const text = loopFeedback(
      loop,
      (i) => ids[i] ?? '',
      2,
      [],
      new Map([['review', { state: 'succeeded', result: { text: 'looks fine' } }]]),
    );
    expect(text).toContain('--- review ---\nlooks fine');
    expect(
      loopFeedback(loop, (i) => ids[i] ?? '', 2, [], new Map([['review', { state: 'skipped', reason: 'why' }]])),
    ).toContain('--- review ---\n(skipped: why)');
    const long = loopFeedback(
      loop,
      (i) => ids[i] ?? '',
      2,
      [],
      new Map([['review', { state: 'succeeded', result: { text: 'x'.repeat(5000) } }]]),
    );
    expect(long).toContain(`${'x'.repeat(4000)}…`);
    expect(long).not.toContain('x'.repeat(4001));
  });
});

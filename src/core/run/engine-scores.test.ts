import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { summarize, dependencyMap } from './metrics.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';

const SCORED = { type: 'object', properties: { score: { type: 'number' } } };

/** A reviewer whose nth attempt scores `scores[n-1]`; what each attempt was told is kept. */
async function review(scores: readonly unknown[], task: object = {}) {
  const p = testPlan({
    defaults: { executor: 'test' },
    tasks: [
      { id: 'ui', run: 'x', outputSchema: SCORED, score: 'score', minScore: 6, ...task },
      { id: 'ship', run: 'x', needs: ['ui'] },
    ],
  });
  const clock = new VirtualClock();
  const told: (string | undefined)[] = [];
  const executor = testExecutor((ctx) => {
    if (ctx.task.id === 'ship') return Promise.resolve({ ok: true, result: {} });
    told.push(ctx.feedback);
    const score = scores[ctx.attempt - 1];
    return new Promise((resolve) =>
      clock.setTimeout(() => resolve({ ok: true, result: { output: score === undefined ? {} : { score } } }), 1000),
    );
  });
  const { status, state, events } = await runOnClock(clock, { plan: p, executor });
  const summary = summarize(state, dependencyMap(p.graph.tasks));
  return { status, state, told, events, ui: summary.tasks.find((t) => t.id === 'ui') };
}

describe('score and minScore', () => {
  it('a score below minScore goes back with feedback naming it; the next, high enough, is kept; every score is shown', async () => {
    const r = await review([4, 7]);
    expect(r.status).toBe('succeeded');
    expect(r.told[0]).toBeUndefined();
    expect(r.told[1]).toContain('Your result scored 4 ("score" in your output); it must be at least 6.');
    expect(r.ui).toMatchObject({ state: 'succeeded', attempts: 2, scores: [4, 7] });
    expect(r.state.tasks.get('ui')?.result?.score).toBe(7);
    expect(r.events.find((e) => e.type === 'task.retrying')).toMatchObject({
      error: { message: 'score 4 is below minScore 6', code: 'WEFT_SCORE_TOO_LOW', score: 4 },
    });
  });

  it('never high enough: fails after fixAttempts, naming the last score; its dependents are skipped', async () => {
    const r = await review([2, 3, 5], { fixAttempts: 2 });
    expect(r.status).toBe('failed');
    expect(r.state.tasks.get('ui')).toMatchObject({
      state: 'failed',
      reason: 'score 5 is below minScore 6 (after 2 fix attempts)',
    });
    expect(r.ui?.scores).toEqual([2, 3, 5]);
    expect(r.state.tasks.get('ship')?.state).toBe('skipped');
  });

  it('no numeric score where minScore asks for one: sent back, saying what is missing', async () => {
    const r = await review([undefined, 'high', 8]);
    expect(r.status).toBe('succeeded');
    expect(r.told[1]).toContain('Your output must include "score": a number, at least 6.');
    expect(r.ui?.scores).toEqual([8]);
  });

  it('score without minScore only shows the number', async () => {
    const r = await review([3], { minScore: undefined });
    expect(r.status).toBe('succeeded');
    expect(r.ui?.scores).toEqual([3]);
  });
});

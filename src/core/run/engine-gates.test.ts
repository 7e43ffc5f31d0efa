import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { runPlan, type EngineOptions } from './engine.js';
import type { Executor } from '../ports/executor.js';
import { foldRun } from './run-state.js';
import type { CompiledPlan } from '../plan/compile.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';

const SCORED = { type: 'object', properties: { score: { type: 'number' }, veto: { type: 'string' } } };

function plan(tasks: object[], extra: object = {}): CompiledPlan {
  return testPlan({ name: 't', workers: 2, defaults: { executor: 'test' }, tasks, ...extra });
}

/** An executor answering each task with the output given for it, taking 1 s of virtual time. */
function outputs(clock: VirtualClock, by: Record<string, unknown>, log: string[]): Executor {
  return testExecutor((ctx) => {
    log.push(ctx.task.id);
    return new Promise((resolve) =>
      clock.setTimeout(() => resolve({ ok: true, result: { output: by[ctx.task.id] ?? {} } }), 1000),
    );
  });
}

/** Runs on a virtual clock, advancing it to each timer until the run ends. */
async function onClock(p: CompiledPlan, by: Record<string, unknown>, options: Partial<EngineOptions> = {}) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const { status, state, events } = await runOnClock(clock, { plan: p, executor: outputs(clock, by, log), ...options });
  const states = Object.fromEntries([...state.tasks.values()].map((r) => [r.id, r.state]));
  return { status, state, states, events, log };
}

const reviewPlan = () =>
  plan([
    { id: 'code', run: 'x' },
    { id: 'ui', run: 'x', needs: ['code'], outputSchema: SCORED },
    { id: 'security', run: 'x', needs: ['code'], outputSchema: SCORED },
    { id: 'approve', gate: 'tasks.ui.output.score >= 6 && !tasks.security.output.veto' },
    { id: 'deploy', run: 'x', needs: ['approve'] },
    { id: 'notes', run: 'x', needs: ['deploy'] },
  ]);

describe('gates', () => {
  it('a gate that holds passes at once and its dependents run', async () => {
    const r = await onClock(reviewPlan(), { ui: { score: 8 }, security: { veto: '' } });
    expect(r.status).toBe('succeeded');
    expect(r.states).toMatchObject({ approve: 'succeeded', deploy: 'succeeded', notes: 'succeeded' });
    expect(r.log).not.toContain('approve'); // a gate runs nothing
    // It was decided when the tasks it reads ended (it waits for them without a `needs`).
    const ended = r.events.find((e) => e.type === 'task.succeeded' && e.task === 'approve')?.at;
    expect(ended).toBe(2000);
  });

  it('a blocked gate names the failing parts with their values, skips its dependents, and the run ends blocked', async () => {
    const r = await onClock(reviewPlan(), { ui: { score: 4 }, security: { veto: 'SQL built from input' } });
    expect(r.status).toBe('blocked');
    expect(r.states).toMatchObject({ approve: 'blocked', deploy: 'skipped', notes: 'skipped' });
    expect(r.log).not.toContain('deploy');
    const blocked = r.events.find((e) => e.type === 'task.blocked');
    expect(blocked).toMatchObject({
      task: 'approve',
      reason: "tasks.ui.output.score = 4 < 6; tasks.security.output.veto = 'SQL built from input'",
      parts: ['tasks.ui.output.score = 4 < 6', "tasks.security.output.veto = 'SQL built from input'"],
    });
    const deploy = r.state.tasks.get('deploy');
    expect(deploy).toMatchObject({ skipCause: 'blocked', reason: 'dependency "approve" was blocked' });
    expect(r.state.tasks.get('notes')).toMatchObject({ skipCause: 'blocked' });
    expect(r.state.reason).toBe(
      "approve blocked: tasks.ui.output.score = 4 < 6; tasks.security.output.veto = 'SQL built from input'",
    );
    // Only the failing part is named.
    const one = await onClock(reviewPlan(), { ui: { score: 9 }, security: { veto: 'secrets in logs' } });
    expect(one.state.tasks.get('approve')?.reason).toBe("tasks.security.output.veto = 'secrets in logs'");
  });

  it('a failure upstream of a gate fails the run (not blocked): the gate is skipped, never decided', async () => {
    const p = plan([
      { id: 'ui', run: 'x', outputSchema: SCORED },
      { id: 'approve', gate: 'tasks.ui.output.score >= 6' },
    ]);
    const clock = new VirtualClock();
    const failing = testExecutor(() => Promise.resolve({ ok: false, failure: { message: 'boom' } }));
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      executors: new Map([['test', failing]]),
      baseDir: '/',
      clock,
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.state.tasks.get('approve')?.state).toBe('skipped');
  });

  it('a resumed run keeps a blocked gate blocked: the journal decided it, it is not decided again', async () => {
    const first = await onClock(reviewPlan(), { ui: { score: 4 }, security: {} });
    expect(first.status).toBe('blocked');
    // Between the two lives the outputs would now pass; the gate's journaled decision stands.
    const prior = foldRun(first.events);
    const again = await onClock(reviewPlan(), { ui: { score: 9 }, security: {} }, { prior });
    expect(again.status).toBe('blocked');
    expect(again.log).toEqual([]);
    expect(again.events.filter((e) => e.type === 'task.blocked')).toEqual([]);
    expect(again.state.tasks.get('approve')?.reason).toBe('tasks.ui.output.score = 4 < 6');
  });

  it('a gate reading vars and a task that was skipped by its own condition', async () => {
    const p = plan(
      [
        { id: 'lint', run: 'x', when: 'vars.strict' },
        { id: 'ok', gate: 'tasks.lint.succeeded || vars.force', after: ['lint'] },
      ],
      { vars: { strict: false, force: false } },
    );
    const r = await onClock(p, {});
    expect(r.status).toBe('blocked');
    expect(r.state.tasks.get('ok')?.reason).toBe('tasks.lint.succeeded = false; vars.force = false');
  });
});

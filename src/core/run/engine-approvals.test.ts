import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import type { EngineOptions } from './engine.js';
import type { ApprovalDecision } from './engine-options.js';
import { foldRun } from './run-state.js';
import type { CompiledPlan } from '../plan/compile.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';

function plan(tasks: object[]): CompiledPlan {
  return testPlan({ name: 't', workers: 2, defaults: { executor: 'test' }, tasks });
}

const deployPlan = () =>
  plan([
    { id: 'build', run: 'x' },
    { id: 'deploy', run: 'x', needs: ['build'], approval: 'required' },
    { id: 'announce', run: 'x', needs: ['deploy'] },
  ]);

/**
 * Runs on a virtual clock; `decide` says what a person decided by virtual time `at` (read through
 * pollDecisions, as the CLI reads the journal). `stopAt` aborts the run then (Ctrl-C).
 */
async function onClock(
  p: CompiledPlan,
  decide: (at: number) => readonly ApprovalDecision[],
  options: Partial<EngineOptions> & { stopAt?: number } = {},
) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const executor = testExecutor((ctx) => {
    log.push(ctx.task.id);
    return new Promise((resolve) => clock.setTimeout(() => resolve({ ok: true, result: {} }), 1000));
  });
  const given = new Set<ApprovalDecision>();
  const abort = new AbortController();
  const { stopAt, ...engine } = options;
  const { status, state, events } = await runOnClock(clock, {
    plan: p,
    executor,
    pollDecisions: () => {
      const fresh = decide(clock.now()).filter((d) => !given.has(d));
      for (const d of fresh) given.add(d);
      return Promise.resolve(fresh);
    },
    signal: abort.signal,
    ...engine,
    onTurn: () => {
      if (stopAt !== undefined && clock.now() >= stopAt) abort.abort();
    },
  });
  return {
    status,
    state,
    events,
    log,
    at: (type: string, task: string) => events.find((e) => e.type === type && 'task' in e && e.task === task)?.at,
  };
}

const approved = (at: number, by = 'ana@box'): ApprovalDecision => ({
  type: 'approval.decided',
  at,
  task: 'deploy',
  decision: 'approved',
  by,
});

describe('approval: required', () => {
  it('holds the task once it is ready, journals the wait, and starts it when a person approves', async () => {
    const yes = approved(30_000);
    const r = await onClock(deployPlan(), (now) => (now >= 30_000 ? [yes] : []));
    expect(r.status).toBe('succeeded');
    expect(r.log).toEqual(['build', 'deploy', 'announce']);
    expect(r.at('approval.waiting', 'deploy')).toBe(1000);
    // It started at the first poll after the decision, not before.
    expect(r.at('task.started', 'deploy')).toBeGreaterThanOrEqual(30_000);
    expect(r.at('task.started', 'deploy')).toBeLessThanOrEqual(31_000);
    expect(r.state.tasks.get('deploy')?.approval).toMatchObject({ state: 'approved', since: 1000, by: 'ana@box' });
    // The decision came from the journal (another process wrote it): the run does not append it again.
    expect(r.events.filter((e) => e.type === 'approval.decided')).toEqual([]);
  });

  it('a rejection blocks the task with the reason, skips its dependents, and the run ends blocked', async () => {
    const no: ApprovalDecision = { ...approved(5000), decision: 'rejected', reason: 'not on a Friday' };
    const r = await onClock(deployPlan(), (now) => (now >= 5000 ? [no] : []));
    expect(r.status).toBe('blocked');
    expect(r.log).toEqual(['build']);
    expect(r.state.tasks.get('deploy')).toMatchObject({
      state: 'blocked',
      reason: 'rejected by ana@box: not on a Friday',
    });
    expect(r.state.tasks.get('announce')).toMatchObject({ state: 'skipped', skipCause: 'blocked' });
    expect(r.state.reason).toBe('deploy blocked: rejected by ana@box: not on a Friday');
  });

  it('stopped while waiting, then resumed: it keeps waiting from the same since; a decision made meanwhile is read from the journal', async () => {
    const first = await onClock(deployPlan(), () => [], { stopAt: 10_000 });
    expect(first.status).toBe('cancelled');
    const prior = foldRun(first.events);
    expect(prior.tasks.get('deploy')?.approval).toEqual({ state: 'waiting', since: 1000 });
    // Resumed with no decision yet: no second approval.waiting, still since 1000.
    const again = await onClock(deployPlan(), () => [], { prior, stopAt: 20_000 });
    expect(again.events.filter((e) => e.type === 'approval.waiting')).toEqual([]);
    expect(again.log).toEqual([]);
    // A person approved while weft was stopped (`weft approve` appended it): the next resume runs it at once.
    const withDecision = foldRun([...first.events, ...again.events, approved(25_000)]);
    const last = await onClock(deployPlan(), () => [], { prior: withDecision });
    expect(last.status).toBe('succeeded');
    expect(last.log).toEqual(['deploy', 'announce']);
  });

  it('a gate with approval: the person decides first, then the condition', async () => {
    const p = plan([
      { id: 'build', run: 'x' },
      { id: 'ok', gate: 'tasks.build.succeeded', approval: 'required' },
      { id: 'ship', run: 'x', needs: ['ok'] },
    ]);
    const yes: ApprovalDecision = { ...approved(2000), task: 'ok' };
    const r = await onClock(p, (now) => (now >= 2000 ? [yes] : []));
    expect(r.status).toBe('succeeded');
    expect(r.at('task.succeeded', 'ok')).toBeGreaterThanOrEqual(2000);
    expect(r.log).toEqual(['build', 'ship']);
  });
});

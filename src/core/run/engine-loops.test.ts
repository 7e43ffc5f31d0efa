import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import { runPlan, type EngineOptions } from './engine.js';
import type { ApprovalDecision } from './engine-options.js';
import type { RunEvent } from './events.js';
import type { Executor, TaskContext } from '../ports/executor.js';
import { foldRun } from './run-state.js';
import { compilePlan, type CompiledPlan } from '../plan/compile.js';

const OUT = {
  type: 'object',
  properties: { score: { type: 'number' }, rate: { type: 'number' }, veto: { type: 'string' } },
};

function plan(tasks: object[], loop: object, extra: object = {}): CompiledPlan {
  return compilePlan(
    { name: 't', workers: 4, defaults: { executor: 'test' }, tasks, loop, ...extra },
    { executors: new Map([['test', { requires: 'run' as const }]]) },
  );
}

/** The orion cycle: code, then UI review ∥ tests ∥ security, a gate, and deploy after the loop. */
const orion = (max = 5, extraTasks: object[] = []) =>
  plan(
    [
      { id: 'code', run: 'x' },
      { id: 'ui', run: 'x', needs: ['code'], outputSchema: OUT },
      { id: 'tests', run: 'x', needs: ['code'], outputSchema: OUT },
      { id: 'security', run: 'x', needs: ['code'], outputSchema: OUT },
      {
        id: 'approve',
        gate: 'tasks.ui.output.score >= 6 && tasks.tests.output.rate >= 0.8 && !tasks.security.output.veto',
      },
      { id: 'deploy', run: 'x', needs: ['approve'] },
      ...extraTasks,
    ],
    {
      repeat: ['code', 'ui', 'tests', 'security', 'approve'],
      until: 'tasks.approve.passed',
      max,
      feedback: ['security', 'ui', 'tests'],
    },
  );

/** What each task outputs in each iteration (its WEFT_ITERATION), and what it costs. */
type Script = (
  id: string,
  iteration: number | undefined,
  attempt?: number,
) => { output?: unknown; costUsd?: number; fail?: string };

interface Call {
  readonly id: string;
  readonly attempt: number;
  readonly iteration: number | undefined;
  readonly feedback: string | undefined;
  readonly at: number;
}

/** Runs on a virtual clock (each task takes 1 s); `decide` answers approvals; `stopAt` aborts (Ctrl-C). */
async function onClock(
  p: CompiledPlan,
  script: Script,
  options: Partial<EngineOptions> & { stopAt?: number; decide?: (at: number) => readonly ApprovalDecision[] } = {},
) {
  const clock = new VirtualClock();
  const events: RunEvent[] = [];
  const calls: Call[] = [];
  const executor: Executor = {
    name: 'test',
    version: '1',
    info: { requires: 'run' },
    run: (ctx: TaskContext) => {
      calls.push({
        id: ctx.task.id,
        attempt: ctx.attempt,
        iteration: ctx.iteration,
        feedback: ctx.feedback,
        at: clock.now(),
      });
      const { output, costUsd, fail } = script(ctx.task.id, ctx.iteration, ctx.attempt);
      const result = {
        ...(output === undefined ? {} : { output }),
        ...(costUsd === undefined ? {} : { usage: { costUsd } }),
      };
      const outcome =
        fail === undefined ? { ok: true as const, result } : { ok: false as const, failure: { message: fail } };
      return new Promise((resolve) => clock.setTimeout(() => resolve(outcome), 1000));
    },
  };
  const given = new Set<ApprovalDecision>();
  const abort = new AbortController();
  let finished = false;
  const { stopAt, decide, ...rest } = options;
  const outcome = runPlan({
    runId: 'r',
    plan: p,
    executors: new Map([['test', executor]]),
    baseDir: '/tmp',
    clock,
    journal: (batch) => void events.push(...batch),
    signal: abort.signal,
    pollDecisions: () => {
      const fresh = (decide?.(clock.now()) ?? []).filter((d) => !given.has(d));
      for (const d of fresh) given.add(d);
      return Promise.resolve(fresh);
    },
    ...rest,
  }).finally(() => (finished = true));
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    if (stopAt !== undefined && clock.now() >= stopAt) abort.abort();
    const next = clock.nextTimerAt();
    if (next !== undefined) clock.advance(next - clock.now());
  }
  const { status, state } = await outcome;
  const loopEvents = events.filter((e) => e.type.startsWith('loop.'));
  return { status, state, events, calls, loopEvents, ran: (id: string) => calls.filter((c) => c.id === id) };
}

/** Security vetoes in iteration 1; from iteration 2 on everything passes. */
const vetoOnce: Script = (id, n) => {
  if (id === 'security') return { output: n === 1 ? { veto: 'SQL built from input' } : { veto: '' } };
  if (id === 'ui') return { output: { score: 8 } };
  if (id === 'tests') return { output: { rate: 0.9 } };
  return {};
};

describe('loop:', () => {
  it('a veto in iteration 1, approved in iteration 2: deploy runs exactly once, after the approving iteration', async () => {
    const r = await onClock(orion(), vetoOnce);
    expect(r.status).toBe('succeeded');
    expect(r.ran('deploy')).toHaveLength(1);
    expect(r.ran('code').map((c) => [c.attempt, c.iteration])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(r.ran('deploy')[0]?.iteration).toBeUndefined(); // not repeated: no iteration of its own
    expect(r.loopEvents).toEqual([
      { type: 'loop.iteration.started', at: 0, iteration: 1 },
      {
        type: 'loop.iteration.ended',
        at: 2000,
        iteration: 1,
        outcome: 'repeat',
        reasons: ["approve blocked: tasks.security.output.veto = 'SQL built from input'"],
        durationMs: 2000,
      },
      {
        type: 'loop.iteration.started',
        at: 2000,
        iteration: 2,
        tasks: ['code', 'ui', 'tests', 'security', 'approve'],
      },
      { type: 'loop.iteration.ended', at: 4000, iteration: 2, outcome: 'passed', reasons: [], durationMs: 2000 },
    ]);
    // Deploy waited for the loop: it started after the approving iteration ended.
    expect(r.ran('deploy')[0]?.at).toBe(4000);
    // The gate that blocked in iteration 1 did not skip deploy while another iteration could pass.
    expect(r.events.filter((e) => e.type === 'task.skipped')).toEqual([]);
    expect(r.state.tasks.get('approve')?.state).toBe('succeeded');
    expect(r.state.loop?.iterations.map((i) => i.outcome)).toEqual(['repeat', 'passed']);
  });

  it("iteration 2's tasks get the combined feedback: why iteration 1 did not pass and the feedback tasks' outputs", async () => {
    const r = await onClock(orion(), vetoOnce);
    const second = r.ran('code')[1];
    expect(second?.feedback).toContain('Iteration 1 of the loop did not pass (until: tasks.approve.passed)');
    expect(second?.feedback).toContain("- approve blocked: tasks.security.output.veto = 'SQL built from input'");
    expect(second?.feedback).toContain('--- security ---\n{\n  "veto": "SQL built from input"\n}');
    expect(second?.feedback).toContain('--- ui ---\n{\n  "score": 8\n}');
    // Every repeated task that runs something gets it; the first iteration gets none.
    for (const id of ['ui', 'tests', 'security']) expect(r.ran(id)[1]?.feedback).toBe(second?.feedback);
    expect(r.ran('code')[0]?.feedback).toBeUndefined();
  });

  it("never approved: stops at max with the last iteration's reasons; the run ends blocked and deploy never runs", async () => {
    const r = await onClock(orion(3), (id) => (id === 'ui' ? { output: { score: 4 } } : vetoOnce(id, 2)));
    expect(r.status).toBe('blocked');
    expect(r.ran('code')).toHaveLength(3);
    expect(r.ran('deploy')).toEqual([]);
    const ended = r.loopEvents.filter((e) => e.type === 'loop.iteration.ended');
    expect(ended.map((e) => e.type === 'loop.iteration.ended' && e.outcome)).toEqual(['repeat', 'repeat', 'exhausted']);
    expect(r.state.tasks.get('deploy')).toMatchObject({ state: 'skipped', skipCause: 'blocked' });
    expect(r.state.reason).toBe(
      'the loop stopped after 3 iteration(s) (its max) without passing: approve blocked: tasks.ui.output.score = 4 < 6',
    );
  });

  it('until false with nothing blocked: at max the run ends blocked and what depends on the loop is skipped', async () => {
    const p = plan(
      [
        { id: 'tests', run: 'x', outputSchema: OUT },
        { id: 'ship', run: 'x', needs: ['tests'] },
      ],
      { repeat: ['tests'], until: 'tasks.tests.output.rate >= 0.8', max: 2 },
    );
    const r = await onClock(p, () => ({ output: { rate: 0.5 } }));
    expect(r.status).toBe('blocked');
    expect(r.ran('tests')).toHaveLength(2);
    expect(r.ran('ship')).toEqual([]);
    expect(r.state.tasks.get('ship')).toMatchObject({
      state: 'skipped',
      skipCause: 'blocked',
      reason: 'the loop ended after 2 iteration(s) without `tasks.tests.output.rate >= 0.8`',
    });
    expect(r.state.reason).toBe(
      'the loop stopped after 2 iteration(s) (its max) without passing: until: tasks.tests.output.rate = 0.5 < 0.8',
    );
    // Without feedback tasks, the next iteration still hears why: the failing part of until.
    expect(r.ran('tests')[1]?.feedback).toContain('- until: tasks.tests.output.rate = 0.5 < 0.8');
  });

  it("budget exhausted mid-loop: the iteration ends with 'budget', the run stops with the budget's reason", async () => {
    const costly: Script = (id) => ({ ...vetoOnce(id, 1), costUsd: 0.1 });
    const r = await onClock(orion(5), costly, { budget: { usd: 0.7 } });
    expect(r.status).toBe('failed');
    expect(r.state.reason).toMatch(/^budget exceeded: spent \$0\.7000 of \$0\.7/);
    expect(r.ran('deploy')).toEqual([]);
    const ended = r.loopEvents.filter((e) => e.type === 'loop.iteration.ended');
    expect(ended.at(-1)).toMatchObject({ iteration: 2, outcome: 'budget' });
    // Iteration 1's cost: code + three reviews at $0.10 each.
    expect(ended[0]).toMatchObject({ iteration: 1, outcome: 'repeat', costUsd: expect.closeTo(0.4, 5) as number });
    expect(r.ran('code')).toHaveLength(2);
    // Resumed with more budget, the loop goes on with iteration 2 (its security had still vetoed, so
    // the gate blocks), then iteration 3 passes; deploy runs once.
    const fixed: Script = (id, n) => ({ ...vetoOnce(id, n), costUsd: 0.1 });
    const again = await onClock(orion(5), fixed, { prior: foldRun(r.events), budget: { usd: 5 } });
    expect(again.status).toBe('succeeded');
    const ends = again.loopEvents.flatMap((e) => (e.type === 'loop.iteration.ended' ? [[e.iteration, e.outcome]] : []));
    expect(ends).toEqual([
      [2, 'repeat'],
      [3, 'passed'],
    ]);
    expect(again.ran('deploy')).toHaveLength(1);
    expect(again.state.loop?.iterations.map((i) => i.outcome)).toEqual(['repeat', 'repeat', 'passed']);
  });

  it('a resume mid-iteration goes on with the same iteration: what it finished stays, the rest gets its feedback', async () => {
    // Stopped as iteration 2's reviews started (its code ran 2–3 s).
    const first = await onClock(orion(), vetoOnce, { stopAt: 3000 });
    expect(first.status).toBe('cancelled');
    const prior = foldRun(first.events);
    expect(prior.loop?.iterations.map((i) => [i.iteration, i.outcome])).toEqual([
      [1, 'repeat'],
      [2, undefined],
    ]);
    const again = await onClock(orion(), vetoOnce, { prior });
    expect(again.status).toBe('succeeded');
    // No new iteration started: iteration 2 goes on, and passes.
    expect(again.loopEvents).toEqual([
      expect.objectContaining({ type: 'loop.iteration.ended', iteration: 2, outcome: 'passed' }),
    ]);
    expect(again.ran('code')).toEqual([]); // it finished iteration 2 before the stop
    expect(again.ran('security').map((c) => c.iteration)).toEqual([2]);
    expect(again.ran('security')[0]?.feedback).toContain("tasks.security.output.veto = 'SQL built from input'");
    expect(again.ran('deploy')).toHaveLength(1);
  });

  it("a retry within iteration 2 gets the loop's feedback too", async () => {
    const p = plan(
      [
        { id: 'code', run: 'x', retries: 1, backoff: { initial: '1s', jitter: false }, outputSchema: OUT },
        { id: 'ok', gate: '!tasks.code.output.veto' },
      ],
      { repeat: ['code', 'ok'], until: 'tasks.ok.passed', max: 3, feedback: ['code'] },
    );
    const r = await onClock(p, (_id, n, attempt) =>
      n === 1 ? { output: { veto: 'no tests' } } : attempt === 2 ? { fail: 'flaky network' } : { output: { veto: '' } },
    );
    expect(r.status).toBe('succeeded');
    expect(r.ran('code').map((c) => [c.iteration, c.attempt])).toEqual([
      [1, 1],
      [2, 2],
      [2, 3],
    ]);
    for (const c of r.ran('code').slice(1))
      expect(c.feedback).toContain("- ok blocked: tasks.code.output.veto = 'no tests'");
  });

  it('a loop that is the whole plan repeats and ends when it passes', async () => {
    const p = plan(
      [
        { id: 'tests', run: 'x', outputSchema: OUT },
        { id: 'ok', gate: 'tasks.tests.output.rate >= 0.8' },
      ],
      { repeat: ['tests', 'ok'], until: 'tasks.ok.passed', max: 4 },
    );
    const r = await onClock(p, (_id, n) => ({ output: { rate: (n ?? 0) >= 3 ? 0.9 : 0.5 } }));
    expect(r.status).toBe('succeeded');
    expect(r.ran('tests').map((c) => c.iteration)).toEqual([1, 2, 3]);
    expect(r.state.loop?.iterations.map((i) => i.outcome)).toEqual(['repeat', 'repeat', 'passed']);
  });

  it('a repeated task that fails for good ends the loop as failed: no further iteration, deploy is skipped', async () => {
    const p = plan(
      [
        { id: 'code', run: 'x' },
        { id: 'deploy', run: 'x', needs: ['code'] },
      ],
      { repeat: ['code'], until: 'tasks.code.succeeded', max: 3 },
    );
    const clock = new VirtualClock();
    const failing: Executor = {
      name: 'test',
      version: '1',
      info: { requires: 'run' },
      run: () => Promise.resolve({ ok: false, failure: { message: 'exit 1' } }),
    };
    const events: RunEvent[] = [];
    const outcome = await runPlan({
      runId: 'r',
      plan: p,
      executors: new Map([['test', failing]]),
      baseDir: '/tmp',
      clock,
      journal: (batch) => void events.push(...batch),
    });
    expect(outcome.status).toBe('failed');
    expect(events.filter((e) => e.type === 'loop.iteration.ended')).toEqual([
      expect.objectContaining({ iteration: 1, outcome: 'failed', reasons: ['code failed: exit 1'] }),
    ]);
    expect(outcome.state.tasks.get('deploy')).toMatchObject({ state: 'skipped', skipCause: 'upstream' });
  });

  it("stopped while iteration 2 waits for a person, then resumed: iteration 1's rejection, read again, is not taken for this wait", async () => {
    const p = plan(
      [
        { id: 'code', run: 'x' },
        { id: 'approve', gate: 'tasks.code.succeeded', approval: 'required' },
        { id: 'deploy', run: 'x', needs: ['approve'] },
      ],
      { repeat: ['code', 'approve'], until: 'tasks.approve.passed', max: 3 },
    );
    const no: ApprovalDecision = {
      type: 'approval.decided',
      at: 5000,
      task: 'approve',
      decision: 'rejected',
      reason: 'make the button blue',
      by: 'ana@box',
    };
    // The rejection is written into the journal, as `weft reject` would; the run reads it by polling.
    const first = await onClock(p, () => ({}), { decide: (now) => (now >= 5000 ? [no] : []), stopAt: 30_000 });
    expect(first.status).toBe('cancelled');
    const journal = [...first.events.filter((e) => e.at < 5000 || e.type !== 'approval.decided'), no].sort(
      (a, b) => a.at - b.at,
    );
    const prior = foldRun(journal);
    expect(prior.loop?.iterations.map((i) => i.iteration)).toEqual([1, 2]);
    expect(prior.tasks.get('approve')?.approval?.state).toBe('waiting');
    // A new weft reads the journal's decisions from the start: the old rejection comes again, then an approval.
    const yes: ApprovalDecision = { ...no, at: 40_000, decision: 'approved' };
    delete (yes as { reason?: string }).reason;
    const again = await onClock(p, () => ({}), { prior, decide: (now) => (now >= 10_000 ? [no, yes] : [no]) });
    expect(again.status).toBe('succeeded');
    expect(again.events.filter((e) => e.type === 'task.blocked')).toEqual([]);
    expect(again.ran('deploy')).toHaveLength(1);
    expect(again.ran('code')).toEqual([]); // iteration 2's code had finished before the stop
  });

  it('stopped after the loop passed, while deploy ran: a resume runs deploy (once more) and nothing of the loop', async () => {
    const first = await onClock(orion(), vetoOnce, { stopAt: 4000 });
    expect(first.status).toBe('cancelled');
    expect(first.ran('deploy')).toHaveLength(1);
    const prior = foldRun(first.events);
    expect(prior.loop?.iterations.at(-1)?.outcome).toBe('passed');
    const again = await onClock(orion(), vetoOnce, { prior });
    expect(again.status).toBe('succeeded');
    expect(again.calls.map((c) => c.id)).toEqual(['deploy']);
    expect(again.loopEvents).toEqual([]);
  });

  it("a person's rejection is the next iteration's feedback; an approval in iteration 2 passes the loop", async () => {
    const p = plan(
      [
        { id: 'code', run: 'x' },
        { id: 'approve', gate: 'tasks.code.succeeded', approval: 'required' },
        { id: 'deploy', run: 'x', needs: ['approve'] },
      ],
      { repeat: ['code', 'approve'], until: 'tasks.approve.passed', max: 3 },
    );
    const decision = (at: number, d: 'approved' | 'rejected', reason?: string): ApprovalDecision => ({
      type: 'approval.decided',
      at,
      task: 'approve',
      decision: d,
      by: 'ana@box',
      ...(reason === undefined ? {} : { reason }),
    });
    const no = decision(5000, 'rejected', 'make the button blue');
    const yes = decision(20_000, 'approved');
    // The rejection stays in what the poll returns: it must not be taken again for iteration 2's wait.
    const r = await onClock(p, () => ({}), { decide: (now) => (now >= 20_000 ? [no, yes] : now >= 5000 ? [no] : []) });
    expect(r.status).toBe('succeeded');
    expect(r.ran('code')).toHaveLength(2);
    expect(r.ran('code')[1]?.feedback).toContain('- approve blocked: rejected by ana@box: make the button blue');
    expect(r.ran('deploy')).toHaveLength(1);
    expect(r.events.filter((e) => e.type === 'approval.waiting')).toHaveLength(2);
  });
});

describe('loop: after an expansion grew the graph', () => {
  it("the next iteration's scheduler orders the grown graph by critical path, not by a score found for the smaller one", async () => {
    const executors = new Map([['test', { requires: 'run' as const }]]);
    const p = compilePlan(
      {
        name: 't',
        workers: 1,
        defaults: { executor: 'test' },
        tasks: [
          { id: 'scan', run: 'x', expands: true },
          { id: 'code', run: 'x', outputSchema: OUT },
          { id: 'approve', gate: 'tasks.code.output.score >= 6' },
        ],
        loop: { repeat: ['code', 'approve'], until: 'tasks.approve.passed', max: 3 },
      },
      { executors },
    );
    // scan adds, after the loop: `short`, declared first, and `long` → `tail`, the longer path.
    const added = [
      { id: 'short', run: 'x', needs: ['approve'] },
      { id: 'long', run: 'x', needs: ['approve'] },
      { id: 'tail', run: 'x', needs: ['long'] },
    ];
    const r = await onClock(
      p,
      (id, n) =>
        id === 'scan' ? { output: { tasks: added } } : id === 'code' ? { output: { score: n === 1 ? 3 : 8 } } : {},
      {
        recompile: (spec) => compilePlan(spec, { executors }),
        // What `weft run` hands the engine: an order found for the plan as written (3 tasks).
        score: Float64Array.from([3, 2, 1]),
      },
    );
    expect(r.status).toBe('succeeded');
    expect(r.calls.map((c) => c.id)).toEqual(['scan', 'code', 'code', 'long', 'short', 'tail']);
  });
});

import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import type { TaskContext, TaskOutcome } from '../ports/executor.js';
import { summarize } from './metrics.js';
import { foldRun, type RunState } from './run-state.js';
import { preemptedNote } from './policies/preempt.js';
import { runOnClock, testExecutor, testPlan } from '../testing/engine-harness.js';
import type { Workspace } from '../ports/workspace.js';

/** A workspace that only records what the engine asks of it, in order. */
function recordingWorkspace(): Workspace & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    prepare: (task, attempt, fix) => (
      calls.push(`prepare ${task.id} ${attempt}${fix ? ' fix' : ''}`),
      Promise.resolve('/tmp')
    ),
    integrate: (task, attempt) => (calls.push(`integrate ${task.id} ${attempt}`), Promise.resolve({ ok: true })),
    release: (task, attempt, outcome) => (calls.push(`release ${task.id} ${attempt} ${outcome}`), Promise.resolve()),
  };
}

/** What each attempt saw: its number, feedback and session, and when it started. */
interface Seen {
  readonly task: string;
  readonly attempt: number;
  readonly at: number;
  readonly feedback: string | undefined;
  readonly sessionId: string | undefined;
}

/**
 * Runs `tasks` on a VirtualClock. Each takes `ms[id]` virtual ms (default 1 s), fails its first
 * attempt at once when it is in `failFirst`, reports a session, and ends with a failure when
 * aborted (after `stopMs[id]`). With `agent`, the executor runs prompts (as an agent CLI does).
 */
async function runVirtual(
  workers: number,
  tasks: object[],
  o: {
    ms?: Record<string, number>;
    /** How long a task takes to stop once aborted (a process in its grace period), ms. */
    stopMs?: Record<string, number>;
    failFirst?: string[];
    pools?: Record<string, number>;
    prior?: RunState;
    agent?: boolean;
    workspace?: Workspace;
  } = {},
) {
  const clock = new VirtualClock();
  const info = { requires: o.agent === true ? ('prompt' as const) : ('run' as const) };
  const plan = testPlan(
    {
      name: 't',
      workers,
      defaults: { executor: 'test', backoff: { initial: '100ms', jitter: false } },
      ...(o.pools === undefined ? {} : { pools: o.pools }),
      tasks: tasks.map((t) => ({ ...(o.agent === true ? { prompt: 'p' } : { run: 'x' }), ...t })),
    },
    info,
  );
  const seen: Seen[] = [];
  const behave = (ctx: TaskContext): Promise<TaskOutcome> => {
    const id = ctx.task.id;
    seen.push({ task: id, attempt: ctx.attempt, at: clock.now(), feedback: ctx.feedback, sessionId: ctx.sessionId });
    ctx.emit({ kind: 'session', sessionId: `${id}-session` });
    if (ctx.attempt === 1 && o.failFirst?.includes(id) === true)
      return Promise.resolve({ ok: false, failure: { message: 'exit 1' } });
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => resolve({ ok: true, result: { text: id } }), o.ms?.[id] ?? 1000);
      ctx.signal.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        const stopped = () => resolve({ ok: false, failure: { message: 'killed by SIGTERM' } });
        if (o.stopMs?.[id] === undefined) stopped();
        else clock.setTimeout(stopped, o.stopMs[id]);
      });
    });
  };
  const prior = o.prior === undefined ? {} : { prior: o.prior };
  const workspace = o.workspace === undefined ? {} : { workspace: o.workspace };
  const executor = testExecutor(behave, info);
  const { state, status, events } = await runOnClock(clock, { plan, executor, ...prior, ...workspace });
  const summary = summarize(state, new Map());
  const started = (task: string) =>
    events.flatMap((e) => (e.type === 'task.started' && e.task === task ? [{ attempt: e.attempt, at: e.at }] : []));
  return {
    state,
    status,
    events,
    seen,
    summary,
    started,
    preempted: events.filter((e) => e.type === 'task.preempted'),
  };
}

// `urgent` fails its first attempt at once and retries 100 ms later: by then the other tasks hold every worker.
const urgentRetry = (cls: string) => ({ id: 'urgent', class: cls, retries: 1 });

describe('priority classes and preemption on the virtual clock', () => {
  it('starts a P0 at once when it becomes ready while M tasks run; the stopped task runs again and finishes', async () => {
    const r = await runVirtual(2, [urgentRetry('P0'), { id: 'a', class: 'P2' }, { id: 'b', class: 'P3' }], {
      ms: { a: 10_000, b: 10_000 },
      failFirst: ['urgent'],
    });
    // The lowest class (b, P3) is stopped, not a (P2).
    expect(r.preempted).toEqual([
      { type: 'task.preempted', at: 100, task: 'b', attempt: 1, by: 'urgent', byClass: 'P0' },
    ]);
    expect(r.started('urgent')).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 100 },
    ]);
    expect(r.started('b')).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 1100 }, // when urgent ended and gave its worker back
    ]);
    expect(r.status).toBe('succeeded');
    expect(r.state.tasks.get('b')).toMatchObject({ state: 'succeeded', result: { text: 'b' } });
    // Not a failure, and not counted as a retry: b has no retries, and the summary counts none for it.
    expect(r.summary.retries).toBe(1); // urgent's own retry
    expect(r.summary.preemptions).toBe(1);
    expect(r.summary.tasks.find((t) => t.id === 'b')?.preemptedBy).toEqual(['urgent']);
    expect(r.events.find((e) => e.type === 'task.retrying' && e.task === 'b')).toMatchObject({
      error: { code: 'WEFT_PREEMPTED', message: 'preempted by urgent' },
      retryAt: 100,
    });
  });

  it('resumes after a crash between the stop and its end: the preempted task runs again, its attempts go on', async () => {
    const tasks = [urgentRetry('P0'), { id: 'a', class: 'P2' }, { id: 'b', class: 'P3' }];
    const o = { ms: { a: 10_000, b: 10_000 }, failFirst: ['urgent'] };
    const first = await runVirtual(2, tasks, o);
    // The journal as a crash would leave it: up to the task.preempted, nothing after.
    const cut = first.events.findIndex((e) => e.type === 'task.preempted');
    const prior = foldRun([...first.events.slice(0, cut + 1), { type: 'run.resumed', at: 200, by: 'test' }]);
    expect(prior.tasks.get('b')?.attempts[0]).toMatchObject({ preemptedBy: 'urgent', outcome: 'interrupted' });
    const resumed = await runVirtual(2, tasks, { ...o, prior });
    expect(resumed.status).toBe('succeeded');
    expect(resumed.state.tasks.get('b')).toMatchObject({ state: 'succeeded' });
    expect(resumed.started('b')[0]?.attempt).toBe(2);
    expect(resumed.summary.preemptions).toBe(1);
    expect(resumed.summary.tasks.find((t) => t.id === 'b')?.preemptedBy).toEqual(['urgent']);
  });

  it('resumes a preempted agent after a crash as without one: the note, in its kept worktree', async () => {
    const tasks = [urgentRetry('P0'), { id: 'long', class: 'P3' }, { id: 'x' }];
    const o = { ms: { long: 10_000, x: 10_000 }, failFirst: ['urgent'], agent: true };
    const first = await runVirtual(2, tasks, { ...o, workspace: recordingWorkspace() });
    // The journal as a crash would leave it: up to the task.preempted, nothing after.
    const cut = first.events.findIndex((e) => e.type === 'task.preempted');
    const prior = foldRun([...first.events.slice(0, cut + 1), { type: 'run.resumed', at: 200, by: 'test' }]);
    const workspace = recordingWorkspace();
    const resumed = await runVirtual(2, tasks, { ...o, prior, workspace });
    expect(resumed.status).toBe('succeeded');
    const long = resumed.seen.filter((s) => s.task === 'long');
    // Its attempts go on, in its session, told it was paused (after urgent and x: its class is the lowest).
    expect(long).toEqual([
      { task: 'long', attempt: 2, at: 1000, feedback: preemptedNote('urgent'), sessionId: 'long-session' },
    ]);
    // Its paused worktree is kept for it before its next attempt prepares one, as without a crash.
    const ofLong = workspace.calls.filter((c) => c.includes(' long '));
    expect(ofLong.slice(0, 2)).toEqual(['release long 1 retrying', 'prepare long 2 fix']);
    // A shell task after the same crash runs again without a note.
    const shellFirst = await runVirtual(2, tasks, { ...o, agent: false });
    const shellCut = shellFirst.events.findIndex((e) => e.type === 'task.preempted');
    const shellPrior = foldRun([
      ...shellFirst.events.slice(0, shellCut + 1),
      { type: 'run.resumed', at: 200, by: 'test' },
    ]);
    const shell = await runVirtual(2, tasks, { ...o, agent: false, prior: shellPrior });
    expect(shell.seen.filter((s) => s.task === 'long').map((s) => s.feedback)).toEqual([undefined]);
  });

  it('stops the least progressed among tasks of the lowest class', async () => {
    const r = await runVirtual(
      2,
      [urgentRetry('P0'), { id: 'early', class: 'P2', estimate: '10s' }, { id: 'late', class: 'P2', estimate: '1s' }],
      { ms: { early: 10_000, late: 10_000 }, failFirst: ['urgent'] },
    );
    // Both started at 0 and ran 100 ms: early is 1% through its estimate, late 10%.
    expect(r.preempted.map((e) => e.task)).toEqual(['early']);
  });

  it('resumes a preempted agent in its session with a note; a shell task re-runs from the start without one', async () => {
    const tasks = [urgentRetry('P0'), { id: 'long', class: 'P3' }, { id: 'x' }];
    const o = { ms: { long: 10_000, x: 10_000 }, failFirst: ['urgent'] };
    const agent = await runVirtual(2, tasks, { ...o, agent: true });
    expect(agent.preempted.map((e) => e.task)).toEqual(['long']);
    expect(agent.seen.filter((s) => s.task === 'long')).toEqual([
      { task: 'long', attempt: 1, at: 0, feedback: undefined, sessionId: undefined },
      { task: 'long', attempt: 2, at: 1100, feedback: preemptedNote('urgent'), sessionId: 'long-session' },
    ]);
    const shell = await runVirtual(2, tasks, o);
    expect(shell.preempted.map((e) => e.task)).toEqual(['long']);
    expect(shell.seen.filter((s) => s.task === 'long').map((s) => s.feedback)).toEqual([undefined, undefined]);
  });

  it('preempts nothing while a worker is free, nor for a P0 still waiting on its dependencies', async () => {
    const free = await runVirtual(3, [urgentRetry('P0'), { id: 'a', class: 'P3' }, { id: 'b' }], {
      ms: { a: 10_000, b: 10_000 },
      failFirst: ['urgent'],
    });
    expect(free.preempted).toHaveLength(0);
    expect(free.started('urgent').at(-1)).toEqual({ attempt: 2, at: 100 });
    const waiting = await runVirtual(
      1,
      [
        { id: 'urgent', class: 'P0', needs: ['a'] },
        { id: 'a', class: 'P3' },
      ],
      {
        ms: { a: 10_000 },
      },
    );
    expect(waiting.preempted).toHaveLength(0);
  });

  it('frees the pool units a P0 needs from the lower class holding them, though a worker is free', async () => {
    const r = await runVirtual(
      3,
      [
        { ...urgentRetry('P0'), uses: { gpu: 1 } },
        { id: 'train', class: 'P2', uses: { gpu: 1 } },
        { id: 'lint', class: 'P3' },
      ],
      { ms: { train: 10_000, lint: 10_000 }, failFirst: ['urgent'], pools: { gpu: 1 } },
    );
    // lint is of a lower class, but stopping it would free no gpu.
    expect(r.preempted.map((e) => e.task)).toEqual(['train']);
    expect(r.started('urgent').at(-1)).toEqual({ attempt: 2, at: 100 });
    expect(r.state.tasks.get('lint')?.attempts).toHaveLength(1);
    expect(r.status).toBe('succeeded');
  });

  it('a task stopped for a P0 waits for it to start: it does not take back the units while others stop', async () => {
    // urgent needs both gpu units; a stops at once, b takes 500 ms (its grace period).
    const r = await runVirtual(
      3,
      [
        { ...urgentRetry('P0'), uses: { gpu: 2 } },
        { id: 'a', class: 'P2', uses: { gpu: 1 } },
        { id: 'b', class: 'P2', uses: { gpu: 1 } },
      ],
      { ms: { a: 10_000, b: 10_000 }, stopMs: { b: 500 }, failFirst: ['urgent'], pools: { gpu: 2 } },
    );
    expect(r.preempted.map((e) => e.task).sort()).toEqual(['a', 'b']);
    expect(r.started('urgent').at(-1)).toEqual({ attempt: 2, at: 600 });
    expect(r.started('a')).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 1600 },
    ]);
    expect(r.status).toBe('succeeded');
  });

  it('a P1 does not preempt: it waits for a worker', async () => {
    const r = await runVirtual(2, [urgentRetry('P1'), { id: 'a', class: 'P2' }, { id: 'b', class: 'P3' }], {
      ms: { a: 10_000, b: 10_000 },
      failFirst: ['urgent'],
    });
    expect(r.preempted).toHaveLength(0);
    expect(r.started('urgent').at(-1)).toEqual({ attempt: 2, at: 10_000 });
  });

  it('never stops a `resume: never` task (it has side effects)', async () => {
    const r = await runVirtual(
      2,
      [urgentRetry('P0'), { id: 'deploy', class: 'P3', resume: 'never' }, { id: 'a', class: 'P2' }],
      {
        ms: { deploy: 10_000, a: 10_000 },
        failFirst: ['urgent'],
      },
    );
    expect(r.preempted.map((e) => e.task)).toEqual(['a']);
  });

  it('a P0 does not preempt another P0', async () => {
    const r = await runVirtual(2, [urgentRetry('P0'), { id: 'a', class: 'P0' }, { id: 'b', class: 'P0' }], {
      ms: { a: 10_000, b: 10_000 },
      failFirst: ['urgent'],
    });
    expect(r.preempted).toHaveLength(0);
    expect(r.started('urgent').at(-1)).toEqual({ attempt: 2, at: 10_000 });
  });

  it('starts ready tasks by class before critical path', async () => {
    const r = await runVirtual(1, [
      { id: 'long', class: 'P2', estimate: '1h' },
      { id: 'next', class: 'P1', estimate: '1s' },
      { id: 'first', class: 'P0', estimate: '1s' },
    ]);
    expect(r.seen.map((s) => s.task)).toEqual(['first', 'next', 'long']);
    expect(r.preempted).toHaveLength(0);
  });

  it('takes class from defaults, and a task without one is P2', () => {
    const plan = testPlan({
      defaults: { executor: 'test', class: 'P1' },
      tasks: [
        { id: 'a', run: 'x' },
        { id: 'b', run: 'x', class: 'P3' },
      ],
    });
    expect(plan.graph.tasks.map((t) => t.class)).toEqual(['P1', 'P3']);
    const plain = testPlan({ tasks: [{ id: 'a', run: 'x', executor: 'test' }] });
    expect(plain.graph.tasks[0]?.class).toBe('P2');
  });
});

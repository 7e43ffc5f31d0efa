import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../plan/graph.js';
import { Scheduler, type ReadyOrder, type TaskState, type Transition } from './scheduler.js';
import {
  planArbitrary,
  readyOrderArbitrary,
  TEST_EXECUTORS,
  workersArbitrary,
  type TaskBehaviour,
} from '../testing/arbitraries.js';
import {
  conditionGate,
  expectedOutcomeOf,
  expectedOutcomes,
  runOnScheduler,
  transitiveDependents,
} from '../testing/scheduler-harness.js';
import { compilePlan } from '../plan/compile.js';

const compile = (tasks: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Graph =>
  compilePlan({ ...extra, tasks }, { executors: TEST_EXECUTORS }).graph;

/** Every task takes `ms` and succeeds at the first attempt. */
const steady = (graph: Graph, ms = 10): TaskBehaviour[] =>
  graph.tasks.map(() => ({ failures: 0, retryDelayMs: 0, actualMs: ms }));

const byId = (graph: Graph, states: readonly string[]): Record<string, string> =>
  Object.fromEntries(graph.tasks.map((t, i) => [t.id, states[i] as string]));

describe('Scheduler on random plans', () => {
  it('keeps M, pools, write locks and dependency order, and every task ends as the oracle says', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 200 }),
        workersArbitrary(16),
        readyOrderArbitrary,
        ({ graph, behaviour, compiled }, workers, order) => {
          // The monitor inside runOnScheduler throws at the first broken promise.
          const trace = runOnScheduler(graph, behaviour, { workers, order, vars: compiled.vars });
          const expected = expectedOutcomes(graph, behaviour, compiled.vars);
          expect(byId(graph, trace.final)).toEqual(
            byId(
              graph,
              expected.map((e) => e.state),
            ),
          );
          expect(trace.cause).toEqual(expected.map((e) => e.cause));
          expect(trace.attempts).toEqual(expected.map((e) => e.attempts));
          // Exactly one terminal transition per task.
          const ends = trace.transitions
            .filter((t) => ['succeeded', 'failed', 'skipped', 'cancelled'].includes(t.to))
            .map((t) => t.task);
          expect(ends.sort((a, b) => a - b)).toEqual(graph.tasks.map((_, i) => i));
          // `onSkipped` (what a simulation listens to) sees the skipped transitions, in their order.
          expect(trace.skipped).toEqual(trace.transitions.filter((t) => t.to === 'skipped').map((t) => t.task));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a failed task skips exactly its transitive dependents; everything else still runs', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 120, when: false }),
        workersArbitrary(16),
        ({ graph, behaviour }, workers) => {
          const trace = runOnScheduler(graph, behaviour, { workers });
          const failed = trace.final.flatMap((s, i) => (s === 'failed' ? [i] : []));
          const skipped = trace.final.flatMap((s, i) => (s === 'skipped' ? [i] : []));
          expect(new Set(skipped)).toEqual(transitiveDependents(graph, failed));
          for (const i of skipped) expect(trace.cause[i]).toBe('upstream');
          trace.final.forEach((s, i) => {
            if (s === 'skipped') return;
            const b = behaviour[i] as TaskBehaviour;
            const retries = graph.tasks[i]?.retries ?? 0;
            // A task that is not downstream of a failure runs, and fails only when its retries run out.
            expect(s).toBe(b.failures > retries ? 'failed' : 'succeeded');
            expect(trace.attempts[i]).toBe(Math.min(b.failures, retries) + 1);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('cancelPending cancels everything not yet started; running tasks end on their own; nothing starts after', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 80 }),
        workersArbitrary(8),
        fc.integer({ min: 0, max: 400 }),
        ({ graph, behaviour, compiled }, workers, cancelAt) => {
          const trace = runOnScheduler(graph, behaviour, { workers, vars: compiled.vars, cancelAt });
          expect(trace.starts.every((s) => s.at < cancelAt)).toBe(true);
          for (const t of trace.transitions) if (t.to === 'cancelled') expect(t.at).toBe(cancelAt);
          const outcome = (i: number) => ({
            state: trace.final[i] as TaskState,
            ...(trace.cause[i] === undefined ? {} : { cause: trace.cause[i] }),
            attempts: trace.attempts[i] as number,
          });
          trace.final.forEach((s, i) => {
            if (s === 'cancelled') {
              // Cancelled tasks were waiting (pending, ready or between retries) when the run stopped.
              const ended = trace.transitions.find((t) => t.task === i && t.to === 'cancelled');
              expect(ended?.at).toBe(cancelAt);
              return;
            }
            const expected = expectedOutcomeOf(graph, behaviour, compiled.vars, i, outcome);
            if (expected.state === 'succeeded' || expected.state === 'failed') {
              // A task running when the run stopped ends with its current attempt: no more retries.
              const b = behaviour[i] as TaskBehaviour;
              expect(s).toBe((trace.attempts[i] as number) > b.failures ? 'succeeded' : 'failed');
              expect(trace.attempts[i]).toBeLessThanOrEqual(expected.attempts);
            } else
              expect({ state: s, cause: trace.cause[i] }).toEqual({ state: expected.state, cause: expected.cause });
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('`--sequential` (declaration order, M = 1) runs a plan in the order it is written', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 120, failures: false }), ({ graph, behaviour, compiled }) => {
        // Random plans declare dependencies before their dependents, so plan order is always ready.
        const trace = runOnScheduler(graph, behaviour, { workers: 1, order: 'declaration', vars: compiled.vars });
        const ran = trace.final.flatMap((s, i) => (s === 'succeeded' ? [i] : []));
        expect(trace.starts.map((s) => s.task)).toEqual(ran);
      }),
      { numRuns: 60 },
    );
  });

  it('starts the best ready task first, for every order', () => {
    fc.assert(
      fc.property(
        planArbitrary({ maxTasks: 80, pools: false, writes: false, failures: false }),
        workersArbitrary(8),
        readyOrderArbitrary,
        ({ graph, behaviour, compiled }, workers, order) => {
          const trace = runOnScheduler(graph, behaviour, { workers, order, vars: compiled.vars });
          const better = referenceOrder(graph, order);
          const ready = new Set<number>();
          for (const t of trace.transitions) {
            if (t.to === 'ready') {
              better.arrived(t.task);
              ready.add(t.task);
            } else if (t.to === 'running') {
              for (const other of ready)
                if (other !== t.task && better.before(other, t.task))
                  throw new Error(
                    `${order}: started ${graph.tasks[t.task]?.id} at ${t.at} before ${graph.tasks[other]?.id}`,
                  );
              ready.delete(t.task);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

/** The order the docs promise, written out independently of the scheduler's comparator. */
function referenceOrder(
  graph: Graph,
  order: ReadyOrder,
): { arrived(task: number): void; before(a: number, b: number): boolean } {
  const arrival = new Map<number, number>();
  const key = (i: number): number[] => {
    if (order === 'declaration') return [i];
    if (order === 'fifo') return [arrival.get(i) ?? Infinity, i];
    return [-(graph.rank[i] as number), -(graph.tasks[i]?.priority ?? 0), i];
  };
  return {
    arrived: (task) => void (arrival.has(task) ? undefined : arrival.set(task, arrival.size)),
    before: (a, b) => {
      const ka = key(a);
      const kb = key(b);
      for (let k = 0; k < ka.length; k++) if (ka[k] !== kb[k]) return (ka[k] as number) < (kb[k] as number);
      return false;
    },
  };
}

describe('Scheduler examples', () => {
  it('runs `--sequential` (declaration order, M = 1) in plan order among ready tasks', () => {
    const graph = compile([
      { id: 'lint', run: 'x', estimate: '1s' },
      { id: 'build', run: 'x', estimate: '9s' },
      { id: 'docs', run: 'x', estimate: '5s', needs: ['lint'] },
      { id: 'test', run: 'x', estimate: '1s', needs: ['build'] },
    ]);
    const trace = runOnScheduler(graph, steady(graph), { workers: 1, order: 'declaration' });
    expect(trace.starts.map((s) => graph.tasks[s.task]?.id)).toEqual(['lint', 'build', 'docs', 'test']);
  });

  it('starts the longest remaining path first under critical-path order', () => {
    const graph = compile([
      { id: 'lint', run: 'x', estimate: '1s' },
      { id: 'build', run: 'x', estimate: '9s' },
      { id: 'docs', run: 'x', estimate: '5s', needs: ['lint'] },
      { id: 'test', run: 'x', estimate: '1s', needs: ['build'] },
    ]);
    const trace = runOnScheduler(graph, steady(graph), { workers: 1 });
    expect(trace.starts.map((s) => graph.tasks[s.task]?.id)).toEqual(['build', 'lint', 'docs', 'test']);
  });

  it('holds a pool: two tasks that each need the only gpu never overlap', () => {
    const graph = compile(
      [
        { id: 'train', run: 'x', uses: { gpu: 1 } },
        { id: 'eval', run: 'x', uses: { gpu: 1 } },
        { id: 'docs', run: 'x' },
      ],
      { pools: { gpu: 1 } },
    );
    const trace = runOnScheduler(graph, steady(graph), { workers: 3 });
    expect(trace.starts.map((s) => [graph.tasks[s.task]?.id, s.at])).toEqual([
      ['train', 0],
      ['docs', 0],
      ['eval', 10],
    ]);
  });

  it('locks write scopes: `src/**` and `src/api/*.ts` wait for each other, `README.md` does not', () => {
    const graph = compile([
      { id: 'refactor', run: 'x', writes: ['src/**'] },
      { id: 'api', run: 'x', writes: ['src/api/*.ts'] },
      { id: 'readme', run: 'x', writes: ['README.md', 'docs/'] },
    ]);
    const trace = runOnScheduler(graph, steady(graph), { workers: 3 });
    expect(trace.starts.map((s) => [graph.tasks[s.task]?.id, s.at])).toEqual([
      ['refactor', 0],
      ['readme', 0],
      ['api', 10],
    ]);
  });

  it('retries a failed task after its delay, on a free worker, and its dependents wait', () => {
    const graph = compile([
      { id: 'flaky', run: 'x', retries: 2 },
      { id: 'after-flaky', run: 'x', needs: ['flaky'] },
    ]);
    const behaviour = [
      { failures: 2, retryDelayMs: 5, actualMs: 10 },
      { failures: 0, retryDelayMs: 0, actualMs: 10 },
    ];
    const trace = runOnScheduler(graph, behaviour, { workers: 1 });
    expect(trace.starts.map((s) => [graph.tasks[s.task]?.id, s.at])).toEqual([
      ['flaky', 0],
      ['flaky', 15],
      ['flaky', 30],
      ['after-flaky', 40],
    ]);
    expect(trace.final).toEqual(['succeeded', 'succeeded']);
  });

  it('skips by condition: `needs` on a skipped task skips too, `after` does not', () => {
    const graph = compile(
      [
        { id: 'deploy', run: 'x', when: 'vars.env == "prod"' },
        { id: 'smoke', run: 'x', needs: ['deploy'] },
        { id: 'notify', run: 'x', after: ['deploy'] },
        { id: 'notify-later', run: 'x', after: ['smoke'] },
      ],
      { vars: { env: 'staging' } },
    );
    const trace = runOnScheduler(graph, steady(graph), { workers: 2, vars: { env: 'staging' } });
    expect(byId(graph, trace.final)).toEqual({
      deploy: 'skipped',
      smoke: 'skipped',
      notify: 'succeeded',
      'notify-later': 'succeeded',
    });
    expect(trace.cause).toEqual(['condition', 'condition', undefined, undefined]);
  });

  it('skips by failure: `after` on a failed task skips too', () => {
    const graph = compile([
      { id: 'build', run: 'x' },
      { id: 'test', run: 'x', needs: ['build'] },
      { id: 'notify', run: 'x', after: ['build'] },
    ]);
    const trace = runOnScheduler(graph, [{ failures: 1, retryDelayMs: 0, actualMs: 10 }, ...steady(graph).slice(1)], {
      workers: 2,
    });
    expect(byId(graph, trace.final)).toEqual({ build: 'failed', test: 'skipped', notify: 'skipped' });
    expect(trace.transitions.filter((t) => t.to === 'skipped').map((t) => t.reason)).toEqual([
      'dependency "build" failed',
      'dependency "build" failed',
    ]);
  });

  it('a failure upstream wins over a condition skip, whichever happens first', () => {
    // `package` needs `sign` (skipped by its condition at once) and `build` (fails later).
    // `release` is after `package`: it must not run, because `build` failed on its way.
    const graph = compile(
      [
        { id: 'sign', run: 'x', when: 'vars.sign' },
        { id: 'build', run: 'x' },
        { id: 'package', run: 'x', needs: ['sign', 'build'] },
        { id: 'release', run: 'x', after: ['package'] },
      ],
      { vars: { sign: false } },
    );
    const behaviour = [...steady(graph)];
    behaviour[1] = { failures: 1, retryDelayMs: 0, actualMs: 10 };
    const trace = runOnScheduler(graph, behaviour, { workers: 4, vars: { sign: false } });
    expect(byId(graph, trace.final)).toEqual({
      sign: 'skipped',
      build: 'failed',
      package: 'skipped',
      release: 'skipped',
    });
    expect(trace.cause).toEqual(['condition', undefined, 'upstream', 'upstream']);
    const reasons = trace.transitions.filter((t) => t.to === 'skipped').map((t) => [graph.tasks[t.task]?.id, t.reason]);
    expect(reasons).toEqual([
      ['sign', 'condition `vars.sign` is false'],
      ['package', 'dependency "build" failed'],
      ['release', 'dependency "package" was skipped'],
    ]);
  });

  it('a gate reading a finished `after` dependency sees its final state', () => {
    const graph = compile([
      { id: 'probe', run: 'x' },
      { id: 'fallback', run: 'x', after: ['probe'], when: '!tasks.probe.succeeded' },
      { id: 'fast-path', run: 'x', after: ['probe'], when: 'tasks.probe.succeeded' },
    ]);
    const trace = runOnScheduler(graph, steady(graph), { workers: 2 });
    expect(byId(graph, trace.final)).toEqual({ probe: 'succeeded', fallback: 'skipped', 'fast-path': 'succeeded' });
  });

  it('narrows a pool for new starts while running tasks keep their units, and widens it again', () => {
    const graph = compile(
      ['a', 'b', 'c', 'd'].map((id) => ({ id, run: 'x', uses: { claude: 1 } })),
      { pools: { claude: 2 } },
    );
    const sched = new Scheduler(graph, { workers: 4 });
    const started = (now: number) => sched.start(now).map((s) => graph.tasks[s.task]?.id);
    sched.begin(0);
    expect(started(0)).toEqual(['a', 'b']);
    sched.setPoolCapacity('claude', 1);
    expect(sched.poolCapacity('claude')).toBe(1);
    sched.finish(0, 'succeeded', 1);
    expect(started(1)).toEqual([]);
    sched.finish(1, 'succeeded', 2);
    expect(started(2)).toEqual(['c']);
    sched.setPoolCapacity('claude', 2);
    expect(started(3)).toEqual(['d']);
    expect(sched.poolCapacity('gpu')).toBeUndefined();
  });

  it("waits for a check's verdict on what a task needs, and skips it when that task fails after all", () => {
    const graph = compile([
      { id: 'a', run: 'x' },
      { id: 'check', run: 'x', verifies: ['a'] },
      { id: 'd', run: 'x', needs: ['a'] },
    ]);
    const run = (failA: boolean) => {
      const transitions: Transition[] = [];
      const sched = new Scheduler(graph, { workers: 2, onTransition: (t) => transitions.push(t) });
      const started = (now: number) => sched.start(now).map((s) => graph.tasks[s.task]?.id);
      sched.begin(0);
      expect(started(0)).toEqual(['a']);
      sched.finish(0, 'succeeded', 1);
      expect(started(1)).toEqual(['check']); // d waits for the check's verdict
      if (failA) sched.failSucceeded(0, 2, 'its fixes ran out');
      sched.finish(1, 'failed', 3);
      return { sched, started: started(3), transitions };
    };
    const fixed = run(false); // the check failed for another reason: d runs
    expect(fixed.started).toEqual(['d']);
    const failed = run(true);
    expect(failed.started).toEqual([]);
    expect(failed.sched.stateOf(0)).toBe('failed');
    expect(failed.sched.stateOf(2)).toBe('skipped');
    expect(failed.transitions.find((t) => t.task === 2 && t.to === 'skipped')).toMatchObject({
      reason: 'dependency "a" failed',
      at: 2,
    });
    expect(failed.sched.finished).toBe(true);
    expect(() => failed.sched.failSucceeded(0, 4, 'again')).toThrow('task a has not succeeded');
  });

  it('rejects a budget that is not a positive integer', () => {
    const graph = compile([{ id: 'a', run: 'x' }]);
    expect(() => new Scheduler(graph, { workers: 0 })).toThrow('Expected `workers` to be a positive integer, got `0`');
    expect(() => new Scheduler(graph, { workers: 1.5 })).toThrow(
      'Expected `workers` to be a positive integer, got `1.5`',
    );
  });

  it('refuses to end a task twice or to retry one that is not running', () => {
    const graph = compile([{ id: 'a', run: 'x' }]);
    const sched = new Scheduler(graph, { workers: 1 });
    sched.begin(0);
    expect(() => sched.retryAt(0, 5, 0)).toThrow('task a is not running');
    expect(sched.start(0)).toEqual([{ task: 0, worker: 0 }]);
    sched.finish(0, 'succeeded', 1);
    expect(() => sched.finish(0, 'failed', 2)).toThrow('task a already ended');
    expect(sched.finished).toBe(true);
  });

  it('reports every state change, in order, with the worker and the reason', () => {
    const graph = compile([
      { id: 'a', run: 'x' },
      { id: 'b', run: 'x', needs: ['a'] },
    ]);
    const seen: Transition[] = [];
    const sched = new Scheduler(graph, { workers: 2, onTransition: (t) => seen.push(t) });
    sched.begin(0);
    sched.start(0);
    sched.finish(0, 'failed', 7, 'exit code 1');
    expect(seen).toEqual([
      { task: 0, to: 'ready', at: 0 },
      { task: 0, to: 'running', at: 0, worker: 0 },
      { task: 0, to: 'failed', at: 7, reason: 'exit code 1' },
      { task: 1, to: 'skipped', at: 7, reason: 'dependency "a" failed', cause: 'upstream' },
    ]);
    expect(sched.finished && sched.idle).toBe(true);
  });

  it('finish on a task that never started (resume) releases its dependents', () => {
    const graph = compile([
      { id: 'a', run: 'x' },
      { id: 'b', run: 'x', needs: ['a'] },
    ]);
    const sched = new Scheduler(graph, { workers: 1 });
    sched.begin(0);
    sched.finish(0, 'succeeded', 0, 'done in an earlier run');
    expect(sched.stateOf(1)).toBe('ready');
    expect(sched.start(0)).toEqual([{ task: 1, worker: 0 }]);
  });

  it('conditionGate evaluates `when` against vars and task states', () => {
    const graph = compile(
      [
        { id: 'a', run: 'x' },
        { id: 'b', run: 'x', after: ['a'], when: 'vars.level >= 2 && tasks.a.status == "succeeded"' },
      ],
      { vars: { level: 0 } },
    );
    expect(conditionGate(graph, { level: '3' }, () => 'succeeded')(1)).toBeUndefined();
    expect(conditionGate(graph, { level: 1 }, () => 'succeeded')(1)).toBe(
      'condition `vars.level >= 2 && tasks.a.status == "succeeded"` is false',
    );
    expect(conditionGate(graph, { level: 2 }, () => 'failed')(1)).toBeDefined();
  });
});

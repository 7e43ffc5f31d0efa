/**
 * Runs the real engine ({@link runPlan}) on a {@link VirtualClock}: the clock jumps to each timer
 * as soon as the run has nothing else to do, so a test of minutes of virtual time takes
 * milliseconds. Every task runs on one executor named `test`. Shared by the engine's tests.
 */
import { compilePlan, type CompiledPlan, type ExecutorInfo } from '../plan/compile.js';
import type { VirtualClock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import { runPlan } from '../run/engine.js';
import type { EngineOptions, RunOutcome } from '../run/engine-options.js';
import type { RunEvent } from '../run/events.js';

const RUNS_A_COMMAND: ExecutorInfo = { requires: 'run' };

/** Compiles `doc` (a plan document) with one executor, `test`, known to validation as `info`. */
export function testPlan(doc: object, info: ExecutorInfo = RUNS_A_COMMAND): CompiledPlan {
  return compilePlan(doc, { executors: new Map([['test', info]]) });
}

/** The executor `test`, whose `run` is the test's own function of the task's context. */
export function testExecutor(run: Executor['run'], info: Executor['info'] = RUNS_A_COMMAND): Executor {
  return { name: 'test', version: '1', info, run };
}

/** What {@link runOnClock} runs: engine options with the `test` executor instead of `executors`. */
export interface ClockRunOptions extends Partial<Omit<EngineOptions, 'executors' | 'clock'>> {
  readonly plan: CompiledPlan;
  readonly executor: Executor;
  /** Called at each turn of the loop before the clock moves on (e.g. to abort at a virtual time). */
  readonly onTurn?: () => void;
}

/** A run's outcome and every event it journaled, in order. */
export interface ClockRun extends RunOutcome {
  readonly events: RunEvent[];
}

/**
 * Runs `options.plan` (run id `r`, base dir `/tmp` unless given) on `clock`, advancing the clock to
 * the next timer whenever the engine waits, until the run ends.
 */
export async function runOnClock(clock: VirtualClock, options: ClockRunOptions): Promise<ClockRun> {
  const { executor, onTurn, ...engine } = options;
  const events: RunEvent[] = [];
  let finished = false;
  const outcome = runPlan({
    runId: 'r',
    baseDir: '/tmp',
    journal: (batch) => void events.push(...batch),
    ...engine,
    executors: new Map([['test', executor]]),
    clock,
  }).finally(() => (finished = true));
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    onTurn?.();
    const next = clock.nextTimerAt();
    if (next !== undefined) clock.advance(next - clock.now());
  }
  return { ...(await outcome), events };
}

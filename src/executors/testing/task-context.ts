/**
 * Test helpers shared by the executors' tests: a resolved task and the TaskContext the engine
 * would hand an executor for one attempt.
 */
import type { TaskContext } from '../../core/ports/executor.js';
import type { ResolvedTask } from '../../core/plan/graph.js';

/** A resolved task with the engine's defaults (no retries, a 1 ms back-off), overridden by `partial`. */
export function testTask(partial: Partial<ResolvedTask> & { readonly id: string }): ResolvedTask {
  return {
    executor: 'shell',
    title: partial.id,
    needs: [],
    after: [],
    priority: 0,
    class: 'P2',
    retries: 0,
    estimateMs: undefined,
    timeoutMs: undefined,
    backoff: { initialMs: 1, maxMs: 1, factor: 1, jitter: false },
    when: undefined,
    whenSource: undefined,
    uses: {},
    writes: [],
    env: {},
    ...partial,
  };
}

/**
 * The context of attempt 1 of `task` on worker 0 of run `r1`: no run folder, `/` as base and work
 * folder, no inputs, progress dropped, never aborted — each overridable by `extra`.
 */
export function testContext(task: ResolvedTask, extra: Partial<TaskContext> = {}): TaskContext {
  return {
    runId: 'r1',
    task,
    attempt: 1,
    worker: 0,
    signal: new AbortController().signal,
    runDir: undefined,
    baseDir: '/',
    workdir: '/',
    inputs: {},
    emit: () => undefined,
    ...extra,
  };
}

import type { TaskResultData } from '../../core/run/events.js';
import type { Executor, TaskContext, TaskOutcome } from '../../core/ports/executor.js';

/** A TypeScript function run as a task. Its return value becomes the task's `output`. */
export type TaskFunction = (ctx: TaskContext) => unknown;

/**
 * Runs functions registered by task id (library API). A thrown error fails the attempt.
 */
export class FnExecutor implements Executor {
  readonly name = 'fn';
  readonly version = '1';
  readonly info = { requires: 'fn' as const };

  constructor(private readonly functions: ReadonlyMap<string, TaskFunction>) {}

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const fn = this.functions.get(ctx.task.id);
    if (fn === undefined)
      return { ok: false, failure: { message: `no function registered for task "${ctx.task.id}"` } };
    try {
      // A function that ignores its signal still cannot outlive a timeout or Ctrl-C.
      const aborted = new Promise<never>((_, reject) => {
        const fail = (): void =>
          reject(
            new Error(
              ctx.signal.reason?.kind === 'timeout' ? `timed out after ${ctx.signal.reason.ms / 1000}s` : 'cancelled',
            ),
          );
        if (ctx.signal.aborted) fail();
        else ctx.signal.addEventListener('abort', fail, { once: true });
      });
      aborted.catch(() => undefined);
      const output = await Promise.race([Promise.resolve(fn(ctx)), aborted]);
      const result: TaskResultData = output === undefined ? {} : { output };
      return { ok: true, result };
    } catch (error) {
      return { ok: false, failure: { message: error instanceof Error ? error.message : String(error) } };
    }
  }
}

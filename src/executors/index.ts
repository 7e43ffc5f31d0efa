import type { Executor } from '../core/executor.js';
import type { ExecutorCatalog } from '../core/validate.js';
import { FnExecutor, type TaskFunction } from './fn/fn-executor.js';
import { ShellExecutor } from './shell/shell-executor.js';

export { FnExecutor, type TaskFunction } from './fn/fn-executor.js';
export { ShellExecutor } from './shell/shell-executor.js';

export interface ExecutorSetOptions {
  readonly functions?: ReadonlyMap<string, TaskFunction>;
  readonly env?: NodeJS.ProcessEnv;
}

/** The executors weft ships, by name. */
export function defaultExecutors(options: ExecutorSetOptions = {}): Map<string, Executor> {
  const list: Executor[] = [new ShellExecutor(options.env === undefined ? {} : { env: options.env }), new FnExecutor(options.functions ?? new Map())];
  return new Map(list.map((e) => [e.name, e]));
}

/** What validation needs to know of each executor. */
export function catalogOf(executors: ReadonlyMap<string, Executor>): ExecutorCatalog {
  return new Map([...executors].map(([name, e]) => [name, e.info]));
}

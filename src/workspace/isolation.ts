import type { ResolvedTask } from '../core/plan/graph.js';

/** Executors that run in the project folder unless their task declares `writes`. */
const IN_PLACE_EXECUTORS: ReadonlySet<string> = new Set(['shell', 'fn']);

/**
 * Whether a task works in its own git worktree and has its result merged: every agent task
 * (any executor but `shell` and `fn`), and any task that declares the files it `writes`.
 * The others run in the project folder itself, as they would without weft.
 *
 * @example
 * isIsolated({ executor: 'claude', writes: [] })          // true
 * isIsolated({ executor: 'shell', writes: ['src/**'] })   // true
 * isIsolated({ executor: 'shell', writes: [] })           // false
 */
export function isIsolated(task: Pick<ResolvedTask, 'executor' | 'writes'>): boolean {
  return !IN_PLACE_EXECUTORS.has(task.executor) || task.writes.length > 0;
}

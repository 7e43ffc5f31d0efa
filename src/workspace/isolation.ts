import type { ResolvedTask } from '../core/plan/graph.js';
import { ANSWERING_EXECUTORS, GATE } from '../core/plan/compile.js';

/**
 * Executors that run in the project folder unless their task declares `writes`: a gate runs
 * nothing, and an API task (`anthropic`, `openai`) only answers — it changes no file, so a worktree
 * would cost its set-up for nothing.
 */
const IN_PLACE_EXECUTORS: ReadonlySet<string> = new Set(['shell', 'fn', GATE, ...ANSWERING_EXECUTORS]);

/**
 * Whether a task works in its own git worktree and has its result merged: every agent task
 * (any executor but those above), and any task that declares the files it `writes`.
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

/** What {@link Placement} needs of a task. */
export type PlacedTask = Pick<ResolvedTask, 'id' | 'executor' | 'writes' | 'needs' | 'after'>;

/**
 * Which tasks run on the merged result: a task that is not isolated but waits, directly or
 * through other tasks (`needs` or `after`), on an isolated one — a test runner, a deploy, a report
 * after agents' work — runs in a worktree of the integration branch at the commit holding that
 * work, not in the user's checkout (which holds none of it). Tasks it is told about later (a
 * plan's expansion) are learnt as they are asked about; an unknown dependency counts as not isolated.
 *
 * @example
 * const placement = new Placement([backend, frontend, deploy]); // deploy needs both; they write files
 * placement.onMergedResult(deploy) // true
 */
export class Placement {
  private readonly tasks = new Map<string, PlacedTask>();
  private readonly memo = new Map<string, boolean>();

  constructor(tasks: Iterable<PlacedTask> = []) {
    for (const t of tasks) this.tasks.set(t.id, t);
  }

  /** Whether `task` runs on the merged result (not isolated, with an isolated task before it). */
  onMergedResult(task: PlacedTask): boolean {
    this.tasks.set(task.id, task); // the newest form: an expansion adds to what a task needs
    return !isIsolated(task) && this.hasIsolatedAncestor(task);
  }

  private hasIsolatedAncestor(task: PlacedTask): boolean {
    const known = this.memo.get(task.id);
    if (known !== undefined) return known;
    this.memo.set(task.id, false); // a cycle (refused by compile) cannot loop here
    let found = false;
    for (const id of [...task.needs, ...task.after]) {
      const dep = this.tasks.get(id);
      if (dep !== undefined && (isIsolated(dep) || this.hasIsolatedAncestor(dep))) {
        found = true;
        break;
      }
    }
    this.memo.set(task.id, found);
    return found;
  }
}

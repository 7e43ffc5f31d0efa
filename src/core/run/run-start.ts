import type { ResolvedTask } from '../plan/graph.js';
import type { ResolvedEngineOptions } from './engine-options.js';
import type { RunJournal } from './run-journal.js';

/**
 * Journals how a run starts: `run.created` with its plan, workers, mode, tasks and options, or —
 * for a run resumed from its journal (`prior`) — `run.resumed`, naming the process that took it up.
 */
export function recordRunStart(
  journal: RunJournal,
  options: ResolvedEngineOptions,
  tasks: readonly ResolvedTask[],
  now: number,
): void {
  if (options.prior !== undefined) {
    journal.record({ type: 'run.resumed', at: now, by: `pid:${typeof process === 'undefined' ? '?' : process.pid}` });
    return;
  }
  journal.record({
    type: 'run.created',
    at: now,
    runId: options.runId,
    plan: options.plan.name,
    workers: options.workers,
    mode: options.mode,
    tasks: tasks.map((t) => t.id),
    options: { failFast: options.failFast, ...options.runOptions },
  });
}

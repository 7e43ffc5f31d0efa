import type { RunState } from '../core/run/run-state.js';
import { taskProcesses, type TaskProcess } from '../executors/process/task-processes.js';

/**
 * When a coordinator dies (SIGKILL, power cut of the terminal), the tasks it started live on in
 * their own process groups. Before a resume runs them again, stop the ones that are still there:
 * the processes whose env names this run and an attempt the dead coordinator never saw end
 * (SIGTERM, then SIGKILL after 3 s). Attempts in `adopted` (task id → attempt: still queued or
 * running on a dispatch worker, which may be on this machine) are the resume's to take over, not
 * orphans. Returns the attempts stopped, `task#attempt`.
 */
export async function stopOrphans(
  state: RunState,
  adopted: ReadonlyMap<string, number> = new Map(),
): Promise<string[]> {
  const unseen: string[] = [];
  for (const r of state.tasks.values())
    for (const a of r.attempts)
      if ((a.endedAt === undefined || a.outcome === 'interrupted') && adopted.get(r.id) !== a.attempt)
        unseen.push(`${r.id}#${a.attempt}`);
  if (unseen.length === 0) return [];
  const wanted = new Set(unseen);
  const orphans = (): TaskProcess[] => taskProcesses(state.runId).filter((p) => wanted.has(`${p.task}#${p.attempt}`));
  const found = orphans();
  if (found.length === 0) return [];
  signal(found, 'SIGTERM');
  for (let i = 0; i < 30 && orphans().length > 0; i++) await new Promise((res) => setTimeout(res, 100));
  signal(orphans(), 'SIGKILL');
  const stopped = new Set(found.map((p) => `${p.task}#${p.attempt}`));
  return unseen.filter((a) => stopped.has(a));
}

function signal(processes: readonly TaskProcess[], name: NodeJS.Signals): void {
  for (const target of new Set(processes.map((p) => p.target))) {
    try {
      process.kill(target, name);
    } catch {
      // already gone
    }
  }
}

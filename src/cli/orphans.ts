import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunState } from '../core/run/run-state.js';

/**
 * When a coordinator dies (SIGKILL, power cut of the terminal), the tasks it started live on in
 * their own process groups. Before a resume runs them again, stop the ones that are still there:
 * found by the pid file each attempt leaves, and only if the process still carries this run's id.
 */
export async function stopOrphans(state: RunState, runDir: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const r of state.tasks.values()) {
    for (const a of r.attempts) {
      if (a.endedAt !== undefined && a.outcome !== 'interrupted') continue; // only attempts the dead coordinator never saw end
      const file = join(runDir, 'tasks', r.id, `${a.attempt}.pid`);
      if (!existsSync(file)) continue;
      const pid = Number(readFileSync(file, 'utf8'));
      if (!Number.isInteger(pid) || pid <= 1 || !ours(pid, state.runId)) continue;
      signalGroup(pid, 'SIGTERM');
      for (let i = 0; i < 30 && ours(pid, state.runId); i++) await new Promise((res) => setTimeout(res, 100));
      signalGroup(pid, 'SIGKILL');
      stopped.push(`${r.id}#${a.attempt}`);
    }
  }
  return stopped;
}

function ours(pid: number, runId: string): boolean {
  try {
    if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false;
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`WEFT_RUN_ID=${runId}`);
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

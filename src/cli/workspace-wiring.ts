import type { Workspace } from '../core/ports/workspace.js';
import type { CompiledPlan } from '../core/plan/compile.js';
import { isIsolated } from '../workspace/isolation.js';
import { isWeftError } from '../core/errors.js';

/**
 * Isolated tasks (agents, tasks with `writes`) get their own git worktrees when the project is a
 * git repository with a commit; elsewhere they run in place, and weft says so. The git code (and
 * execa) is loaded only then: ~80 ms of start-up that a plan of plain commands does not need.
 */
export async function openWorkspace(plan: CompiledPlan, where: { runId: string; projectDir: string; baseDir: string }): Promise<Workspace | undefined> {
  const isolated = plan.graph.tasks.filter(isIsolated);
  if (isolated.length === 0) return undefined;
  try {
    const { GitWorkspace } = await import('../workspace/index.js');
    const workspace = await GitWorkspace.open(where);
    for (const w of workspace.warnings) process.stderr.write(`weft: ${w}\n`);
    return workspace;
  } catch (error) {
    if (!isWeftError(error) || error.code !== 'WEFT_USAGE') throw error;
    process.stderr.write(`weft: ${error.message}; ${isolated.length} task(s) that write files run in the project folder without isolation\n`);
    return undefined;
  }
}

import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { EngineOptions } from '../core/run/engine-options.js';
import { isIsolated } from './isolation.js';

/** Folders never searched for a glob output: they are not what a task produces. */
const SKIP = new Set(['.git', 'node_modules', '.weft']);

/**
 * The declared `outputs` of a task that are not there after it succeeded, as written in the plan.
 * Each is relative to the folder the task worked in; a plain path must exist (file or folder), a
 * glob (`reports/*.md`) must match at least one file.
 *
 * @example
 * missingOutputs('/work/wt/api', ['docs/api.md', 'reports/*.json'])   // ['reports/*.json'] when no report was written
 */
export function missingOutputs(dir: string, outputs: readonly string[]): string[] {
  return outputs.filter((output) => {
    const path = output.replace(/^\.\//, '');
    const scan = picomatch.scan(path);
    if (!scan.isGlob) return !existsSync(join(dir, path));
    return !anyMatch(join(dir, scan.base), dir, picomatch(path, { dot: true }));
  });
}

/** Whether a file under `from` matches (paths relative to `root`, with `/`); stops at the first. */
function anyMatch(from: string, root: string, isMatch: (path: string) => boolean): boolean {
  if (!existsSync(from)) return false;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = join(from, entry.name);
    if (entry.isDirectory() ? anyMatch(full, root, isMatch) : isMatch(relative(root, full).split(sep).join('/')))
      return true;
  }
  return false;
}

/** What a task is told, and what its failure says, when outputs it declared are missing. */
export function missingOutputsVerdict(
  taskId: string,
  missing: readonly string[],
): { message: string; feedback: string } {
  const list = missing.join(', ');
  return {
    message: `finished but its declared outputs are missing: ${list}`,
    feedback: [
      `Your task "${taskId}" ended without producing every file it must produce (its \`outputs\`): ${list} is missing.`,
      'Paths are relative to the folder you work in. Create them; weft checks again when you finish.',
    ].join('\n'),
  };
}

/** Where {@link checkingOutputs} looks for a task's outputs. */
export interface OutputsPlace {
  /** The folder a task works in when it works in place (what the engine's `workdirFor` gives). */
  readonly workdirFor: (task: ResolvedTask) => string;
  /**
   * Whether a workspace gives isolated tasks their own worktrees: their outputs are then checked
   * there, before their merge (`GitWorkspace.integrate`), not here. @default false
   */
  readonly isolating?: boolean;
  /**
   * Whether the workspace checks this task's outputs itself, in the worktree it worked in (its own,
   * or the merged result's). @default isolating && the task is isolated
   */
  readonly inWorktree?: (task: ResolvedTask) => boolean;
}

/**
 * The engine's `validateResult` that enforces `outputs:`, shared by `weft run` and `runWeft`: the
 * caller's own check first, then, for a task that worked in place, that every file it declared in
 * `outputs` is there. A missing one sends the task back with what is missing, and once its fixes
 * run out it fails (`WEFT_OUTPUT_MISSING`) naming those paths.
 *
 * @example
 * runPlan({ ...options, validateResult: checkingOutputs(undefined, { workdirFor: () => dir }) });
 */
export function checkingOutputs(
  own: EngineOptions['validateResult'],
  place: OutputsPlace,
): NonNullable<EngineOptions['validateResult']> {
  return (task, result) => {
    const rejected = own?.(task, result);
    if (rejected !== undefined || task.outputs === undefined || task.outputs.length === 0) return rejected;
    const inWorktree = place.inWorktree ?? ((t: ResolvedTask) => place.isolating === true && isIsolated(t));
    if (inWorktree(task)) return undefined;
    const missing = missingOutputs(place.workdirFor(task), task.outputs);
    if (missing.length === 0) return undefined;
    return { code: 'WEFT_OUTPUT_MISSING', ...missingOutputsVerdict(task.id, missing) };
  };
}

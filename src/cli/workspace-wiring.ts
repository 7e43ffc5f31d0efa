import type { RunState } from '../core/run/run-state.js';
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { CompiledPlan } from '../core/plan/compile.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import { ConfigValidationError, isWeftError, PlanValidationError, type PlanIssue } from '../core/errors.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import { CONFIG_FILE, loadConfig } from './config.js';
import type { GitWorkspace } from '../workspace/index.js';
import { isIsolated } from '../workspace/isolation.js';
import { killGroupOnAbort } from '../executors/process/process-group.js';
import { uncommittedInputs } from './uncommitted-inputs.js';

/** Where a run works: the plan's folder and the folder holding `.weft/` (the journal). */
export interface WorkspacePlace {
  readonly runId: string;
  /** The folder holding `.weft/` (`-C`, else the current folder). */
  readonly projectDir: string;
  /** The plan file's folder: its repository is the one isolated tasks work in. */
  readonly baseDir: string;
  /** The plan file, for the messages. */
  readonly planFile: string;
}

/** Where a run's worktrees will be: found (and checked) before the run starts, opened once it does. */
export interface WorkspacePlan {
  /** Top folder of the repository holding the plan's folder. */
  readonly root: string;
  readonly worktreesDir: string;
  /** How worktrees are made ready: the plan's `workspace`, else `weft.config.yaml`'s. */
  readonly workspace: WorkspaceSpec;
}

/**
 * Isolated tasks (agents, tasks with `writes`) get their own git worktrees of the repository that
 * holds the *plan's* folder — not the current folder, which may be another repository or none —
 * when it has a commit; elsewhere they run in place, and weft says so (`undefined`). A task that
 * could never work in a worktree (its `cwd` leaves the repository) is refused here, before
 * anything runs. The git code (and execa) is loaded only when needed: ~80 ms of start-up that a
 * plan of plain commands does not pay.
 * @throws PlanValidationError when an isolated task's `cwd` is outside the plan's repository, a
 *   `workspace.copy` file is not in it (ConfigValidationError when that comes from `weft.config.yaml`),
 *   or a file a worktree task names in `inputs` is not committed (see uncommitted-inputs.ts)
 */
export async function findWorkspace(
  plan: CompiledPlan,
  where: WorkspacePlace,
  /** Say on stderr when there is no repository (the tasks run in place); `weft validate` only checks. */
  warn = true,
  /** A resume: its tasks start from the commit the run started from, not HEAD. */
  resumed = false,
): Promise<WorkspacePlan | undefined> {
  const isolated = plan.graph.tasks.filter(isIsolated);
  if (isolated.length === 0) return undefined;
  const { openRepository, resumedRunBase } = await import('../workspace/index.js');
  let root: string;
  try {
    root = (await openRepository(where.baseDir)).root;
  } catch (error) {
    if (!isWeftError(error) || error.code !== 'WEFT_USAGE') throw error;
    const folder = `the plan's folder ${where.baseDir}`;
    const why = error.message.startsWith(resolve(where.baseDir))
      ? error.message.replace(resolve(where.baseDir), folder)
      : error.message;
    if (warn)
      process.stderr.write(
        `weft: ${why}; ${isolated.length} task(s) that write files run in place, without isolation\n`,
      );
    return undefined;
  }
  const outside = isolated
    .map((t) => outsideIssue(t, where.planFile, realpathSync(where.baseDir), root))
    .filter((i) => i !== undefined);
  if (outside.length > 0) throw new PlanValidationError(outside);
  const { spec, file } = workspaceSpec(plan, where);
  checkCopies(spec, file, root);
  const worktreesDir = worktreesDirFor(where.projectDir, root);
  const base = resumed ? await resumedRunBase(root, worktreesDir, where.runId) : undefined;
  const since = base === undefined ? undefined : { runId: where.runId, base };
  const inputs = await uncommittedInputs(plan, where, root, spec.copy ?? [], since);
  for (const w of inputs.warnings) process.stderr.write(`weft: ${w}\n`);
  if (inputs.issues.length > 0) throw new PlanValidationError(inputs.issues);
  return { root, worktreesDir, workspace: spec };
}

/**
 * Opens the run's worktrees where {@link findWorkspace} found them, made ready as its `workspace`
 * says; says what the user should know. `plan` tells which tasks run on the merged result; a
 * resume's `prior` state (and the attempts it `adopted` from dispatch workers) which tasks'
 * leftovers go.
 */
export async function openWorkspace(
  found: WorkspacePlan,
  where: WorkspacePlace,
  plan?: CompiledPlan,
  prior?: RunState,
  adopted?: ReadonlyMap<string, number>,
  /** Whether the adopted attempts' workers work in this coordinator's worktrees (no shared git remote). */
  sharedWorktrees = false,
  /** Masks the run's secrets in what the set-up prints. */
  redact?: (text: string) => string,
): Promise<GitWorkspace> {
  const { GitWorkspace } = await import('../workspace/index.js');
  const { worktreesDir } = found;
  const kept = sharedWorktrees && adopted !== undefined && adopted.size > 0 ? { adopted } : {};
  const resumed =
    prior === undefined ? {} : { succeeded: successesOf(prior), cutOff: cutOffOf(prior, adopted), ...kept };
  const at = { runId: where.runId, projectDir: where.baseDir, baseDir: where.baseDir, worktreesDir, ...resumed };
  const workspace = await GitWorkspace.open({
    ...at,
    tasks: plan?.graph.tasks ?? [],
    workspace: found.workspace,
    guardGroup: killGroupOnAbort,
    ...(redact === undefined ? {} : { redact }),
  });
  for (const w of workspace.warnings) process.stderr.write(`weft: ${w}\n`);
  return workspace;
}

/** `.weft/worktrees` in the project folder when it is inside the repository, else in the repository's top folder. */
export function worktreesDirFor(projectDir: string, root: string): string {
  return join(inside(realpathSync(projectDir), root) ? projectDir : root, '.weft', 'worktrees');
}

function inside(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return !rel.startsWith('..') && !isAbsolute(rel);
}

/** An isolated task whose folder is outside the repository cannot have a worktree of it. */
function outsideIssue(task: ResolvedTask, planFile: string, baseDir: string, root: string): PlanIssue | undefined {
  const dir = resolve(baseDir, task.cwd ?? '.');
  if (inside(dir, root)) return undefined;
  return {
    file: planFile,
    task: task.id,
    field: 'cwd',
    message: `works in ${dir}, outside the repository ${root} that holds the plan, so it cannot have a worktree of it`,
    fix: 'set cwd to a folder inside that repository, or run with --no-isolation',
  };
}

/** The plan's `workspace`, else the one in `weft.config.yaml`, and the file it came from. */
function workspaceSpec(plan: CompiledPlan | undefined, where: WorkspacePlace): { spec: WorkspaceSpec; file: string } {
  const own = plan?.spec.workspace;
  if (own !== undefined) return { spec: own, file: where.planFile };
  return { spec: loadConfig(where.projectDir).workspace ?? {}, file: join(where.projectDir, CONFIG_FILE) };
}

/** Every `workspace.copy` file must be in the checkout: one line each, before anything runs. */
function checkCopies(spec: WorkspaceSpec, file: string, root: string): void {
  const issues = (spec.copy ?? [])
    .map((path, i): PlanIssue | undefined =>
      existsSync(join(root, path))
        ? undefined
        : {
            file,
            field: `workspace.copy[${i}]`,
            message: `${path} is not in ${root}, so it cannot be copied into worktrees`,
            fix: 'create it there, or remove it from workspace.copy',
          },
    )
    .filter((i) => i !== undefined);
  if (issues.length === 0) return;
  throw file.endsWith(CONFIG_FILE) ? new ConfigValidationError(issues) : new PlanValidationError(issues);
}

/**
 * How many times the journal records each task that has not succeeded (yet) as succeeded: a merge
 * beyond that on the run's branch was never journaled. A task that stands succeeded is left out
 * (its merges are all its own: nothing is taken off for it).
 */
function successesOf(state: RunState): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of state.tasks.values()) if (t.state !== 'succeeded') counts.set(t.id, t.successes ?? 0);
  return counts;
}

/**
 * For each task that has not succeeded, its attempts that were cut off — never ended (the
 * coordinator died), or stopped (Ctrl-C, SIGTERM, a cancel, --fail-fast): a resume does that work
 * again from scratch, so their kept work goes once the task's is merged. An attempt still running
 * on a dispatch worker, which the resume adopts, is not cut off; nor is one that failed on its own
 * (its work stays for inspection).
 */
function cutOffOf(state: RunState, adopted: ReadonlyMap<string, number> | undefined): Map<string, number[]> {
  const cut = new Map<string, number[]>();
  for (const t of state.tasks.values()) {
    if (t.state === 'succeeded') continue;
    const attempts = t.attempts
      .filter((a) => a.endedAt === undefined || a.outcome === 'interrupted' || a.outcome === 'cancelled')
      .map((a) => a.attempt)
      .filter((n) => adopted?.get(t.id) !== n);
    if (attempts.length > 0) cut.set(t.id, attempts);
  }
  return cut;
}

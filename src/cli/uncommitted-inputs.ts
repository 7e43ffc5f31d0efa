import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import type { CompiledPlan } from '../core/plan/compile.js';
import type { PlanIssue } from '../core/errors.js';
import { writesFromPlanFolder } from '../core/plan/glob-overlap.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import { matchFiles } from '../store/task-cache.js';
import { isIsolated, Placement } from '../workspace/isolation.js';

/** Files named in a line at most; the rest are counted. */
const SHOWN = 3;

/** What {@link uncommittedInputs} found: refusals (exit 2) and lines to say. */
export interface InputStanding {
  readonly issues: readonly PlanIssue[];
  readonly warnings: readonly string[];
}

/**
 * A task in a worktree (its own, or the merged result's) sees the files of the commit it starts
 * from, not the user's checkout: an `inputs` file that is not committed is not there, and one with
 * uncommitted changes is there as committed — silently, unless weft says so. A path that names a
 * file not in the commit is refused (the task could never read it); a glob or folder that takes in
 * such files, and a file with uncommitted changes, is said in one line. Files `workspace.copy`
 * brings and files a task of the plan writes (`writes`, `outputs`) are there when it runs: not asked about.
 * A resumed run's tasks start from the commit the run started from (`resumed.base`), whatever HEAD is now.
 */
export async function uncommittedInputs(
  plan: CompiledPlan,
  where: { readonly baseDir: string; readonly planFile: string },
  root: string,
  copy: readonly string[],
  resumed?: { readonly runId: string; readonly base: string },
): Promise<InputStanding> {
  const placement = new Placement(plan.graph.tasks);
  const tasks = plan.graph.tasks.filter(
    (t) => (t.inputs?.length ?? 0) > 0 && (isIsolated(t) || placement.onMergedResult(t)),
  );
  if (tasks.length === 0) return { issues: [], warnings: [] };
  const base = realpathSync(where.baseDir);
  const fromRoot = (dir: string, file: string): string => relative(root, join(dir, file)).split(sep).join('/');
  const inRepo = (path: string): boolean => !path.startsWith('..') && !isAbsolute(path);
  const brought = picomatch(
    copy.flatMap((p) => [p.replace(/^\.\//, ''), `${p.replace(/^\.\/|\/+$/g, '')}/**`]),
    { dot: true },
  );
  // Asked only of the files git finds not as committed (few): a large plan has many `writes` globs.
  let writtenBy: ((path: string) => boolean) | undefined;
  const written = (file: string): boolean => {
    writtenBy ??= writtenMatcher(plan.graph.tasks);
    return writtenBy(relative(base, join(root, file)).split(sep).join('/'));
  };
  // Many tasks name the same globs from the same folder: each is walked once.
  const walked = new Map<string, string[]>();
  const filesOf = (dir: string, pattern: string): string[] => {
    const key = `${dir}\0${pattern}`;
    const known = walked.get(key);
    if (known !== undefined) return known;
    const files = matchFiles(dir, [pattern])
      .map((f) => fromRoot(dir, f))
      .filter((f) => inRepo(f) && !brought(f));
    walked.set(key, files);
    return files;
  };
  const asked = tasks.map((task) => {
    const dir = resolve(base, task.cwd ?? '.');
    const patterns = (task.inputs ?? []).map((pattern, i) => {
      return { pattern, i, files: filesOf(dir, pattern), literal: !picomatch.scan(pattern).isGlob };
    });
    return { task, dir, patterns };
  });
  const { commitStanding } = await import('../workspace/index.js');
  const paths = [...new Set(asked.flatMap((a) => a.patterns.flatMap((p) => p.files)))];
  const standing = await commitStanding(root, paths, resumed?.base);
  const say = sayings(resumed);
  const absent = new Set(standing.absent.filter((f) => !written(f)));
  const changed = new Set(standing.changed.filter((f) => !written(f)));
  const issues: PlanIssue[] = [];
  const warnings: string[] = [];
  for (const { task, dir, patterns } of asked)
    for (const { pattern, i, files, literal } of patterns) {
      const missing = files.filter((f) => absent.has(f));
      const edited = files.filter((f) => changed.has(f));
      const field = `inputs[${i}]`;
      // A file named as it is: the task reads that file, and its worktree has none.
      if (literal && missing.length > 0 && missing.length === files.length && isFile(dir, pattern, root, missing))
        issues.push({
          file: where.planFile,
          task: task.id,
          field,
          message: `${pattern} ${say.absent('is')}, so the task's worktree will not have it`,
          fix: say.fix('it'),
        });
      else if (missing.length > 0) {
        const [it, is] = missing.length === 1 ? ['it', 'is'] : ['them', 'are'];
        warnings.push(
          `task ${task.id}: inputs ${pattern}: ${listed(missing)} ${say.absent(is)}, so the task's worktree will not have ${it} (${say.fix(it)})`,
        );
      }
      if (edited.length > 0) {
        const [it, one] = edited.length === 1 ? ['it', true] : ['them', false];
        warnings.push(`task ${task.id}: inputs ${pattern}: ${listed(edited)} ${say.changed(one, it)}`);
      }
    }
  return { issues, warnings };
}

/** What is said of files a worktree will not have as the checkout has them: against HEAD, or a resumed run's base. */
function sayings(resumed: { readonly runId: string; readonly base: string } | undefined) {
  if (resumed === undefined)
    return {
      absent: (is: string) => `${is} not committed`,
      fix: (it: string) => `commit ${it}, or list ${it} in workspace.copy`,
      changed: (one: boolean, it: string) =>
        `${one ? 'has' : 'have'} uncommitted changes; the task's worktree has ${it} as committed (commit ${it} for the task to see the changes)`,
    };
  const commit = `commit ${resumed.base.slice(0, 10)} that run ${resumed.runId} started from`;
  const fix = 'a resume keeps that commit; `weft run` starts a new run from yours';
  return {
    absent: (is: string) => `${is} not in ${commit}`,
    fix: () => fix,
    changed: (one: boolean, it: string) =>
      `${one ? 'differs' : 'differ'} from ${commit}; the task's worktree has ${it} as in that commit (${fix})`,
  };
}

/** `a.cfg` / `a.cfg, b.cfg, c.cfg and 3 more`. */
function listed(files: readonly string[]): string {
  const more = files.length > SHOWN ? ` and ${files.length - SHOWN} more` : '';
  return `${files.slice(0, SHOWN).join(', ')}${more}`;
}

/** Whether the pattern names one file (not a folder): the one file it matched. */
function isFile(dir: string, pattern: string, root: string, missing: readonly string[]): boolean {
  return missing.length === 1 && relative(root, resolve(dir, pattern)).split(sep).join('/') === missing[0];
}

/** Whether a path (from the plan's folder) is one a task of the plan writes: it is made during the run. */
function writtenMatcher(tasks: readonly ResolvedTask[]): (path: string) => boolean {
  const globs = tasks.flatMap((t) =>
    writesFromPlanFolder([...t.writes, ...(t.outputs ?? [])], t.cwd).map((g) => g.trim().replace(/^\.\//, '')),
  );
  if (globs.length === 0) return () => false;
  return picomatch([...globs, ...globs.map((g) => `${g.replace(/\/+$/, '')}/**`)], { dot: true });
}

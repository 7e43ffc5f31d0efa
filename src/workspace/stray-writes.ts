import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ResolvedTask } from '../core/plan/graph.js';
import { strayWrites } from '../core/plan/write-scope.js';
import type { MergeScope } from './merge-queue.js';

/** Paths named in a message before the rest are only counted. */
const NAMED = 10;
/** Paths listed in the feedback (and its restore command) before the rest are only counted. */
const LISTED = 50;

/**
 * What a task with `writes` may merge: only files its `writes` (or its `outputs`, files it must
 * produce) cover, read from its folder. Anything else it changed keeps its whole work from being
 * merged and goes back to it as a fix, naming the paths; after its `fixAttempts` it fails with them.
 * A task without `writes` may change any file.
 *
 * @param root the repository's top folder
 * @param baseDir the plan's folder, from which a task's `cwd` is read
 * @param integration the run's integration branch, which the task's fix restores the files from
 * @example
 * queue.merge(task.id, branch, commit, writeScope(task, repo.root, baseDir, 'weft/r1'));
 */
export function writeScope(
  task: ResolvedTask,
  root: string,
  baseDir: string,
  integration: string,
): MergeScope | undefined {
  if (task.writes.length === 0) return undefined;
  const rel = relative(root, resolve(baseDir, task.cwd ?? '.'));
  const folder = rel.startsWith('..') || isAbsolute(rel) ? '' : rel.split(sep).join('/');
  const globs = [...task.writes, ...(task.outputs ?? [])];
  return (changed) => {
    const stray = strayWrites(changed, globs, folder);
    if (stray.length === 0) return undefined;
    return { ok: false, code: 'WEFT_OUTSIDE_WRITES', ...strayWritesVerdict(task, stray, integration) };
  };
}

/** What a task is told, and what its failure says, when it changed files outside its `writes`. */
export function strayWritesVerdict(
  task: Pick<ResolvedTask, 'id' | 'writes'>,
  stray: readonly string[],
  integration: string,
): { message: string; feedback: string } {
  const more = stray.length > NAMED ? ` and ${stray.length - NAMED} more` : '';
  const paths = `${stray.slice(0, NAMED).join(', ')}${more}`;
  const writes = task.writes.join(', ');
  const pathspecs = stray
    .slice(0, LISTED)
    .map((p) => `':/${p.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return {
    message: `changed files outside its writes (${writes}): ${paths}; none of its work was merged`,
    feedback: [
      `Your task "${task.id}" changed files outside the ones it may write (its \`writes\`: ${writes}):`,
      ...stray.slice(0, LISTED).map((p) => `  ${p}`),
      ...(stray.length > LISTED ? [`  … and ${stray.length - LISTED} more`] : []),
      `(paths from the repository's top folder). weft merges a task's work only when every file it changed is inside its \`writes\`, so none of your work was merged.`,
      `Put those files back as they are on ${integration}, keeping your other changes: \`git restore --source=${integration} --staged --worktree -- ${pathspecs}\`.`,
      `If such a change is needed, say so in your answer: it belongs to a task whose \`writes\` cover it. weft commits and merges the result.`,
    ].join('\n'),
  };
}

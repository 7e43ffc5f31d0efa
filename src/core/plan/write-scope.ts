import picomatch from 'picomatch';
import { expandBraces, normaliseGlob, withinFolder } from './glob-overlap.js';

/**
 * The paths among `changed` that none of a task's globs covers: what it wrote outside the files it
 * may write. A glob is read as the write-scope lock reads it (see glob-overlap.ts): from the task's
 * folder, `{a,b}` alternatives, `.` and `..` parts resolved, picomatch's extglobs, a negated glob
 * (`!dist/**`) covering all but what it names, and a path without magic (`src`, `dist/app.js`)
 * covering that file or everything under that folder.
 *
 * @param changed paths from the repository's top folder, with `/`
 * @param globs the task's globs as written in the plan (its `writes` and `outputs`), from its folder
 * @param folder the task's folder from the repository's top folder (`''` for the top)
 * @example
 * strayWrites(['README.md', 'api/x.ts'], ['**'], 'api')   // ['README.md']
 */
export function strayWrites(changed: readonly string[], globs: readonly string[], folder: string): string[] {
  const covers = globs.flatMap((glob) => expandBraces(glob.trim())).map((glob) => coverer(glob, folder));
  return changed.filter((path) => !covers.some((covered) => covered(path)));
}

/** Whether a path (from the repository's top folder) is one a glob written from `folder` names. */
function coverer(glob: string, folder: string): (path: string) => boolean {
  const negated = /^!(?!\()/.test(glob);
  const inRepo = normaliseGlob(withinFolder(folder, negated ? glob.slice(1) : glob));
  const exact = !picomatch.scan(inRepo).isGlob;
  const matches = exact
    ? (path: string): boolean => path === inRepo || path.startsWith(`${inRepo}/`)
    : picomatch(inRepo, { dot: true });
  return negated ? (path) => !matches(path) : matches;
}

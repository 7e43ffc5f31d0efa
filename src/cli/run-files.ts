import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A sortable, unique run id: `20261121-143000-a1b2`. */
export function newRunId(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** What the planner's own run records as its plan file: it has none (`weft resume` refuses such a run). */
export const PLANNER_FILE = '<planner>';

export function weftDir(projectDir: string): string {
  return join(projectDir, '.weft');
}

/**
 * Makes the project's `.weft/` and keeps it out of the git work tree that holds it (if any), for
 * every command that writes there: a run whose tasks all run in place opens no worktree, and
 * `git add -A` committed its journal and logs. A repository whose exclude file cannot be written
 * gets a warning and the command goes on; without git there is nothing to keep it out of.
 */
export async function createWeftDir(projectDir: string): Promise<string> {
  const dir = weftDir(projectDir);
  mkdirSync(dir, { recursive: true });
  const { excludeFromWorkTree } = await import('../workspace/repository.js');
  try {
    await excludeFromWorkTree(dir);
  } catch (error) {
    process.stderr.write(
      `weft: could not add ${dir} to git's exclude file (${error instanceof Error ? error.message : String(error)}); add .weft/ to .gitignore so it is not committed\n`,
    );
  }
  return dir;
}

export function runDirOf(projectDir: string, runId: string): string {
  if (!/^[\w.-]+$/.test(runId) || runId.includes('..')) throw new Error(`bad run id "${runId}"`);
  return join(weftDir(projectDir), 'runs', runId);
}

export function createRunDir(projectDir: string, runId: string): string {
  const dir = runDirOf(projectDir, runId);
  mkdirSync(join(dir, 'tasks'), { recursive: true });
  return dir;
}

/**
 * Plans past this many tasks get their run files (plan.json, summary.json) as compact JSON: at
 * 100,000 tasks the indented files are 36 MB that no one reads by eye, and indenting them cost ~0.1 s.
 */
export const PRETTY_JSON_TASKS = 1000;

/** `value` as JSON, indented unless `pretty` is false. */
export function writeJson(path: string, value: unknown, pretty = true, mode?: number): void {
  writeFileSync(path, `${pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`, { mode });
}

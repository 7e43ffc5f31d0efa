import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResolvedTask } from '../../core/plan/graph.js';
import { compilePlan } from '../../core/plan/compile.js';

/**
 * Makes git in this process (and its children) behave as on a machine with no git configuration:
 * no global or system config, so no identity. Whatever weft commits must bring its own.
 */
export function withoutGitConfig(): void {
  const home = mkdtempSync(join(tmpdir(), 'weft-gitcfg-'));
  writeFileSync(join(home, 'gitconfig'), '');
  process.env.GIT_CONFIG_GLOBAL = join(home, 'gitconfig');
  process.env.GIT_CONFIG_NOSYSTEM = '1';
  for (const k of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL'])
    delete process.env[k];
}

export interface TempRepo {
  readonly dir: string;
  /** Runs git in the repo as the user would (with an identity given on the command line). */
  git(...args: string[]): string;
  write(path: string, text: string): void;
  read(path: string): string;
  /** Commits everything as "user". */
  commit(message: string): string;
  cleanup(): void;
}

/** A fresh repository on branch `main` with the files committed. */
export function tempRepo(files: Record<string, string> = { 'README.md': '# project\n' }): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), 'weft-ws-'));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=user', '-c', 'user.email=user@example.com', ...args], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  git('init', '-q', '-b', 'main');
  for (const [path, text] of Object.entries(files)) write(path, text);
  const commit = (message: string): string => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  commit('initial');
  return {
    dir,
    git,
    write,
    read: (path) => readFileSync(join(dir, path), 'utf8'),
    commit,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Resolved tasks as the engine hands them to a workspace, from plan-file task specs. */
export function resolvedTasks(tasks: readonly Record<string, unknown>[]): Map<string, ResolvedTask> {
  const executors = new Map([
    ['shell', { requires: 'run' as const }],
    ['fn', { requires: 'fn' as const }],
    ['claude', { requires: 'prompt' as const }],
  ]);
  const plan = compilePlan(
    {
      name: 't',
      tasks: tasks.map((t) => ({ executor: 'claude', ...(t.run === undefined ? { prompt: 'do it' } : {}), ...t })),
    },
    { executors },
  );
  return new Map(plan.graph.tasks.map((t) => [t.id, t]));
}

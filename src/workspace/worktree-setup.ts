import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { WeftError } from '../core/errors.js';
import type { WorkspaceSpec } from '../core/plan/workspace-schema.js';
import { git, gitText } from './git.js';
import type { Serial } from './serial.js';
import { clearStaleDir } from './worktrees.js';

export interface WorktreeSetupOptions {
  /** Top folder of the user's checkout (or a bare repository): set-ups are built in worktrees of it. */
  readonly root: string;
  /** Where `copy` files come from. @default root */
  readonly copyFrom?: string;
  /** What to say when a `copy` file is not there. @default 'create it, or take it out of workspace.copy' */
  readonly copyHint?: string;
  /** Where finished set-ups are kept, one folder per key (`.weft/setup`). */
  readonly cacheDir: string;
  /** Where a set-up is built (a scratch worktree; the run's worktree folder). */
  readonly scratchDir: string;
  readonly spec: WorkspaceSpec;
  /** The repository lock: worktree add/remove go under it. */
  readonly lock: Serial;
  /** Masks secrets in what the set-up printed (its log, the line quoted when it fails). @default none */
  readonly redact?: (text: string) => string;
  /** How the set-up's process group is stopped on a stop and when weft quits or dies. @default {@link stopGroupOnAbort} */
  readonly guardGroup?: GroupGuard;
}

/**
 * Stops a detached child's process group when `signal` aborts — SIGTERM, then SIGKILL after
 * `graceMs` — until the returned function is called, once the child has exited. The CLI passes the
 * executors' own (`killGroupOnAbort`), which also counts the group among those weft kills on a
 * second Ctrl-C and its orphan reaper stops if weft dies.
 */
export type GroupGuard = (
  child: { readonly pid?: number | undefined },
  signal: AbortSignal,
  graceMs: number,
) => () => void;

/** A {@link GroupGuard} on its own, for a workspace made without one (the library's). */
export const stopGroupOnAbort: GroupGuard = (child, signal, graceMs) => {
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    killGroup(child.pid, 'SIGTERM');
    timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), graceMs);
    timer.unref();
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  return () => {
    signal.removeEventListener('abort', stop);
    if (timer !== undefined) clearTimeout(timer);
  };
};

function killGroup(pid: number | undefined, how: NodeJS.Signals): void {
  try {
    if (pid !== undefined) process.kill(-pid, how);
  } catch {
    // already gone
  }
}

/** Marks a finished set-up folder; a folder without it is a crashed build and is built again. */
const DONE_FILE = '.weft-setup.json';

/**
 * Makes every worktree of a run ready to work in: copies in the files git does not track
 * (`workspace.copy`: `.env`, local config) and links in the folders a set-up command produces
 * (`workspace.setup.share`, e.g. `node_modules`). The set-up runs once per distinct content of its
 * `key` files (lockfiles), in a scratch worktree at the commit being worked on; what it produced
 * moves to `<cacheDir>/<key hash>/` and every worktree gets a symbolic link to it — one install
 * per lockfile, not one per task, and kept between runs.
 *
 * What it puts in a worktree is never committed: pass {@link WorktreeSetup.excluded} to `commitAll`.
 *
 * @example
 * const setup = new WorktreeSetup({ root, cacheDir, scratchDir, lock,
 *   spec: { setup: { run: ['npm', 'ci'], key: ['package-lock.json'], share: ['node_modules'] }, copy: ['.env'] } });
 * await setup.ready(await commitOf(root, 'HEAD')); // before any task: a failing set-up fails the run here
 * await setup.provision(worktreeDir);
 */
export class WorktreeSetup {
  /** Paths weft puts into each worktree (shared folders and copies), to leave out of commits. */
  readonly excluded: readonly string[];
  private readonly builds = new Map<string, Promise<string>>();

  constructor(private readonly options: WorktreeSetupOptions) {
    this.excluded = [...(options.spec.setup?.share ?? []), ...(options.spec.copy ?? [])];
  }

  /** `copy` files that are not in the user's checkout (relative paths). */
  missingCopies(): string[] {
    const from = this.options.copyFrom ?? this.options.root;
    return (this.options.spec.copy ?? []).filter((p) => !existsSync(join(from, p)));
  }

  /**
   * The set-up's folder for `commit`'s key files, running the set-up first when no earlier run
   * (or task) ran it for that content. `undefined` when there is no set-up.
   * @throws WeftError `WEFT_SETUP_FAILED` when the command fails or does not produce what `share` names
   */
  async ready(commit: string, signal?: AbortSignal): Promise<string | undefined> {
    const setup = this.options.spec.setup;
    if (setup === undefined) return undefined;
    const key = await this.keyOf(commit);
    let build = this.builds.get(key);
    if (build === undefined) {
      build = this.build(key, commit, signal);
      this.builds.set(key, build);
      build.catch(() => this.builds.delete(key)); // a later try may run it again
    }
    return build;
  }

  /** Puts the copies and the shared folders into the worktree at `dir` (its HEAD decides the set-up). */
  async provision(dir: string): Promise<void> {
    this.copyInto(dir);
    const shared = await this.ready(await gitText(dir, ['rev-parse', 'HEAD']));
    if (shared === undefined) return;
    for (const path of this.options.spec.setup?.share ?? []) {
      const link = join(dir, path);
      if (isThere(link)) rmSync(link, { recursive: true, force: true });
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(shared, path), link, 'dir');
    }
  }

  /** The hash of the command and the content (git blob) of each key file at `commit`. */
  private async keyOf(commit: string): Promise<string> {
    const setup = this.options.spec.setup;
    const hash = createHash('sha256').update(JSON.stringify([setup?.run, setup?.share]));
    for (const path of setup?.key ?? []) {
      const args = ['rev-parse', '--verify', '-q', `${commit}:${path}`];
      const blob = await git(this.options.root, args, { okCodes: [0, 1, 128] });
      hash.update(`\0${path}\0${blob.exitCode === 0 ? blob.stdout.trim() : 'missing'}`);
    }
    return hash.digest('hex').slice(0, 24);
  }

  private async build(key: string, commit: string, signal?: AbortSignal): Promise<string> {
    const { cacheDir, scratchDir, root, lock } = this.options;
    const setup = this.options.spec.setup;
    const final = join(cacheDir, key);
    if (setup === undefined || existsSync(join(final, DONE_FILE))) return final;
    const scratch = join(scratchDir, `_setup-${key}`);
    await lock.run(async () => {
      await clearStaleDir(root, scratch);
      await git(root, ['worktree', 'add', '-q', '--detach', scratch, commit]);
    });
    try {
      this.copyInto(scratch);
      mkdirSync(cacheDir, { recursive: true });
      const log = join(cacheDir, `${key}.log`);
      const [file, ...args] = setup.run as [string, ...string[]];
      const r = await runStoppable(file, args, scratch, signal, this.options.guardGroup ?? stopGroupOnAbort);
      // It runs with weft's environment and the `copy` files: what it prints of their secrets is masked.
      const output = (this.options.redact ?? ((t: string) => t))(r.all ?? '');
      writeFileSync(log, output);
      const shown = `workspace.setup \`${setup.run.join(' ')}\``;
      const where = relative(root, log).startsWith('..') ? log : relative(root, log);
      if (signal?.aborted === true)
        throw new WeftError('WEFT_SETUP_FAILED', `${shown} was stopped before any task ran (its output: ${where})`);
      if (r.failed) {
        const ending = r.exitCode === undefined ? (r.signal ?? r.shortMessage) : `exit code ${r.exitCode}`;
        const last = output.trim().split('\n').at(-1)?.trim() ?? '';
        const said = last === '' ? '' : `: ${last}`;
        const message = `${shown} failed (${ending}) before any task ran${said} (all its output: ${where})`;
        throw new WeftError('WEFT_SETUP_FAILED', message);
      }
      const partial = `${final}.partial-${process.pid}`;
      rmSync(partial, { recursive: true, force: true });
      for (const path of setup.share) {
        if (!isThere(join(scratch, path))) {
          throw new WeftError('WEFT_SETUP_FAILED', `${shown} succeeded but left no ${path} to share`, {
            hint: 'fix workspace.setup.share: name what the command makes',
          });
        }
        mkdirSync(dirname(join(partial, path)), { recursive: true });
        renameSync(join(scratch, path), join(partial, path));
      }
      const done = { run: setup.run, key: setup.key, commit, at: new Date().toISOString() };
      writeFileSync(join(partial, DONE_FILE), `${JSON.stringify(done, null, 2)}\n`);
      rmSync(final, { recursive: true, force: true }); // a crashed build's leftovers
      renameSync(partial, final);
      return final;
    } finally {
      await lock.run(() => clearStaleDir(root, scratch));
    }
  }

  private copyInto(dir: string): void {
    const top = this.options.copyFrom ?? this.options.root;
    for (const path of this.options.spec.copy ?? []) {
      const from = join(top, path);
      if (!existsSync(from)) {
        throw new WeftError('WEFT_USAGE', `workspace.copy: ${path} is not in ${top}`, {
          hint: this.options.copyHint ?? 'create it, or take it out of workspace.copy',
        });
      }
      cpSync(from, join(dir, path), { recursive: true, force: true });
    }
  }
}

/** Whether anything (a file, folder or link, even a dangling one) is at `path`. */
function isThere(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** How long a stopped set-up gets to end after SIGTERM before its process group is killed. */
const SETUP_KILL_GRACE_MS = 3000;

/**
 * Runs the set-up command in a process group of its own, which a stop (Ctrl-C, SIGTERM, SIGHUP:
 * `signal`) ends — SIGTERM, then SIGKILL after a grace — with everything it started (`npm ci`'s
 * children), rather than waiting minutes for it to finish.
 */
async function runStoppable(
  file: string,
  args: readonly string[],
  cwd: string,
  signal: AbortSignal | undefined,
  guard: GroupGuard,
) {
  const child = execa(file, args, { cwd, reject: false, all: true, stdin: 'ignore', detached: true });
  const release = guard(child, signal ?? new AbortController().signal, SETUP_KILL_GRACE_MS);
  try {
    return await child;
  } finally {
    release();
    if (signal?.aborted === true) killGroup(child.pid, 'SIGKILL'); // what it left in its group that ignored SIGTERM
  }
}

import { accessSync, constants, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TaskSpec } from '../../core/plan/plan-schema.js';

/** The fix weft names where a task asks for `sandbox: true` and bubblewrap is not installed. */
export const BWRAP_FIX = 'install bubblewrap (apt-get install bubblewrap), or set sandbox: false';

/**
 * Where bubblewrap is: `WEFT_BWRAP` when set (a path), else `bwrap` on PATH; `undefined` when
 * it is not there (or not executable).
 */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env['WEFT_BWRAP'];
  const candidates =
    given !== undefined && given !== ''
      ? [given]
      : (env['PATH'] ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir, 'bwrap'));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** What a sandboxed process may touch. */
export interface SandboxSpec {
  /** Its working folder (worktree, or cwd): writable, and where it starts. */
  readonly workdir: string;
  /** Further folders it may write (the attempt's context files, an agent's state). Made when missing. */
  readonly writable?: readonly string[];
  /** Paths bound back read-only where they exist (an agent's login under the hidden home). */
  readonly readable?: readonly string[];
  /** The home folder hidden behind an empty one. @default the user's home */
  readonly home?: string;
}

/**
 * The argv that runs `argv` under bubblewrap: the whole file system read-only (`/tmp` too: give the
 * task a `TMPDIR` among `writable`) and an empty home (the user's files, keys and tokens out of
 * sight), then the working folder and `writable` bound back writable — later mounts win, so a worktree under the home or `/tmp` is
 * still there. No new session: the process stays in weft's process group, which a timeout or
 * Ctrl-C kills, and `--die-with-parent` takes it down with bwrap. No shell in between.
 *
 * @example
 * sandboxArgv('/usr/bin/bwrap', ['make'], { workdir: '/repo/.weft/worktrees/r/build' });
 * // → ['/usr/bin/bwrap', '--ro-bind', '/', '/', …, '--chdir', '/repo/…/build', '--', 'make']
 */
export function sandboxArgv(bwrap: string, argv: readonly string[], spec: SandboxSpec): string[] {
  const home = spec.home ?? homedir();
  const out = [bwrap, '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc'];
  const hideHome = home !== '/' && home !== '' && existsSync(home);
  if (hideHome) out.push('--tmpfs', home);
  const workdir = real(spec.workdir);
  for (const path of spec.readable ?? []) if (existsSync(path)) out.push('--ro-bind', path, path);
  for (const dir of [workdir, ...(spec.writable ?? []).map(real)]) out.push('--bind', dir, dir);
  // The empty home read-only too: a write to a path under it would otherwise land in the tmpfs and be lost, not refused.
  if (hideHome) out.push('--remount-ro', home);
  out.push('--die-with-parent', '--chdir', workdir, '--', ...argv);
  return out;
}

/** The real path of a folder (made when missing): bubblewrap binds real paths only. */
function real(dir: string): string {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  return realpathSync(dir);
}

/**
 * The line of a sandboxed task's stderr that shows a write the sandbox refused (`…: Read-only file
 * system`), for its failure message; `undefined` when there is none.
 */
export function refusedWrite(stderr: string | undefined): string | undefined {
  if (stderr === undefined) return undefined;
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => /Read-only file system|EROFS/.test(l));
  return line?.trim().slice(0, 300);
}

/**
 * What an agent CLI needs from the hidden home, by CLI: its login and settings read-only (Claude,
 * Codex), or its folder writable where it keeps sessions there (Gemini).
 */
export function agentHomeEntries(cli: string, home: string): { readable: string[]; writable: string[] } {
  switch (cli) {
    case 'claude':
      return { readable: [join(home, '.claude'), join(home, '.claude.json')], writable: [] };
    case 'codex':
      return { readable: [join(home, '.codex')], writable: [] };
    case 'gemini':
      return { readable: [], writable: [join(home, '.gemini')] };
    default:
      return { readable: [], writable: [] };
  }
}

/**
 * `sandbox: true` where bubblewrap is missing: refused when the plan is validated (before any
 * run), with the fix. An executor's `info.check` for the tasks it runs.
 */
export function sandboxIssues(task: TaskSpec): { field: string; message: string; fix: string }[] {
  if (task.sandbox !== true || findBwrap() !== undefined) return [];
  return [{ field: 'sandbox', message: 'needs bubblewrap (bwrap), which is not installed', fix: BWRAP_FIX }];
}

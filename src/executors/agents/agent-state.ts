/**
 * Where agent CLIs keep their state when weft runs many of them at once.
 *
 * What each CLI writes under HOME, and what weft does about it (checked on the pinned versions):
 *
 * - **Claude Code** keeps sessions per working directory (`~/.claude/projects/<cwd>/<id>.jsonl`),
 *   which worktrees already separate, but also one global `~/.claude.json` that every process
 *   rewrites (feature-flag cache, counters, per-project data) without a reliable lock; parallel
 *   sessions corrupt it (anthropics/claude-code#3117, #28829, #29003). So each task gets its own
 *   `CLAUDE_CONFIG_DIR` under weft's state dir, seeded with a copy of the user's `.claude.json`
 *   (0600: on Linux it may hold a /login key) and symlinks to the user's settings, memory,
 *   agents, commands, skills, plugins, output styles and hooks. Credentials are never copied:
 *   `CLAUDE_SECURESTORAGE_CONFIG_DIR` points Claude's secure storage (the macOS Keychain entry,
 *   `.credentials.json` elsewhere) back at the user's own, so a refreshed OAuth token lands where
 *   the user's `claude` finds it (a copy would be invalidated by refresh-token rotation). Without
 *   that variable a separate config dir reads as "Not logged in".
 * - **Codex** keeps rollouts per thread (`$CODEX_HOME/sessions/…/rollout-…-<thread>.jsonl`) and
 *   finds them by scanning, but shares SQLite databases (`state_5.sqlite`, `logs_2.sqlite`, …)
 *   whose lock contention makes concurrent starts fail or lose rows (openai/codex#35555, #42447).
 *   So each task gets its own `CODEX_SQLITE_HOME`; `CODEX_HOME` (config, `auth.json`, sessions)
 *   stays the user's.
 * - **Gemini CLI** keeps chats per project root (`~/.gemini/tmp/<project>/chats/`) and guards its
 *   one shared file, `~/.gemini/projects.json`, with a lock file and atomic renames, so it needs
 *   nothing. (Its settings cannot be layered either: a system-defaults file is ignored unless
 *   root owns it and every folder above it, so weft caps its retries by watching its output.)
 *
 * State lives outside the project (`$XDG_STATE_HOME/weft/agents/<run>/<cli>/<task>`, 0700), one
 * folder per task so a retry or a routed-back fix resumes the session it started. Deleted when
 * the run succeeds (`dropRunState`); a failed or interrupted run keeps it for `weft resume`.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rm, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RunEnd } from '../../core/ports/executor.js';

/** `<root>/<run>/<cli>/<task>`, created (0700) if missing. */
export async function taskStateDir(
  root: string | undefined,
  env: NodeJS.ProcessEnv,
  runId: string,
  cli: string,
  taskId: string,
): Promise<string> {
  const dir = join(runStateDir(root, env, runId), cli, safeSegment(taskId));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** `<root>/<run>`: every CLI's state for one run. */
export function runStateDir(root: string | undefined, env: NodeJS.ProcessEnv, runId: string): string {
  const base =
    root ?? join(env['XDG_STATE_HOME'] || join(env['HOME'] || homedir(), '.local', 'state'), 'weft', 'agents');
  return join(base, safeSegment(runId));
}

/**
 * Deletes a run's state once every task succeeded (no session will be resumed); a run that can
 * still be resumed or retried keeps it.
 */
export async function dropRunState(root: string | undefined, env: NodeJS.ProcessEnv, end: RunEnd): Promise<void> {
  if (end.succeeded) await rm(runStateDir(root, env, end.runId), { recursive: true, force: true });
}

function safeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

/** The user's Claude config dir and global config file, as their own `claude` would use them. */
function claudeUserPaths(env: NodeJS.ProcessEnv): { readonly configDir: string; readonly globalConfig: string } {
  const custom = env['CLAUDE_CONFIG_DIR'];
  const home = env['HOME'] || homedir();
  return custom
    ? { configDir: custom, globalConfig: join(custom, '.claude.json') }
    : { configDir: join(home, '.claude'), globalConfig: join(home, '.claude.json') };
}

/** What the user configured in their Claude config dir that a task's session should see too. */
export const CLAUDE_SHARED_ENTRIES = [
  'settings.json',
  'CLAUDE.md',
  'agents',
  'commands',
  'skills',
  'plugins',
  'output-styles',
  'hooks',
] as const;

/**
 * Makes `dir` a Claude config dir for one task (see the file comment) and returns the env that
 * points Claude at it while keeping the user's login.
 */
export async function claudeConfigEnv(dir: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const user = claudeUserPaths(env);
  const globalCopy = join(dir, '.claude.json');
  if (!existsSync(globalCopy) && existsSync(user.globalConfig)) {
    await copyFile(user.globalConfig, globalCopy);
    await chmod(globalCopy, 0o600);
  }
  for (const name of CLAUDE_SHARED_ENTRIES) {
    const target = join(user.configDir, name);
    const link = join(dir, name);
    if (!existsSync(target) || existsSync(link)) continue;
    try {
      await symlink(target, link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  // '' means "the default location" to Claude (and the un-suffixed Keychain entry on macOS).
  const secureStorage = env['CLAUDE_SECURESTORAGE_CONFIG_DIR'] ?? env['CLAUDE_CONFIG_DIR'] ?? '';
  return { CLAUDE_CONFIG_DIR: dir, CLAUDE_SECURESTORAGE_CONFIG_DIR: secureStorage };
}

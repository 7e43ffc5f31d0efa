import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/** What `weft` runs: the bundle of dist/ (scripts/bundle-cli.mjs). */
export const CLI = join(ROOT, 'dist/bin/main.js');

/** Builds dist/ and the binary if missing or older than the sources, so the CLI tests run the real binary. */
export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs > newestSource(join(ROOT, 'src'))) return;
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory()
        ? newestSource(path)
        : entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')
          ? statSync(path).mtimeMs
          : 0,
    );
  }
  return newest;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function tempProject(prefix = 'weft-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `weft …` as a user would, in `cwd`, without a TTY. */
export function weft(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Starts `weft …` and hands back the child, for tests that signal it mid-run. */
export function startWeft(args: readonly string[], cwd: string) {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })));
  return { child, done, output: () => stdout };
}

/**
 * End-to-end kit: the real `weft` CLI (dist/) driving the real `claude`, `codex` and `gemini`
 * binaries (and the Anthropic SDK of the `anthropic` executor) against a {@link FakeLlmServer} on
 * 127.0.0.1. Each test gets its own server, HOME, git repository (with an initial commit) and
 * `weft.config.yaml`; the weft process gets the harness env only (never `process.env`, so a
 * developer's real keys or base URLs cannot leak in).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'vitest';
import { claudeEnv, codexEnv, geminiEnv } from '../support/fake-llm/agent-env.js';
import {
  FakeLlmServer,
  step,
  type RecordedRequest,
  type Step,
  type StepFn,
  type Usage,
} from '../support/fake-llm/fake-llm-server.js';
import { CLI_BINS } from '../support/fake-llm/run-cli.js';
import { CLI, ensureBuilt } from '../support/weft-cli.js';

export { step, ensureBuilt };

/** How a `weft` process ended. */
export interface WeftResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A `weft` process still running (for tests that kill it). */
export interface WeftProcess {
  readonly child: ChildProcess;
  readonly done: Promise<WeftResult>;
  stdout(): string;
}

export interface E2eProject {
  readonly llm: FakeLlmServer;
  /** The test's HOME. */
  readonly home: string;
  /** The user's checkout: a git repository on `main` with one commit (real path). */
  readonly repo: string;
  /** The env every `weft` process of this test gets: the three CLIs' envs merged. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs `weft …` in the repository to the end. */
  weft(args: readonly string[], timeoutMs?: number): Promise<WeftResult>;
  /** Starts `weft …` in the repository. */
  start(args: readonly string[], timeoutMs?: number): WeftProcess;
  /** `git …` in the repository; its stdout. */
  git(...args: string[]): string;
  /** Writes a file (relative to the repository). */
  write(file: string, text: string): Promise<void>;
}

export interface ProjectOptions {
  /** Files of the initial commit besides README.md. */
  readonly files?: Readonly<Record<string, string>>;
  /** Extra `weft.config.yaml` keys (merged over the executors section weft needs here). */
  readonly config?: Readonly<Record<string, unknown>>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test User',
  GIT_AUTHOR_EMAIL: 'user@example.test',
  GIT_COMMITTER_NAME: 'Test User',
  GIT_COMMITTER_EMAIL: 'user@example.test',
};

/**
 * A server, HOME, repository and config for one test; the server is closed, any weft process still
 * running is killed and the folder removed when the test ends.
 */
export async function e2eProject({ onTestFinished }: TestContext, options: ProjectOptions = {}): Promise<E2eProject> {
  const llm = await FakeLlmServer.start();
  const root = await realpath(await mkdtemp(join(tmpdir(), 'weft-e2e-')));
  const home = join(root, 'home');
  const repo = join(root, 'repo');
  await Promise.all([mkdir(home, { recursive: true }), mkdir(repo, { recursive: true })]);
  const children = new Set<ChildProcess>();
  onTestFinished(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await llm.close();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  });

  // One env for all three CLIs: they share the base (PATH, HOME, XDG_*, TMPDIR, the off-host trap).
  const [claude, codex, gemini] = await Promise.all([
    claudeEnv(llm, { home }),
    codexEnv(llm, { home }),
    geminiEnv(llm, { home }),
  ]);
  const env: Record<string, string> = { ...claude.env, ...codex.env, ...gemini.env, ...GIT_ENV };

  const config = {
    executors: {
      claude: { bin: CLI_BINS.claude },
      // Codex ignores OPENAI_BASE_URL: weft makes it a custom provider from baseUrl + apiKeyEnv.
      codex: {
        bin: CLI_BINS.codex,
        baseUrl: `${llm.url}/v1`,
        apiKeyEnv: 'LOCAL_API_KEY',
        model: 'gpt-5.5',
        args: ['-c', 'analytics.enabled=false', '--disable', 'plugins'],
      },
      gemini: { bin: CLI_BINS.gemini, model: 'gemini-2.5-flash' },
    },
    ...options.config,
  };

  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const write = async (file: string, text: string): Promise<void> => {
    await mkdir(dirname(join(repo, file)), { recursive: true });
    await writeFile(join(repo, file), text);
  };
  git('init', '-q', '-b', 'main');
  await write('README.md', '# demo\n');
  await write('.gitignore', '.weft/\n');
  for (const [file, text] of Object.entries(options.files ?? {})) await write(file, text);
  await write('weft.config.yaml', `${JSON.stringify(config, null, 2)}\n`); // JSON is YAML
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');

  const start = (args: readonly string[], timeoutMs = 150_000): WeftProcess => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const done = new Promise<WeftResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return { child, done, stdout: () => stdout };
  };
  return { llm, home, repo, env, git, write, start, weft: (args, timeoutMs) => start(args, timeoutMs).done };
}

// ── scripting the model ─────────────────────────────────────────────────────────────────────────

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The worktree weft gave `taskId`, as the CLI told the model (each CLI puts its working directory
 * in the request: Claude's system prompt, Codex's `<environment_context>`, Gemini's session context).
 */
export function worktreeIn(request: RecordedRequest, repo: string, taskId: string): string {
  const found = new RegExp(
    `${escape(repo)}/\\.weft/worktrees/[A-Za-z0-9._-]+/${escape(taskId)}(?=[/"'\\s<\\\\]|$)`,
  ).exec(JSON.stringify(request.body));
  if (found === null) throw new Error(`no worktree of task "${taskId}" under ${repo} in request #${request.seq}`);
  return found[0];
}

/** A step that writes `file` (relative) in the task's worktree with the CLI's own file tool. */
export function writeInWorktree(
  repo: string,
  taskId: string,
  file: string,
  content: string,
  options: { usage?: Usage } = {},
): StepFn {
  return (request) => step.writeFile(join(worktreeIn(request, repo, taskId), file), content, options);
}

/** An agent that writes one file, then says it is done. */
export function writesFile(repo: string, taskId: string, file: string, content: string): (Step | StepFn)[] {
  return [writeInWorktree(repo, taskId, file, content), step.text(`${taskId}: wrote ${file}`)];
}

// ── reading what happened ───────────────────────────────────────────────────────────────────────

/** The run id from a human summary line `Run <id> …` (the last one printed). */
export function runIdOf(stdout: string): string {
  const ids = [...stdout.matchAll(/^Run (\d{8}-\d{6}-[0-9a-f]{4})\b/gm)].map((m) => m[1] as string);
  const id = ids.at(-1);
  if (id === undefined) throw new Error(`no "Run <id>" line in:\n${stdout}`);
  return id;
}

/** One journaled event as `--json` prints it. */
export type JsonEvent = Record<string, unknown> & { readonly type: string };

/** The JSON lines of a `--json` run. */
export function jsonLines(stdout: string): JsonEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonEvent);
}

/** Model calls whose user texts contain `marker` (a task's session). */
export function turnsOf(llm: FakeLlmServer, marker: string): RecordedRequest[] {
  return llm.turns().filter((t) => t.userTexts.some((u) => u.includes(marker)));
}

/** Session ids of the Claude and Codex sessions that carry `marker` (each CLI sends its session id as a header). */
export function sessionsOf(llm: FakeLlmServer, marker: string): Set<string> {
  return new Set(
    turnsOf(llm, marker).flatMap((t) =>
      [t.headers['x-claude-code-session-id'] ?? t.headers['session-id']].filter(
        (h): h is string => typeof h === 'string',
      ),
    ),
  );
}

/** Reads a file of the run folder. */
export function runFile(repo: string, runId: string, ...path: string[]): string {
  return readFileSync(join(repo, '.weft', 'runs', runId, ...path), 'utf8');
}

/** Whether a path exists in the repository's checkout. */
export function inCheckout(repo: string, file: string): boolean {
  return existsSync(join(repo, file));
}

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

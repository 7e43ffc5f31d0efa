/**
 * Per-test environments that point the real agent CLIs at a {@link FakeLlmServer}: the env vars,
 * the extra argv and the settings files under a throwaway HOME that each CLI needs.
 *
 * The env is complete, not a patch on `process.env`: merging would let a developer's real keys,
 * base URLs or `CLAUDECODE` leak into the test.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What an executor needs to run one CLI against the fake server. */
export interface AgentInvocation {
  /** The whole environment for the child process. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Extra argv. Claude: none. Codex: `-c …` options, placed right after `exec` (or `exec resume`).
   * Gemini: `-m <model>`, anywhere.
   */
  readonly args: readonly string[];
}

export interface AgentEnvOptions {
  /** The test's own HOME; settings files are written under it. */
  readonly home: string;
  /**
   * How often the CLI itself retries a failed model call (429, 5xx, 529). Gemini waits at least
   * 5 s before a retry, Claude honours `retry-after`.
   * @default 0
   */
  readonly maxRetries?: number;
  /**
   * Point `HTTP(S)_PROXY` at the fake server (with `NO_PROXY` for 127.0.0.1), so any attempt to reach
   * another host shows up as an `off-host` request in {@link FakeLlmServer.verify} instead of
   * silently timing out.
   * @default true
   */
  readonly trapOffHost?: boolean;
  /** Added last; wins over everything above. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Anything with the server's base URL (a {@link FakeLlmServer}). */
export interface HasUrl {
  readonly url: string;
}

/** The API key every CLI is given; the server accepts anything. */
export const FAKE_API_KEY = 'fake-llm-key';

/**
 * Codex model used when none is given: one Codex knows, so it offers `apply_patch` (for a model it
 * does not know it prints a "Model metadata … not found" `error` item and offers no `apply_patch`).
 */
export const DEFAULT_CODEX_MODEL = 'gpt-5.5';
/** Gemini model used when none is given; passing `-m` also skips the CLI's model-routing call. */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash';

/** Temp folders for one agent run: `home` (its HOME) and `cwd` (its working directory). */
export interface AgentDirs {
  readonly root: string;
  readonly home: string;
  readonly cwd: string;
  /** Removes everything. */
  cleanup(): Promise<void>;
}

/** Creates `<tmp>/<prefix>XXXX/{home,work}`. */
export async function makeAgentDirs(prefix = 'weft-fake-llm-'): Promise<AgentDirs> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  await Promise.all([mkdir(home, { recursive: true }), mkdir(cwd, { recursive: true })]);
  return { root, home, cwd, cleanup: () => rm(root, { recursive: true, force: true, maxRetries: 3 }) };
}

async function baseEnv(server: HasUrl, options: AgentEnvOptions): Promise<Record<string, string>> {
  const { home } = options;
  await mkdir(join(home, 'tmp'), { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: process.env['USER'] ?? 'weft',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    // Gemini CLI writes error reports to the temp dir: keep them inside the test's folder.
    TMPDIR: join(home, 'tmp'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
  };
  if (options.trapOffHost ?? true) {
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'])
      env[name] = server.url;
    for (const name of ['NO_PROXY', 'no_proxy']) env[name] = '127.0.0.1,localhost,::1';
  }
  return env;
}

function retries(options: AgentEnvOptions): number {
  const n = options.maxRetries ?? 0;
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`Expected \`maxRetries\` to be a non-negative integer, got \`${n}\``);
  return n;
}

/**
 * Claude Code: `claude -p <prompt> --output-format stream-json --verbose` with this env.
 * @example
 * const { env } = await claudeEnv(llm, { home });
 * spawn('node_modules/.bin/claude', ['-p', prompt, '--output-format', 'json'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
 */
export async function claudeEnv(server: HasUrl, options: AgentEnvOptions): Promise<AgentInvocation> {
  const env = {
    ...(await baseEnv(server, options)),
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    CLAUDE_CODE_MAX_RETRIES: String(retries(options)),
    // Stops the auto-updater, telemetry, error reporting and other look-ups.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    ...options.env,
  };
  return { env, args: [] };
}

/**
 * Codex: `codex exec <args> --json --skip-git-repo-check -C <cwd> -s workspace-write <prompt>`.
 * `OPENAI_BASE_URL` is ignored by Codex, hence a custom model provider named `local`.
 */
export async function codexEnv(
  server: HasUrl,
  options: AgentEnvOptions & { readonly model?: string },
): Promise<AgentInvocation> {
  const n = retries(options);
  const provider =
    `{name="local",base_url="${server.url}/v1",env_key="LOCAL_API_KEY",wire_api="responses",` +
    `stream_max_retries=${n},request_max_retries=${n}}`;
  const codexHome = join(options.home, '.codex');
  await mkdir(codexHome, { recursive: true });
  const env = {
    ...(await baseEnv(server, options)),
    CODEX_HOME: codexHome,
    LOCAL_API_KEY: FAKE_API_KEY,
    ...options.env,
  };
  const args = [
    '-c',
    'model_provider=local',
    '-c',
    `model_providers.local=${provider}`,
    '-c',
    'analytics.enabled=false',
    '--disable',
    'plugins',
    '-m',
    options.model ?? DEFAULT_CODEX_MODEL,
  ];
  return { env, args };
}

/**
 * Gemini CLI: `gemini -p <prompt> -o stream-json <args> --approval-mode yolo`.
 * Writes `$HOME/.gemini/settings.json`; without it the base URL alone fails with
 * "Invalid auth method selected".
 */
export async function geminiEnv(
  server: HasUrl,
  options: AgentEnvOptions & { readonly model?: string },
): Promise<AgentInvocation> {
  const dir = join(options.home, '.gemini');
  await mkdir(dir, { recursive: true });
  const settings = {
    security: { auth: { selectedType: 'gemini-api-key' } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    // `maxAttempts` counts the first try; the CLI caps it at 10.
    general: { maxAttempts: retries(options) + 1, enableAutoUpdate: false, enableAutoUpdateNotification: false },
  };
  await writeFile(join(dir, 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  const env = {
    ...(await baseEnv(server, options)),
    GEMINI_API_KEY: FAKE_API_KEY,
    GOOGLE_GEMINI_BASE_URL: server.url,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    // Otherwise it re-launches itself with a bigger heap: a second start of a large bundle (~0.5 s).
    GEMINI_CLI_NO_RELAUNCH: 'true',
    ...options.env,
  };
  // Without -m Gemini CLI first makes a routing call to pick a model.
  return { env, args: ['-m', options.model ?? DEFAULT_GEMINI_MODEL] };
}

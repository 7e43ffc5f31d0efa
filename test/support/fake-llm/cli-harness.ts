/**
 * Helpers for tests that run the real agent CLIs against a FakeLlmServer: one server and
 * throwaway HOME/cwd per test, the argv each CLI needs, and readers for their JSON events.
 */
import type { TestContext } from 'vitest';
import { expect } from 'vitest';
import type { AgentDirs, AgentEnvOptions } from './agent-env.js';
import { claudeEnv, codexEnv, geminiEnv, makeAgentDirs } from './agent-env.js';
import { FakeLlmServer } from './fake-llm-server.js';
import type { CliRun } from './run-cli.js';
import { CLI_BINS, runCli } from './run-cli.js';

/** A JSON event from a CLI's stdout; loosely typed because each CLI has its own shapes. */
export type Event = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One test's server and its agent's temp HOME and cwd. */
export interface Harness {
  readonly llm: FakeLlmServer;
  readonly dirs: AgentDirs;
}

/** A server and temp dirs for one test, removed when it ends. */
export async function harness({ onTestFinished }: TestContext): Promise<Harness> {
  const llm = await FakeLlmServer.start();
  const dirs = await makeAgentDirs();
  onTestFinished(async () => {
    await llm.close();
    await dirs.cleanup();
  });
  return { llm, dirs };
}

/** Agent env options minus `home`, which the harness provides. */
export type EnvOptions = Omit<AgentEnvOptions, 'home'>;

/** `claude -p <prompt> --output-format stream-json --verbose <extra>` in the harness cwd. */
export async function claude(
  h: Harness,
  prompt: string,
  extra: string[] = [],
  options: EnvOptions = {},
): Promise<CliRun> {
  const { env } = await claudeEnv(h.llm, { home: h.dirs.home, ...options });
  return runCli(CLI_BINS.claude, ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...extra], {
    cwd: h.dirs.cwd,
    env,
  });
}

/** `codex exec <env args> --json --skip-git-repo-check -C <cwd> -s workspace-write <extra> <prompt>`. */
export async function codex(
  h: Harness,
  prompt: string,
  extra: string[] = [],
  options: EnvOptions = {},
): Promise<CliRun> {
  const { env, args } = await codexEnv(h.llm, { home: h.dirs.home, ...options });
  const argv = [
    'exec',
    ...args,
    '--json',
    '--skip-git-repo-check',
    '-C',
    h.dirs.cwd,
    '-s',
    'workspace-write',
    ...extra,
    prompt,
  ];
  return runCli(CLI_BINS.codex, argv, { cwd: h.dirs.cwd, env });
}

/** `gemini -p <prompt> -o stream-json -m <model> --approval-mode yolo <extra>`. */
export async function gemini(
  h: Harness,
  prompt: string,
  extra: string[] = [],
  options: EnvOptions = {},
): Promise<CliRun> {
  const { env, args } = await geminiEnv(h.llm, { home: h.dirs.home, ...options });
  const argv = ['-p', prompt, '-o', 'stream-json', ...args, '--approval-mode', 'yolo', ...extra];
  return runCli(CLI_BINS.gemini, argv, { cwd: h.dirs.cwd, env });
}

/** Events of one `type`, in order. */
export const ofType = (run: CliRun, type: string): Event[] => run.events.filter((e) => e['type'] === type) as Event[];
/** The single event of `type`; fails the test (showing the CLI's output) if there is not exactly one. */
export const only = (run: CliRun, type: string): Event => {
  const found = ofType(run, type);
  expect(found, `one ${type} event in:\n${run.stdout}\n${run.stderr}`).toHaveLength(1);
  return found[0] as Event;
};
/** Codex `item.completed` items of one item type (`agent_message`, `command_execution`, `file_change`, `error`). */
export const codexItems = (run: CliRun, itemType: string): Event[] =>
  ofType(run, 'item.completed')
    .map((e) => e['item'] as Event)
    .filter((item) => item['type'] === itemType);
/** Gemini's assistant text: the concatenated `message` deltas. */
export const geminiText = (run: CliRun): string =>
  ofType(run, 'message')
    .filter((e) => e['role'] === 'assistant')
    .map((e) => e['content'])
    .join('');
/** Milliseconds between model call `i - 1` and `i` (a retry delay). */
export const gap = (llm: FakeLlmServer, i: number): number =>
  (llm.turns()[i]?.receivedAt ?? NaN) - (llm.turns()[i - 1]?.receivedAt ?? NaN);

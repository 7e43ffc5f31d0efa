import type { Executor } from '../core/ports/executor.js';
import type { ExecutorCatalog } from '../core/plan/compile.js';
import { FnExecutor, type TaskFunction } from './fn/fn-executor.js';
import { ShellExecutor } from './shell/shell-executor.js';
import { AnthropicExecutor, OpenAiExecutor, type LlmExecutorOptions } from './llm/llm-executor.js';
import type { Price } from '../core/run/pricing.js';
import type { AgentExecutorOptions } from './agents/agent-cli-executor.js';
import { ClaudeExecutor } from './agents/claude-executor.js';
import { CodexExecutor } from './agents/codex-executor.js';
import { GeminiExecutor } from './agents/gemini-executor.js';

export { FnExecutor, type TaskFunction } from './fn/fn-executor.js';
export { ShellExecutor } from './shell/shell-executor.js';
export { AnthropicExecutor, OpenAiExecutor } from './llm/llm-executor.js';
export { ClaudeExecutor } from './agents/claude-executor.js';
export { CodexExecutor } from './agents/codex-executor.js';
export { GeminiExecutor } from './agents/gemini-executor.js';
export type { AgentExecutorOptions } from './agents/agent-cli-executor.js';

/** Per-executor settings from `weft.config.yaml`. */
export interface ExecutorSettings {
  readonly baseUrl?: string;
  readonly apiKeyEnv?: string;
  readonly model?: string;
  readonly bin?: string;
  readonly permissionMode?: string;
  readonly args?: readonly string[];
}

export interface ExecutorSetOptions {
  readonly functions?: ReadonlyMap<string, TaskFunction>;
  readonly env?: NodeJS.ProcessEnv;
  readonly settings?: Readonly<Record<string, ExecutorSettings>>;
  readonly prices?: Readonly<Record<string, Price>>;
}

function llmOptions(name: string, options: ExecutorSetOptions): LlmExecutorOptions {
  const s = options.settings?.[name] ?? {};
  const env = options.env ?? process.env;
  const apiKey = s.apiKeyEnv === undefined ? undefined : env[s.apiKeyEnv];
  return {
    ...(s.baseUrl === undefined ? {} : { baseUrl: s.baseUrl }),
    ...(s.model === undefined ? {} : { model: s.model }),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(s.apiKeyEnv === undefined ? {} : { apiKeyEnv: s.apiKeyEnv }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.prices === undefined ? {} : { prices: options.prices }),
  };
}

function agentOptions(name: string, options: ExecutorSetOptions): AgentExecutorOptions {
  const s = options.settings?.[name] ?? {};
  return {
    ...(s.bin === undefined ? {} : { bin: s.bin }),
    ...(s.model === undefined ? {} : { model: s.model }),
    ...(s.args === undefined ? {} : { args: s.args }),
    ...(s.permissionMode === undefined ? {} : { permissionMode: s.permissionMode }),
    ...(s.baseUrl === undefined ? {} : { baseUrl: s.baseUrl }),
    ...(s.apiKeyEnv === undefined ? {} : { apiKeyEnv: s.apiKeyEnv }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.prices === undefined ? {} : { prices: options.prices }),
  };
}

/** The executors weft ships, by name. */
export function defaultExecutors(options: ExecutorSetOptions = {}): Map<string, Executor> {
  const list: Executor[] = [
    new ShellExecutor(options.env === undefined ? {} : { env: options.env }),
    new FnExecutor(options.functions ?? new Map()),
    new AnthropicExecutor(llmOptions('anthropic', options)),
    new OpenAiExecutor(llmOptions('openai', options)),
    new ClaudeExecutor(agentOptions('claude', options)),
    new CodexExecutor(agentOptions('codex', options)),
    new GeminiExecutor(agentOptions('gemini', options)),
  ];
  return new Map(list.map((e) => [e.name, e]));
}

/** What validation needs to know of each executor. */
export function catalogOf(executors: ReadonlyMap<string, Executor>): ExecutorCatalog {
  return new Map([...executors].map(([name, e]) => [name, e.info]));
}

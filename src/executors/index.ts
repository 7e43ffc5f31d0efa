import type { Executor } from '../core/ports/executor.js';
import type { ExecutorCatalog } from '../core/plan/compile.js';
import { FnExecutor, type TaskFunction } from './fn/fn-executor.js';
import { ShellExecutor } from './shell/shell-executor.js';
import { AnthropicExecutor, OpenAiExecutor, type LlmExecutorOptions } from './llm/llm-executor.js';
import type { Price } from '../core/run/pricing.js';
import type { ExecutorsSettings, LlmSettings } from './executor-settings.js';
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
export type { LlmExecutorOptions } from './llm/llm-executor.js';
export {
  AgentSettingsSchema,
  LlmSettingsSchema,
  ExecutorsSettingsSchema,
  type AgentSettings,
  type LlmSettings,
  type ExecutorsSettings,
} from './executor-settings.js';

/** What {@link defaultExecutors} builds the executors from. */
export interface ExecutorSetOptions {
  /** The functions `fn` tasks run, by task id. @default none */
  readonly functions?: ReadonlyMap<string, TaskFunction>;
  /** Base environment of every executor (API keys are read here). @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** `weft.config.yaml` `executors:`: settings per executor. @default none */
  readonly settings?: ExecutorsSettings;
  /** USD per million tokens by model-id prefix (`pricing:`). @default DEFAULT_PRICES */
  readonly prices?: Readonly<Record<string, Price>>;
}

/** Code-only options every configurable executor shares: the environment and the price table. */
function shared(options: ExecutorSetOptions): { env?: NodeJS.ProcessEnv; prices?: Readonly<Record<string, Price>> } {
  return {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.prices === undefined ? {} : { prices: options.prices }),
  };
}

/** An API executor's options: its settings as they are, plus the key read from `apiKeyEnv`. */
function llmOptions(settings: LlmSettings | undefined, options: ExecutorSetOptions): LlmExecutorOptions {
  const env = options.env ?? process.env;
  const apiKey = settings?.apiKeyEnv === undefined ? undefined : env[settings.apiKeyEnv];
  return { ...settings, ...(apiKey === undefined ? {} : { apiKey }), ...shared(options) };
}

/** The executors weft ships, by name. */
export function defaultExecutors(options: ExecutorSetOptions = {}): Map<string, Executor> {
  const settings = options.settings ?? {};
  const list: Executor[] = [
    new ShellExecutor(options.env === undefined ? {} : { env: options.env }),
    new FnExecutor(options.functions ?? new Map()),
    new AnthropicExecutor(llmOptions(settings.anthropic, options)),
    new OpenAiExecutor(llmOptions(settings.openai, options)),
    new ClaudeExecutor({ ...settings.claude, ...shared(options) }),
    new CodexExecutor({ ...settings.codex, ...shared(options) }),
    new GeminiExecutor({ ...settings.gemini, ...shared(options) }),
  ];
  return new Map(list.map((e) => [e.name, e]));
}

/** What validation needs to know of each executor. */
export function catalogOf(executors: ReadonlyMap<string, Executor>): ExecutorCatalog {
  return new Map([...executors].map(([name, e]) => [name, e.info]));
}

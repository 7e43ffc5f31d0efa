// The SDKs load only when an API task runs: every weft command starts faster without them.
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { checkOutput, parseJsonAnswer, schemaFix } from '../agents/structured-output.js';
import type { Usage } from '../../core/run/events.js';
import type { Executor, TaskContext, TaskOutcome } from '../../core/ports/executor.js';
import { priceUsage, type Price } from '../../core/run/pricing.js';
import { composePrompt } from './prompt.js';
import { httpFailure } from './retryable.js';
import { checkNumbers, withDefaults } from '../../core/options.js';
import type { LlmSettings } from '../executor-settings.js';

/** The values of {@link LlmExecutorOptions} left out. */
export const LLM_EXECUTOR_DEFAULTS = { maxTokens: 4096 } as const;

/**
 * Options of the LLM API executors. The ones `weft.config.yaml` `executors.<name>` sets (`baseUrl`,
 * `apiKeyEnv` — the variable `apiKey` was read from, named when it is unset —, `model`) come from
 * `LlmSettingsSchema` in `executor-settings.ts`, where each is described; the rest are for code.
 */
export interface LlmExecutorOptions extends Readonly<LlmSettings> {
  /** The API key. @default ANTHROPIC_API_KEY / OPENAI_API_KEY from `env` */
  readonly apiKey?: string;
  /** Where the provider's key variable is read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Output token cap per call. @default 4096 */
  readonly maxTokens?: number;
  /** USD per million tokens by model-id prefix. @default DEFAULT_PRICES */
  readonly prices?: Readonly<Record<string, Price>>;
}

interface Reply {
  readonly text: string;
  readonly structured?: unknown;
  readonly usage: Usage;
}

/**
 * For tasks that only need text or JSON (reviews, scores, plans): one call to an LLM API through
 * its SDK. With `outputSchema`, the answer is structured output validated against it. The SDK's
 * own retries are off: weft backs off (honouring retry-after) without counting a rate limit as
 * the task's failure.
 */
abstract class LlmExecutor implements Executor {
  abstract readonly name: string;
  readonly version = '1';
  readonly info = { requires: 'prompt' as const, provider: '', answersOnly: true };

  protected readonly options: LlmExecutorOptions & { readonly maxTokens: number };

  /** @throws {WeftError} `WEFT_USAGE` when `maxTokens` is not a positive integer. */
  constructor(options: LlmExecutorOptions = {}) {
    this.options = withDefaults(LLM_EXECUTOR_DEFAULTS, options);
    checkNumbers(`${new.target.name}`, this.options, { maxTokens: 'a positive integer' });
  }

  protected abstract call(ctx: TaskContext, prompt: string, model: string): Promise<Reply>;
  protected abstract defaultModel(): string;
  /** The provider's own variable for its API key. */
  protected abstract readonly keyVar: string;

  /**
   * The API key: the configured one, else the provider's variable unless `apiKeyEnv` names another
   * (then only that one: the provider's key must not go to the server a config chose for another
   * key); `undefined` when none is set.
   */
  protected apiKey(): string | undefined {
    const own = this.options.apiKeyEnv === undefined ? (this.options.env ?? process.env)[this.keyVar] : undefined;
    const key = this.options.apiKey ?? own;
    return key === '' ? undefined : key;
  }

  /**
   * Without a key the provider's API answers 401 (or, offline, "Connection error."): what to set
   * instead. A baseUrl (a local server, a proxy) may need none, unless the config names a key variable.
   */
  private missingKey(): string | undefined {
    if (this.apiKey() !== undefined) return undefined;
    if (this.options.baseUrl !== undefined && this.options.apiKeyEnv === undefined) return undefined;
    const named = this.options.apiKeyEnv;
    return named === undefined
      ? `${this.keyVar} is not set: export your API key as ${this.keyVar} (or name the variable that holds it with executors.${this.name}.apiKeyEnv in weft.config.yaml)`
      : `${named} is not set: export your API key as ${named} (executors.${this.name}.apiKeyEnv in weft.config.yaml names it)`;
  }

  async checkSetup(): Promise<string | undefined> {
    return this.missingKey();
  }

  /** The task's model, else the configured one, else this API's default. */
  modelFor(task: { readonly model?: string | undefined }): string {
    return task.model ?? this.options.model ?? this.defaultModel();
  }

  /**
   * The reply's usage with its cost. `usage.model` is the model the API says answered (a dated id
   * for an alias, a server's own name); where no price matches it, the price of the model asked for does.
   */
  private priced(usage: Usage, asked: string): Usage {
    const own = priceUsage(usage, this.options.prices);
    if (own.costUsd !== undefined || usage.model === asked) return own;
    return { ...priceUsage({ ...usage, model: asked }, this.options.prices), model: usage.model ?? asked };
  }

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const missing = this.missingKey();
    if (missing !== undefined) return { ok: false, failure: { message: missing, code: 'WEFT_EXECUTOR' } };
    const model = this.modelFor(ctx.task);
    let reply: Reply;
    try {
      reply = await this.call(ctx, composePrompt(ctx), model);
    } catch (error) {
      const e = error as { status?: number; message?: string; headers?: Headers | Record<string, string> };
      const retryAfter = e.headers instanceof Headers ? e.headers.get('retry-after') : e.headers?.['retry-after'];
      return { ok: false, failure: httpFailure(e.status, e.message ?? String(error), retryAfter) };
    }
    const usage = this.priced(reply.usage, model);
    ctx.emit({ kind: 'usage', usage });
    const schema = ctx.task.outputSchema;
    if (schema === undefined) return { ok: true, result: { text: reply.text, usage } };
    // The same checks the agent executors make: JSON found in the text, validated against the schema.
    const answer =
      reply.structured !== undefined ? { ok: true as const, value: reply.structured } : parseJsonAnswer(reply.text);
    const checked = answer.ok
      ? checkOutput(schema, answer.value)
      : { ok: false as const, message: 'the answer is not JSON, but the task has an outputSchema' };
    if (!checked.ok) {
      // Back as a fix, like an agent's; an API call has no session, so the fix quotes the answer.
      const answered = reply.text.length > 2000 ? `${reply.text.slice(0, 2000)}…` : reply.text;
      const fix = `${schemaFix(checked.message, schema)}\nYour answer was:\n${answered}`;
      const failure = { message: checked.message, code: 'WEFT_OUTPUT_SCHEMA' as const, fix };
      return { ok: false, failure, result: { text: reply.text, usage } };
    }
    return { ok: true, result: { text: reply.text, output: checked.value, usage } };
  }
}

export class AnthropicExecutor extends LlmExecutor {
  readonly name = 'anthropic';
  override readonly info = { requires: 'prompt' as const, provider: 'anthropic', answersOnly: true };
  protected readonly keyVar = 'ANTHROPIC_API_KEY';
  private client: Anthropic | undefined;

  protected defaultModel(): string {
    return 'claude-sonnet-4-6';
  }

  protected async call(ctx: TaskContext, prompt: string, model: string): Promise<Reply> {
    const { default: AnthropicClient } = await import('@anthropic-ai/sdk');
    this.client ??= new AnthropicClient({
      apiKey: this.apiKey() ?? '',
      ...(this.options.baseUrl === undefined ? {} : { baseURL: this.options.baseUrl }),
      maxRetries: 0,
    });
    const schema = ctx.task.outputSchema;
    const message = await this.client.messages.create(
      {
        model,
        max_tokens: this.options.maxTokens,
        messages: [{ role: 'user', content: prompt }],
        // Structured output: a forced tool call whose input is the answer.
        ...(schema === undefined
          ? {}
          : {
              tools: [
                {
                  name: 'answer',
                  description: 'Give the answer in this shape.',
                  input_schema: { type: 'object' as const, ...schema },
                },
              ],
              tool_choice: { type: 'tool' as const, name: 'answer' },
            }),
      },
      { signal: ctx.signal },
    );
    const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    const tool = message.content.find((b) => b.type === 'tool_use');
    const u = message.usage;
    const usage: Usage = {
      model: message.model || model, // the model that answered, as the API names it
      inputTokens: u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
      outputTokens: u.output_tokens,
      cacheReadTokens: u.cache_read_input_tokens ?? 0,
      cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
    };
    return {
      text: text === '' && tool !== undefined ? JSON.stringify(tool.input) : text,
      ...(tool === undefined ? {} : { structured: tool.input }),
      usage,
    };
  }
}

/** OpenAI and every OpenAI-compatible server (Ollama, vLLM, LM Studio) via Chat Completions. */
export class OpenAiExecutor extends LlmExecutor {
  readonly name = 'openai';
  override readonly info = { requires: 'prompt' as const, provider: 'openai', answersOnly: true };
  protected readonly keyVar = 'OPENAI_API_KEY';
  private client: OpenAI | undefined;

  protected defaultModel(): string {
    return 'gpt-5-mini';
  }

  protected async call(ctx: TaskContext, prompt: string, model: string): Promise<Reply> {
    const { default: OpenAIClient } = await import('openai');
    this.client ??= new OpenAIClient({
      apiKey: this.apiKey() ?? 'none',
      ...(this.options.baseUrl === undefined ? {} : { baseURL: this.options.baseUrl }),
      maxRetries: 0,
    });
    const schema = ctx.task.outputSchema;
    const completion = await this.client.chat.completions.create(
      {
        model,
        messages: [{ role: 'user', content: prompt }],
        ...(schema === undefined
          ? {}
          : {
              response_format: { type: 'json_schema' as const, json_schema: { name: 'answer', schema, strict: false } },
            }),
      },
      { signal: ctx.signal },
    );
    const text = completion.choices[0]?.message.content ?? '';
    const u = completion.usage;
    const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
    return {
      text,
      usage: {
        model: completion.model || model, // the model that answered, as the server names it
        inputTokens: u?.prompt_tokens ?? 0,
        outputTokens: u?.completion_tokens ?? 0,
        cacheReadTokens: cached,
      },
    };
  }
}

/**
 * What a scripted model does for one request: the vocabulary tests use to script
 * {@link FakeLlmServer}. Steps are provider-neutral; each provider module renders them in
 * its own wire format, so one script can drive Claude Code, Codex or Gemini CLI.
 */
import type { RecordedRequest } from './recorded-request.js';

/** The three wire protocols the server speaks. */
export type Provider = 'anthropic' | 'openai' | 'gemini';

/** Token counts reported with a reply, rendered in the provider's usage format. */
export interface Usage {
  readonly input: number;
  readonly output: number;
  /** Prompt tokens served from cache: Anthropic `cache_read_input_tokens`, OpenAI `cached_tokens`, Gemini `cachedContentTokenCount`. @default 0 */
  readonly cached?: number;
  /** OpenAI `reasoning_tokens` / Gemini `thoughtsTokenCount`. @default 0 */
  readonly reasoning?: number;
}

/**
 * One tool call the scripted model makes.
 * - `write-file` and `shell` are neutral: each provider renders them as the CLI's own tool
 *   (Claude `Write`/`Bash`, Codex `apply_patch`/`exec_command`, Gemini `write_file`/`run_shell_command`).
 * - `raw` is sent as is: `name` must be a tool the CLI offered in this request. For OpenAI a
 *   string `input` becomes a freeform `custom_tool_call`, anything else a `function_call`.
 */
export type ToolCall =
  | { readonly kind: 'write-file'; readonly path: string; readonly content: string }
  | { readonly kind: 'shell'; readonly command: string }
  | { readonly kind: 'raw'; readonly name: string; readonly input: unknown };

/** Failures a provider can answer with; each maps to that provider's status and error body. */
export type ErrorKind = 'bad-request' | 'unauthorized' | 'rate-limited' | 'overloaded' | 'server-error';

interface StepBase {
  /** How many requests this step answers before the next step is used; `Infinity` for all. @default 1 */
  readonly times?: number;
  /** Wait this long before answering (exercise timeouts). @default 0 */
  readonly delayMs?: number;
  /** The model the reply says answered (a dated id for an alias, say). @default the model the request asked for */
  readonly model?: string;
}

export type Step =
  | (StepBase & { readonly kind: 'text'; readonly text: string; readonly usage?: Usage })
  /**
   * The model answers with JSON text, or, when Claude offers its `StructuredOutput` tool
   * (`--json-schema`), calls that tool; Claude then ends the run with no further request. An
   * Anthropic request that forces a tool (`tool_choice: {type: "tool", name}`) gets that call.
   */
  | (StepBase & { readonly kind: 'json'; readonly value: unknown; readonly usage?: Usage })
  | (StepBase & {
      readonly kind: 'tool-calls';
      readonly calls: readonly ToolCall[];
      readonly text?: string;
      readonly usage?: Usage;
    })
  | (StepBase & {
      readonly kind: 'error';
      readonly error: ErrorKind;
      readonly message?: string;
      /** Sent as the `retry-after` header (and Gemini's `RetryInfo.retryDelay`). */
      readonly retryAfterSeconds?: number;
      /** Overrides the provider's status for `error`. */
      readonly status?: number;
    })
  /** Never answers: the connection stays open until the client gives up or the server closes. */
  | (StepBase & { readonly kind: 'hang' });

/** A step computed from the request it answers (e.g. echo part of the prompt back). */
export type StepFn = (request: RecordedRequest) => Step;

type Options<S extends Step> = Omit<S, 'kind' | 'text' | 'value' | 'calls' | 'error'>;
type Of<K extends Step['kind']> = Extract<Step, { kind: K }>;

/**
 * Builders for {@link Step}s.
 * @example
 * server.enqueue('anthropic', step.writeFile(join(cwd, 'out.txt'), 'hi\n'), step.text('Wrote out.txt'));
 */
export const step = {
  text: (text: string, options: Options<Of<'text'>> = {}): Step => ({ kind: 'text', text, ...options }),
  json: (value: unknown, options: Options<Of<'json'>> = {}): Step => ({ kind: 'json', value, ...options }),
  /** Calls the CLI's own file-writing tool; `path` should be absolute (Claude's `Write` requires it). */
  writeFile: (path: string, content: string, options: Options<Of<'tool-calls'>> = {}): Step => ({
    kind: 'tool-calls',
    calls: [{ kind: 'write-file', path, content }],
    ...options,
  }),
  /** Calls the CLI's own shell tool; the command runs in the agent's cwd. */
  shell: (command: string, options: Options<Of<'tool-calls'>> = {}): Step => ({
    kind: 'tool-calls',
    calls: [{ kind: 'shell', command }],
    ...options,
  }),
  /** Calls a tool by its provider-specific name with provider-specific input. */
  tool: (name: string, input: unknown, options: Options<Of<'tool-calls'>> = {}): Step => ({
    kind: 'tool-calls',
    calls: [{ kind: 'raw', name, input }],
    ...options,
  }),
  /** Several tool calls in one reply (parallel tool use). */
  tools: (calls: readonly ToolCall[], options: Options<Of<'tool-calls'>> = {}): Step => ({
    kind: 'tool-calls',
    calls,
    ...options,
  }),
  error: (error: ErrorKind, options: Options<Of<'error'>> = {}): Step => ({ kind: 'error', error, ...options }),
  badRequest: (message?: string): Step => ({
    kind: 'error',
    error: 'bad-request',
    ...(message === undefined ? {} : { message }),
  }),
  unauthorized: (): Step => ({ kind: 'error', error: 'unauthorized' }),
  rateLimited: (retryAfterSeconds = 1, options: Options<Of<'error'>> = {}): Step => ({
    kind: 'error',
    error: 'rate-limited',
    retryAfterSeconds,
    ...options,
  }),
  /** Anthropic 529 `overloaded_error`, OpenAI 503 `server_is_overloaded`, Gemini 503 `UNAVAILABLE`. */
  overloaded: (options: Options<Of<'error'>> = {}): Step => ({ kind: 'error', error: 'overloaded', ...options }),
  hang: (): Step => ({ kind: 'hang' }),
} as const;

/** Usage reported when a step gives none. */
export const DEFAULT_USAGE: Usage = { input: 100, output: 10, cached: 0, reasoning: 0 };

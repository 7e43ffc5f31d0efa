/** The port each provider's wire format implements for {@link FakeLlmServer}. */
import type { RecordedRequest, ToolResult } from './recorded-request.js';
import type { ErrorKind, Provider, Step, Usage } from './steps.js';
import { DEFAULT_USAGE } from './steps.js';

/** What a provider reads out of a model call's body. */
export interface Inspection {
  readonly model: string | undefined;
  readonly stream: boolean;
  readonly userTexts: readonly string[];
  readonly toolResults: readonly ToolResult[];
  readonly offeredTools: readonly string[];
}

/** An HTTP answer: SSE events or a JSON body, already serialised. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly chunks: readonly string[];
}

/** Steps that produce a model reply. */
export type ContentStep = Extract<Step, { kind: 'text' | 'json' | 'tool-calls' }>;
/** Steps that produce an HTTP error. */
export type ErrorStep = Extract<Step, { kind: 'error' }>;

/** One provider's wire format, as the server needs it. */
export interface ProviderProtocol {
  readonly provider: Provider;
  /** True for the paths that are model calls (they consume script steps). */
  isModelCall(method: string, path: string): boolean;
  inspect(body: unknown, path: string, query: Readonly<Record<string, string>>): Inspection;
  /** Renders a content step; throws {@link ScriptProblem} when the step cannot be played here. */
  reply(step: ContentStep, request: RecordedRequest): Reply;
  error(step: ErrorStep): Reply;
}

/** A script that cannot be played against this request (e.g. the CLI did not offer the tool). */
export class ScriptProblem extends Error {
  override readonly name = 'ScriptProblem';
}

/** A step's usage with the defaults filled in. */
export function usageOf(step: { readonly usage?: Usage }): Required<Usage> {
  return { ...DEFAULT_USAGE, cached: 0, reasoning: 0, ...step.usage } as Required<Usage>;
}

/** One server-sent event; Gemini's have no `event:` line. */
export function sseEvent(event: string | undefined, data: unknown): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Headers of every streamed reply. */
export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } as const;

/** A non-streamed JSON answer (errors, `stream:false` calls, lookups). */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, chunks: [JSON.stringify(body)] };
}

/** Splits text in two so clients see more than one delta. */
export function splitInTwo(text: string): string[] {
  if (text.length < 2) return [text];
  const mid = Math.ceil(text.length / 2);
  return [text.slice(0, mid), text.slice(mid)];
}

/** The message an error step carries when it names none. */
export function defaultErrorMessage(kind: ErrorKind): string {
  switch (kind) {
    case 'bad-request':
      return 'fake-llm: scripted bad request';
    case 'unauthorized':
      return 'fake-llm: invalid API key';
    case 'rate-limited':
      return 'fake-llm: rate limit exceeded';
    case 'overloaded':
      return 'Overloaded';
    case 'server-error':
      return 'fake-llm: internal server error';
  }
}

/** `retry-after` when the step asks for one. */
export function retryHeaders(step: ErrorStep): Record<string, string> {
  return step.retryAfterSeconds === undefined ? {} : { 'retry-after': String(step.retryAfterSeconds) };
}

/** A `add file` patch in Codex's apply_patch grammar. */
export function addFilePatch(path: string, content: string): string {
  const lines = content.endsWith('\n') ? content.slice(0, -1).split('\n') : content.split('\n');
  return ['*** Begin Patch', `*** Add File: ${path}`, ...lines.map((l) => `+${l}`), '*** End Patch', ''].join('\n');
}

/** A plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `value` if it is an array, else `[]` (request bodies are untrusted JSON). */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * What Anthropic- and OpenAI-style bodies say alike: the model, whether to stream, and the names of
 * the offered tools (`tools[].name`, or `tools[].function.name` for Chat Completions).
 */
export function bodyBasics(b: Record<string, unknown>): Pick<Inspection, 'model' | 'stream' | 'offeredTools'> {
  return {
    model: typeof b['model'] === 'string' ? b['model'] : undefined,
    stream: b['stream'] === true,
    offeredTools: asArray(b['tools']).flatMap((t) => {
      const named = isRecord(t) && isRecord(t['function']) ? t['function'] : t;
      return isRecord(named) && typeof named['name'] === 'string' ? [named['name']] : [];
    }),
  };
}

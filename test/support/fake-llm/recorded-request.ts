import type { IncomingHttpHeaders } from 'node:http';
import type { Provider } from './steps.js';

/** A tool result the CLI sent back to the model, in a provider-neutral shape. */
export interface ToolResult {
  /** The call id the server generated for the call (Gemini sends none back for `functionCall`s without an id). */
  readonly callId?: string;
  /** Tool name when the wire format carries it (Gemini) or the call is in the same request (OpenAI). */
  readonly name?: string;
  /** The result text, flattened. */
  readonly output: string;
  /** Anthropic `is_error` / Gemini `response.error`. */
  readonly isError?: boolean;
}

/**
 * Where a request went:
 * - `turn`: a model call the script answered (or failed to: see `problem`);
 * - `lookup`: anything else on 127.0.0.1 (`HEAD /`, model lists, token counts), answered harmlessly;
 * - `off-host`: an attempt to reach another host through the proxy the test env points at this
 *   server; refused. A hermetic test expects none.
 */
export type RequestKind = 'turn' | 'lookup' | 'off-host';

/** One request as the server saw it, with the parts tests usually assert on pulled out. */
export interface RecordedRequest {
  /** 1-based arrival order across the whole server. */
  readonly seq: number;
  /** `Date.now()` when the request arrived (retry delays are the gaps between these). */
  readonly receivedAt: number;
  readonly kind: RequestKind;
  readonly provider: Provider | undefined;
  readonly method: string;
  /** Path without the query string; for `off-host`, the target (`host:443` or the absolute URL). */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, the raw text if it was not JSON, `undefined` if empty. */
  readonly body: unknown;
  readonly model: string | undefined;
  readonly stream: boolean;
  /** Every user-role text in the conversation, oldest first (includes the CLIs' own context blocks). */
  readonly userTexts: readonly string[];
  /** Tool results anywhere in the conversation, oldest first. */
  readonly toolResults: readonly ToolResult[];
  /** Names of the tools the CLI offered the model. */
  readonly offeredTools: readonly string[];
  /** The script that answered (`'<provider>'` for a provider's default queue). */
  script?: string;
  /** What was sent back: `text`, `json`, `tool-calls`, `error 429`, `hang`, `lookup`, … */
  reply?: string;
  /** Why the server could not play the script (no step left, tool not offered); sent as a 400. */
  problem?: string;
}

/** The last user text of a request: usually the prompt (or a CLI nudge) of the current turn. */
export function lastUserText(request: RecordedRequest): string | undefined {
  return request.userTexts.at(-1);
}

/** Flattens a tool-result payload (string, content blocks, nested objects) into text. */
export function flattenOutput(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flattenOutput).join('');
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o['text'] === 'string') return o['text'];
    if ('output' in o) return flattenOutput(o['output']);
    if ('content' in o) return flattenOutput(o['content']);
    return JSON.stringify(value);
  }
  return value === undefined ? '' : String(value);
}

import type { ProgressEvent, Usage } from '../../core/run/events.js';

/** Why an agent CLI run did not succeed, as far as its own output tells. */
export type AgentErrorKind =
  /** Bad or missing credentials (HTTP 401/403, "Not logged in"). */
  | 'auth'
  /** 429, quota, or a subscription's usage limit. */
  | 'rate-limit'
  /** 529/503/502, "overloaded", "at capacity". */
  | 'overloaded'
  /** The API could not be reached. */
  | 'network'
  /** The task's turn limit was hit. */
  | 'max-turns'
  /** `--resume <id>` found no such session (the executor then starts a new one). */
  | 'session-not-found'
  | 'other';

export interface AgentError {
  readonly kind: AgentErrorKind;
  readonly message: string;
  /** HTTP status of the failed API call, when the CLI says. */
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** What one CLI run's JSON events added up to once the process ended. */
export interface AgentReport {
  /** The CLI's own success signal (Claude `is_error:false`, Codex `turn.completed`, Gemini `status:"success"`). */
  readonly completed: boolean;
  /** Final assistant text (Claude `result`, Codex last `agent_message`, Gemini's last message). */
  readonly text: string;
  /** Structured output the CLI validated itself (Claude `structured_output`). */
  readonly output?: unknown;
  /** Usage of this run only. */
  readonly usage?: Usage;
  readonly sessionId?: string;
  readonly error?: AgentError;
  /** Things the user should know even on success, e.g. tools the agent was denied. */
  readonly notes?: readonly string[];
}

/** The line an exit ended with when no JSON told more. */
export interface ProcessEnd {
  readonly exitCode: number | null;
  readonly stderrTail: string;
}

/**
 * Turns one CLI's stdout events into weft progress and, once the process has ended, a report.
 * Pure: fed recorded lines in unit tests.
 */
export interface AgentEventParser {
  /** One JSON object from stdout; returns what to report live. */
  event(event: Record<string, unknown>): ProgressEvent[];
  /** A stdout line that was not JSON (some CLIs print notices there). */
  text?(line: string): ProgressEvent[];
  /** A stderr line (Gemini CLI announces its own retries there). */
  stderr?(line: string): ProgressEvent[];
  /**
   * Set when the run should end now, e.g. the CLI started a retry beyond weft's cap or passed the
   * turn limit: the executor stops the process and {@link finish} reports this error.
   */
  readonly stopRequest?: AgentError;
  finish(end: ProcessEnd): AgentReport;
}

const AUTH =
  /\b(401|403)\b|unauthori[sz]ed|unauthenticated|failed to authenticate|authentication|invalid (x-)?api.?key|api key not valid|not logged in|please run \/login|log ?in again/i;
const RATE =
  /\b429\b|rate.?limit|too many requests|quota|resource.?exhausted|usage limit|limit reached|hit your (usage )?limit/i;
const OVERLOAD = /\b(529|503|502)\b|overloaded|at capacity|service unavailable|\bunavailable\b|bad gateway/i;
const NETWORK =
  /unable to connect|connection (error|refused|failed|reset)|fetch failed|econnrefused|econnreset|enotfound|etimedout|socket hang up|network/i;

/** Sorts an API error into a kind from its HTTP status (when known) and message. */
export function classifyApiError(status: number | undefined, message: string): AgentErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status === 529 || status === 503 || status === 502) return 'overloaded';
  if (status !== undefined && status >= 400 && status < 500) return AUTH.test(message) ? 'auth' : 'other';
  if (RATE.test(message)) return 'rate-limit';
  if (OVERLOAD.test(message)) return 'overloaded';
  if (AUTH.test(message)) return 'auth';
  if (NETWORK.test(message)) return 'network';
  return 'other';
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  millisecond: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/**
 * The wait an error message asks for: "Suggested retry after 7s", "Please retry in 37.5s",
 * "try again in 2 hours 5 minutes", or Claude's subscription limit "…usage limit reached|<epoch>".
 */
export function retryAfterFromText(text: string, now: number = Date.now()): number | undefined {
  const epoch = /limit reached\|(\d{10})\b/i.exec(text);
  if (epoch !== null) {
    const ms = Number(epoch[1]) * 1000 - now;
    return ms > 0 ? ms : undefined;
  }
  const phrase = /(?:retry|try again)\s+(?:after|in)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(text);
  if (phrase === null) return undefined;
  let total = 0;
  for (const [, amount, unit] of (phrase[1] ?? '').matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
    const scale = UNIT_MS[(unit ?? '').toLowerCase().replace(/s$/, '')] ?? UNIT_MS[(unit ?? '').toLowerCase()];
    if (scale === undefined) return total > 0 ? Math.round(total) : undefined;
    total += Number(amount) * scale;
  }
  return total > 0 ? Math.round(total) : undefined;
}

/** An {@link AgentError} from a status and message, with the kind and any retry-after filled in. */
export function apiError(status: number | undefined, message: string, retryAfterMs?: number): AgentError {
  const kind = classifyApiError(status, message);
  const wait =
    retryAfterMs ?? (kind === 'rate-limit' || kind === 'overloaded' ? retryAfterFromText(message) : undefined);
  return {
    kind,
    message,
    ...(status === undefined ? {} : { status }),
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  };
}

/** Whether an error is the provider's (back off, don't count it against the task). */
export function isTransient(kind: AgentErrorKind): boolean {
  return kind === 'rate-limit' || kind === 'overloaded' || kind === 'network';
}

/** `text` cut to `max` characters on one line, for progress lines. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const SUMMARY_KEYS = [
  'command',
  'cmd',
  'file_path',
  'filePath',
  'path',
  'absolute_path',
  'pattern',
  'url',
  'query',
  'prompt',
  'description',
];

/** `Write /abs/hello.txt`, `Bash npm test`: a tool call's name and its most telling argument. */
export function summarizeTool(name: string, input: unknown): string {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const record = input as Record<string, unknown>;
    for (const key of SUMMARY_KEYS) {
      const value = record[key];
      if (typeof value === 'string' && value.trim() !== '') return `${name} ${oneLine(value, 100)}`;
      if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
        return `${name} ${oneLine(value.join(' '), 100)}`;
    }
    const json = JSON.stringify(input);
    return json === '{}' ? name : `${name} ${oneLine(json, 100)}`;
  }
  return input === undefined || input === null ? name : `${name} ${oneLine(String(input), 100)}`;
}

/** A plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `value` as a finite number, else undefined (event fields are untrusted JSON). */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `value` as a non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

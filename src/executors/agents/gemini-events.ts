import type { ProgressEvent, Usage } from '../../core/run/events.js';
import { priceUsage, type Price } from '../../core/run/pricing.js';
import {
  apiError,
  isRecord,
  num,
  oneLine,
  str,
  summarizeTool,
  type AgentError,
  type AgentEventParser,
  type AgentReport,
  type ProcessEnd,
} from './agent-report.js';

/**
 * Gemini CLI exits with the failed call's HTTP status & 0xFF (429 → 173) — and with codes of its
 * own: 41 authentication, 42 bad input (e.g. `--resume` of an unknown session), 53 turn limit,
 * 55 untrusted folder.
 */
const EXIT_STATUS: Readonly<Record<number, number>> = {
  144: 400,
  145: 401,
  147: 403,
  148: 404,
  173: 429,
  244: 500,
  246: 502,
  247: 503,
  17: 529,
};

/**
 * `gemini -o stream-json` events: `init{session_id, model}`, `message` (assistant text in deltas),
 * `tool_use{tool_name, parameters}`, `tool_result{status}`, then `result{status, stats, error?}`.
 * The final text is the assistant's last message (after its last tool call). Success is
 * `result.status === "success"`.
 */
export interface GeminiEventsOptions {
  /** The model asked for, until `init` names it. */
  readonly model?: string;
  readonly prices?: Readonly<Record<string, Price>>;
  /**
   * How many of its own retries the CLI may start before weft stops it and backs off itself.
   * Gemini CLI waits at least 5 s before each and up to 10 attempts, and its settings are the
   * user's, so the cap is applied here, on the "Retrying after" notices it prints to stderr.
   * @default 0
   */
  readonly maxRetries?: number;
  /** Stop after this many model turns (Gemini CLI has no flag for it). */
  readonly maxTurns?: number;
}

export class GeminiEvents implements AgentEventParser {
  private sessionId: string | undefined;
  private model: string | undefined;
  private segment = '';
  private lastText = '';
  private result: Record<string, unknown> | undefined;
  private readonly tools = new Map<string, string>();
  /** Recent stderr lines that belong to a retry notice ("Attempt 1 failed: …"). */
  private attemptText: string[] = [];
  private retries = 0;
  private turns = 0;
  /** Whether the model is mid-reply (a new turn starts at its first output after a tool result). */
  private inTurn = false;
  stopRequest: AgentError | undefined;

  constructor(private readonly options: GeminiEventsOptions = {}) {
    this.model = options.model;
  }

  private get prices(): Readonly<Record<string, Price>> | undefined {
    return this.options.prices;
  }

  /** Counts model turns; past `maxTurns`, asks to stop. */
  private turn(): void {
    if (this.inTurn) return;
    this.inTurn = true;
    this.turns += 1;
    const max = this.options.maxTurns;
    if (max !== undefined && this.turns > max && this.stopRequest === undefined)
      this.stopRequest = { kind: 'max-turns', message: `stopped after ${max} turns (maxTurns)` };
  }

  stderr(line: string): ProgressEvent[] {
    if (/^Attempt \d+ failed/.test(line)) this.attemptText = [line];
    else if (this.attemptText.length > 0 && this.attemptText.length < 20) this.attemptText.push(line);
    const retry = /Retrying (?:after (\d+)ms|with backoff)/.exec(line);
    if (retry === null) return [];
    const notice = this.attemptText.join('\n').replace(/\.? ?Retrying (after \d+ms|with backoff)\.*$/, '');
    this.attemptText = [];
    this.retries += 1;
    const wait = retry[1] === undefined ? undefined : Number(retry[1]);
    if (this.retries > (this.options.maxRetries ?? 0) && this.stopRequest === undefined) {
      const error = apiError(undefined, notice.replace(/^Attempt \d+ failed(?::| with)? ?/, ''), wait);
      // Gemini CLI retries only what it thinks is transient.
      this.stopRequest = error.kind === 'other' || error.kind === 'auth' ? { ...error, kind: 'overloaded' } : error;
    }
    return [
      {
        kind: 'status',
        message: oneLine(
          `gemini: ${notice}; it retries${wait === undefined ? '' : ` in ${(wait / 1000).toFixed(1)}s`}`,
          200,
        ),
      },
    ];
  }

  event(e: Record<string, unknown>): ProgressEvent[] {
    switch (e['type']) {
      case 'init': {
        this.sessionId = str(e['session_id']) ?? this.sessionId;
        this.model = str(e['model']) ?? this.model;
        return this.sessionId === undefined ? [] : [{ kind: 'session', sessionId: this.sessionId }];
      }
      case 'message':
        if (e['role'] === 'assistant' && typeof e['content'] === 'string') {
          this.turn();
          this.segment = e['delta'] === true ? this.segment + e['content'] : e['content'];
        }
        return [];
      case 'tool_use': {
        this.turn();
        const flushed = this.flush();
        const name = str(e['tool_name']) ?? 'tool';
        const id = str(e['tool_id']);
        if (id !== undefined) this.tools.set(id, name);
        return [...flushed, { kind: 'tool', message: summarizeTool(name, e['parameters']) }];
      }
      case 'tool_result': {
        this.inTurn = false;
        if (e['status'] !== 'error') return [];
        const name = this.tools.get(str(e['tool_id']) ?? '') ?? 'a tool';
        const error = isRecord(e['error']) ? str(e['error']['message']) : str(e['output']);
        return [{ kind: 'status', message: oneLine(`${name} failed${error === undefined ? '' : `: ${error}`}`, 200) }];
      }
      case 'error':
        return str(e['message']) === undefined ? [] : [{ kind: 'status', message: oneLine(String(e['message']), 200) }];
      case 'result': {
        this.result = e;
        const flushed = this.flush();
        const usage = this.usage();
        return usage === undefined ? flushed : [...flushed, { kind: 'usage', usage }];
      }
      default:
        return [];
    }
  }

  /** Ends the current assistant message: it is shown, and it is the final text unless another follows. */
  private flush(): ProgressEvent[] {
    const text = this.segment.trim();
    this.segment = '';
    if (text === '') return [];
    this.lastText = text;
    return [{ kind: 'text', message: text }];
  }

  /** `stats` of this run: `input_tokens` includes `cached`. */
  private usage(): Usage | undefined {
    const stats = isRecord(this.result?.['stats']) ? this.result['stats'] : undefined;
    if (stats === undefined) return undefined;
    const models = isRecord(stats['models']) ? Object.keys(stats['models']) : [];
    const model = models.length === 1 ? models[0] : this.model;
    const usage: Usage = {
      ...(model === undefined ? {} : { model }),
      inputTokens: num(stats['input_tokens']) ?? 0,
      outputTokens: num(stats['output_tokens']) ?? 0,
      cacheReadTokens: num(stats['cached']) ?? 0,
    };
    return (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) === 0 ? undefined : priceUsage(usage, this.prices);
  }

  finish(end: ProcessEnd): AgentReport {
    this.flush();
    const usage = this.usage();
    const base = {
      text: this.lastText,
      ...(this.sessionId === undefined ? {} : { sessionId: this.sessionId }),
      ...(usage === undefined ? {} : { usage }),
    };
    if (this.stopRequest !== undefined) return { ...base, completed: false, error: this.stopRequest };
    const r = this.result;
    if (r?.['status'] === 'success') return { ...base, completed: true };
    return { ...base, completed: false, error: this.error(r, end) };
  }

  private error(r: Record<string, unknown> | undefined, end: ProcessEnd): AgentError {
    const status = end.exitCode === null ? undefined : EXIT_STATUS[end.exitCode];
    const reported = isRecord(r?.['error']) ? str(r['error']['message']) : undefined;
    const stderr = end.stderrTail;
    if (reported !== undefined) return apiError(status, reported.replace(/^\[API Error: ([\s\S]*?)\]/, '$1'));
    if (end.exitCode === 42 && /resum/i.test(stderr)) return { kind: 'session-not-found', message: lastLine(stderr) };
    if (end.exitCode === 41) return { kind: 'auth', message: lastLine(stderr) || 'authentication failed' };
    if (end.exitCode === 53)
      return { kind: 'max-turns', message: `stopped at the turn limit (maxTurns): ${lastLine(stderr)}` };
    if (end.exitCode === 55) return { kind: 'other', message: `the folder is not trusted: ${lastLine(stderr)}` };
    const json = /\{"error":\{[\s\S]*\}\}/.exec(stderr)?.[0];
    if (json !== undefined) {
      try {
        const error = (JSON.parse(json) as { error: { message?: string; code?: number } }).error;
        return apiError(status ?? error.code, error.message ?? json);
      } catch {
        // Fall through to the plain text.
      }
    }
    return apiError(status, lastLine(stderr) || `gemini exited with code ${end.exitCode} without a result`);
  }
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at |^Warning: |^Ripgrep /.test(l));
  return oneLine(lines.at(-1) ?? '', 300);
}

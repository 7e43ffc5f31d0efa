import type { ProgressEvent, Usage } from '../../core/run/events.js';
import { priceUsage, type Price } from '../../core/run/pricing.js';
import {
  apiError,
  isRecord,
  num,
  oneLine,
  retryAfterFromText,
  str,
  summarizeTool,
  type AgentError,
  type AgentEventParser,
  type AgentReport,
  type ProcessEnd,
} from './agent-report.js';

/** `claude-opus-4-8[1m]` → `claude-opus-4-8` (the context-window suffix is not part of the id). */
function modelId(model: string | undefined): string | undefined {
  return model?.replace(/\[[^\]]*\]$/, '');
}

/** Anthropic usage → weft's: input counts cached and cache-written tokens too, as the API executor does. */
function anthropicUsage(u: Record<string, unknown>, model: string | undefined): Usage {
  const fresh = num(u['input_tokens']) ?? 0;
  const cacheRead = num(u['cache_read_input_tokens']) ?? 0;
  const cacheWrite = num(u['cache_creation_input_tokens']) ?? 0;
  return {
    ...(model === undefined ? {} : { model }),
    inputTokens: fresh + cacheRead + cacheWrite,
    outputTokens: num(u['output_tokens']) ?? 0,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}

/**
 * Claude Code's `--output-format stream-json --verbose` events: `system/init` (session id, model),
 * `system/api_retry` (the CLI's own retry, with the server's retry-after), `assistant` (text and
 * tool_use blocks, per-call usage), `user` (tool results), then one `result`.
 *
 * Success is `result.is_error === false`. Tools the agent was denied (`permission_denials`) do
 * not make it a failure — the agent may have finished another way, and checks judge the work —
 * but they are reported as notes (progress and the result text) so a missing `allowedTools` shows.
 */
export class ClaudeEvents implements AgentEventParser {
  private sessionId: string | undefined;
  private model: string | undefined;
  private result: Record<string, unknown> | undefined;
  private retryDelayMs: number | undefined;
  private assistantError: string | undefined;
  /** Usage per API message id (stream-json repeats a message once per content block). */
  private readonly calls = new Map<string, Record<string, unknown>>();
  private lastEmitted = '';

  constructor(private readonly prices?: Readonly<Record<string, Price>>) {}

  event(e: Record<string, unknown>): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    const session = str(e['session_id']);
    if (session !== undefined && session !== this.sessionId) {
      this.sessionId = session;
      out.push({ kind: 'session', sessionId: session });
    }
    switch (e['type']) {
      case 'system':
        if (e['subtype'] === 'init') this.model = modelId(str(e['model']));
        if (e['subtype'] === 'api_retry') {
          this.retryDelayMs = num(e['retry_delay_ms']);
          const status = num(e['error_status']);
          out.push({
            kind: 'status',
            message: `API error${status === undefined ? '' : ` ${status}`} (${str(e['error']) ?? 'unknown'}); claude retries in ${((this.retryDelayMs ?? 0) / 1000).toFixed(1)}s (${num(e['attempt']) ?? '?'}/${num(e['max_retries']) ?? '?'})`,
          });
        }
        break;
      case 'assistant': {
        const message = isRecord(e['message']) ? e['message'] : {};
        if (typeof e['error'] === 'string') this.assistantError = e['error'];
        // Synthetic messages carry the CLI's own error text, reported with the result instead.
        if (message['model'] === '<synthetic>') break;
        for (const block of Array.isArray(message['content']) ? message['content'] : []) {
          if (!isRecord(block)) continue;
          if (block['type'] === 'text' && typeof block['text'] === 'string' && block['text'].trim() !== '')
            out.push({ kind: 'text', message: block['text'] });
          if (block['type'] === 'tool_use' && typeof block['name'] === 'string' && block['name'] !== 'StructuredOutput')
            out.push({ kind: 'tool', message: summarizeTool(block['name'], block['input']) });
        }
        const id = str(message['id']);
        if (id !== undefined && isRecord(message['usage'])) {
          this.calls.set(id, message['usage']);
          this.model ??= modelId(str(message['model']));
          const usage = this.liveUsage();
          const key = JSON.stringify(usage);
          if (key !== this.lastEmitted) {
            this.lastEmitted = key;
            out.push({ kind: 'usage', usage });
          }
        }
        break;
      }
      case 'result':
        this.result = e;
        break;
    }
    return out;
  }

  /** Running total of this run so far (output counts arrive only with the result). */
  private liveUsage(): Usage {
    let total: Usage = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    for (const u of this.calls.values()) {
      const call = anthropicUsage(u, undefined);
      total = {
        inputTokens: (total.inputTokens ?? 0) + (call.inputTokens ?? 0),
        outputTokens: (total.outputTokens ?? 0) + (call.outputTokens ?? 0),
        cacheReadTokens: (total.cacheReadTokens ?? 0) + (call.cacheReadTokens ?? 0),
        cacheWriteTokens: (total.cacheWriteTokens ?? 0) + (call.cacheWriteTokens ?? 0),
      };
    }
    return priceUsage(this.model === undefined ? total : { model: this.model, ...total }, this.prices);
  }

  finish(end: ProcessEnd): AgentReport {
    const r = this.result;
    const session = str(r?.['session_id']) ?? this.sessionId;
    const base = { ...(session === undefined ? {} : { sessionId: session }) };
    if (r === undefined) {
      const why =
        end.stderrTail === ''
          ? `claude exited with code ${end.exitCode} without a result`
          : oneLine(end.stderrTail.split('\n').at(-1) ?? '', 300);
      return {
        ...base,
        completed: false,
        text: '',
        error: { kind: /no conversation found/i.test(end.stderrTail) ? 'session-not-found' : 'other', message: why },
      };
    }
    const model = modelId(isRecord(r['modelUsage']) ? Object.keys(r['modelUsage'])[0] : undefined) ?? this.model;
    const cost = num(r['total_cost_usd']);
    const usage = isRecord(r['usage'])
      ? priceUsage(
          { ...anthropicUsage(r['usage'], model), ...(cost === undefined ? {} : { costUsd: cost }) },
          this.prices,
        )
      : undefined;
    const text = typeof r['result'] === 'string' ? r['result'] : '';
    const withUsage = { ...base, ...(usage === undefined ? {} : { usage }) };
    if (r['is_error'] === false) {
      const notes = denials(r['permission_denials']);
      return {
        ...withUsage,
        completed: true,
        text,
        ...(r['structured_output'] === undefined ? {} : { output: r['structured_output'] }),
        ...(notes.length === 0 ? {} : { notes }),
      };
    }
    return { ...withUsage, completed: false, text, error: this.error(r, text) };
  }

  private error(r: Record<string, unknown>, text: string): AgentError {
    const errors = (Array.isArray(r['errors']) ? r['errors'] : []).filter((x): x is string => typeof x === 'string');
    const message = text || errors.join('; ') || String(r['subtype'] ?? 'error');
    if (errors.some((x) => /no conversation found/i.test(x))) return { kind: 'session-not-found', message };
    if (r['subtype'] === 'error_max_turns')
      return { kind: 'max-turns', message: `stopped after ${num(r['num_turns']) ?? '?'} turns (maxTurns): ${message}` };
    const status = num(r['api_error_status']);
    const hinted =
      this.assistantError === 'rate_limit'
        ? 429
        : this.assistantError === 'authentication_failed'
          ? 401
          : this.assistantError === 'overloaded'
            ? 529
            : undefined;
    const error = apiError(status ?? hinted, message);
    // The CLI waited the server's retry-after once already; weft waits it again rather than guess.
    const wait =
      retryAfterFromText(message) ??
      (error.kind === 'rate-limit' || error.kind === 'overloaded' ? this.retryDelayMs : undefined);
    return { ...error, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
  }
}

function denials(value: unknown): string[] {
  const list = Array.isArray(value) ? value.filter(isRecord) : [];
  return list.map(
    (d) =>
      `claude was denied ${summarizeTool(str(d['tool_name']) ?? 'a tool', d['tool_input'])} (allow it with allowedTools or permissionMode)`,
  );
}

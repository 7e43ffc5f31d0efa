import type { ProgressEvent, Usage } from '../../core/run/events.js';
import { priceUsage, type Price } from '../../core/run/pricing.js';
import {
  apiError,
  isRecord,
  num,
  oneLine,
  str,
  summarizeTool,
  type AgentEventParser,
  type AgentReport,
  type ProcessEnd,
} from './agent-report.js';

/** The token counters of `turn.completed.usage`, as Codex reports them. */
export interface CodexTotals {
  readonly input: number;
  readonly cached: number;
  readonly cacheWrite: number;
  readonly output: number;
}

export interface CodexEventsOptions {
  /** The model, for pricing (Codex's JSONL does not name it). */
  readonly model?: string;
  readonly prices?: Readonly<Record<string, Price>>;
  /**
   * The thread's totals after the previous run, when this run resumes it: `exec resume` reports
   * the thread's running total, so this run's own usage is the difference.
   */
  readonly previous?: CodexTotals;
}

/** `/bin/bash -lc 'npm test'` → `npm test`. */
function unwrapShell(command: string): string {
  const m = /^\S*\/?(?:ba|z)?sh -l?c '([\s\S]*)'$/.exec(command);
  return m?.[1] ?? command;
}

/**
 * `codex exec --json` events: `thread.started{thread_id}`, `turn.started`, `item.started` /
 * `item.completed{item}` (`agent_message`, `command_execution`, `file_change`, `mcp_tool_call`,
 * `web_search`, `reasoning`, `error`), then `turn.completed{usage}` or `turn.failed{error}`.
 *
 * Success is a `turn.completed` and no `turn.failed`. Top-level `error` events are not fatal
 * (Codex prints "Reconnecting... n/m" there while it retries) and are shown as status.
 */
export class CodexEvents implements AgentEventParser {
  private threadId: string | undefined;
  private lastMessage = '';
  private completed = false;
  private failed: string | undefined;
  private lastError: string | undefined;
  private usage: Usage | undefined;
  /** The thread's totals as of this run's end (to store for the next resume). */
  totals: CodexTotals | undefined;
  private readonly shown = new Set<string>();

  constructor(private readonly options: CodexEventsOptions = {}) {}

  event(e: Record<string, unknown>): ProgressEvent[] {
    switch (e['type']) {
      case 'thread.started': {
        this.threadId = str(e['thread_id']) ?? this.threadId;
        return this.threadId === undefined ? [] : [{ kind: 'session', sessionId: this.threadId }];
      }
      case 'item.started':
      case 'item.updated':
        return isRecord(e['item']) ? this.tool(e['item']) : [];
      case 'item.completed':
        return isRecord(e['item']) ? this.completedItem(e['item']) : [];
      case 'turn.completed': {
        this.completed = true;
        if (!isRecord(e['usage'])) return [];
        this.usage = this.ownUsage(e['usage']);
        return [{ kind: 'usage', usage: this.usage }];
      }
      case 'turn.failed': {
        const error = isRecord(e['error']) ? e['error'] : {};
        this.failed = str(error['message']) ?? 'turn failed';
        return [];
      }
      case 'error': {
        const message = str(e['message']);
        if (message === undefined) return [];
        this.lastError = message;
        return [{ kind: 'status', message: oneLine(message, 200) }];
      }
      default:
        return [];
    }
  }

  private tool(item: Record<string, unknown>): ProgressEvent[] {
    const id = str(item['id']);
    if (id !== undefined && this.shown.has(id)) return [];
    let message: string | undefined;
    switch (item['type']) {
      case 'command_execution':
        message = summarizeTool('shell', unwrapShell(str(item['command']) ?? ''));
        break;
      case 'file_change': {
        const changes = (Array.isArray(item['changes']) ? item['changes'] : []).filter(isRecord);
        message = summarizeTool(
          'edit',
          changes.map((c) => `${str(c['path']) ?? '?'} (${str(c['kind']) ?? 'update'})`).join(', '),
        );
        break;
      }
      case 'mcp_tool_call':
        message = summarizeTool(`${str(item['server']) ?? 'mcp'}.${str(item['tool']) ?? 'tool'}`, item['arguments']);
        break;
      case 'web_search':
        message = summarizeTool('web_search', str(item['query']));
        break;
    }
    if (message === undefined) return [];
    if (id !== undefined) this.shown.add(id);
    return [{ kind: 'tool', message }];
  }

  private completedItem(item: Record<string, unknown>): ProgressEvent[] {
    if (item['type'] === 'agent_message') {
      this.lastMessage = str(item['text']) ?? '';
      return this.lastMessage === '' ? [] : [{ kind: 'text', message: this.lastMessage }];
    }
    if (item['type'] === 'error') {
      const message = str(item['message']);
      return message === undefined ? [] : [{ kind: 'status', message: oneLine(message, 200) }];
    }
    return this.tool(item);
  }

  private ownUsage(u: Record<string, unknown>): Usage {
    const now: CodexTotals = {
      input: num(u['input_tokens']) ?? 0,
      cached: num(u['cached_input_tokens']) ?? 0,
      cacheWrite: num(u['cache_write_input_tokens']) ?? 0,
      output: num(u['output_tokens']) ?? 0,
    };
    this.totals = now;
    const before = this.options.previous;
    // Only subtract totals that can be the same thread's earlier state.
    const own =
      before !== undefined && before.input <= now.input && before.output <= now.output
        ? {
            input: now.input - before.input,
            cached: Math.max(0, now.cached - before.cached),
            cacheWrite: Math.max(0, now.cacheWrite - before.cacheWrite),
            output: now.output - before.output,
          }
        : now;
    const model = this.options.model;
    return priceUsage(
      {
        ...(model === undefined ? {} : { model }),
        inputTokens: own.input,
        outputTokens: own.output,
        cacheReadTokens: own.cached,
        cacheWriteTokens: own.cacheWrite,
      },
      this.options.prices,
    );
  }

  finish(end: ProcessEnd): AgentReport {
    const base = {
      ...(this.threadId === undefined ? {} : { sessionId: this.threadId }),
      ...(this.usage === undefined ? {} : { usage: this.usage }),
      text: this.lastMessage,
    };
    if (this.completed && this.failed === undefined) return { ...base, completed: true };
    if (this.failed !== undefined) return { ...base, completed: false, error: apiError(undefined, this.failed) };
    const stderr = end.stderrTail.replace(/^Reading (additional input|prompt) from stdin\.\.\.\s*/m, '').trim();
    if (/no rollout found|thread\/resume failed/i.test(stderr))
      return { ...base, completed: false, error: { kind: 'session-not-found', message: oneLine(stderr, 300) } };
    const why =
      stderr !== ''
        ? oneLine(stderr.split('\n').at(-1) ?? '', 300)
        : (this.lastError ?? `codex exited with code ${end.exitCode} without completing the turn`);
    return { ...base, completed: false, error: apiError(undefined, why) };
  }
}

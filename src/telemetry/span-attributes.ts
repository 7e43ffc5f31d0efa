import type { Attributes } from '@opentelemetry/api';
import type { TaskResultData, Usage } from '../core/run/events.js';
import type { TaskFailure } from '../core/errors.js';

/** Tokens and cost, under the OpenTelemetry GenAI names where there is one. */
export function usageAttributes(usage: Usage | undefined): Attributes {
  if (usage === undefined) return {};
  const a: Attributes = {};
  if (usage.model !== undefined) a['gen_ai.response.model'] = usage.model;
  if (usage.inputTokens !== undefined) a['gen_ai.usage.input_tokens'] = usage.inputTokens;
  if (usage.outputTokens !== undefined) a['gen_ai.usage.output_tokens'] = usage.outputTokens;
  if (usage.cacheReadTokens !== undefined) a['weft.usage.cache_read_tokens'] = usage.cacheReadTokens;
  if (usage.cacheWriteTokens !== undefined) a['weft.usage.cache_write_tokens'] = usage.cacheWriteTokens;
  if (usage.costUsd !== undefined) a['weft.cost.usd'] = usage.costUsd;
  return a;
}

/** What a successful attempt returned: usage, exit code, cached, where it ran. */
export function resultAttributes(result: TaskResultData): Attributes {
  const a: Attributes = { ...usageAttributes(result.usage) };
  if (typeof result.exitCode === 'number') a['process.exit.code'] = result.exitCode;
  if (result.cached === true) a['weft.cached'] = true;
  if (result.where !== undefined) a['weft.where'] = result.where;
  return a;
}

/** The outcome of an attempt sent back to its task to fix (a conflict, a failed check…), as spans say it. */
export const SENT_BACK = 'sent back to fix';

/** The outcome of a check's attempt whose failure went to the tasks that broke it: it waits for their fixes. */
export const WAITS_FOR_FIX = 'waits for the fix';

/** What failed: the code, exit, signal, timeout, and why it is retried or sent back. No stderr. */
export function failureAttributes(error: TaskFailure, outcome: string, text: (s: string) => string): Attributes {
  const a: Attributes = { 'error.type': error.code ?? (error.exitCode !== undefined ? 'exit' : 'error') };
  if (typeof error.exitCode === 'number') a['process.exit.code'] = error.exitCode;
  if (typeof error.signal === 'string') a['weft.signal'] = error.signal;
  if (error.timedOut === true) a['weft.timed_out'] = true;
  if (error.transient === true) a['weft.transient'] = true;
  const reason = outcome === 'retrying' ? 'retry' : outcome === SENT_BACK ? 'fix' : 'failure';
  a[`weft.${reason}.reason`] = text(error.message);
  return a;
}

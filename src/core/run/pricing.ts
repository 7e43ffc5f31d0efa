import type { Usage } from './events.js';

/** USD per million tokens. */
export interface Price {
  readonly input: number;
  readonly output: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
}

/**
 * List prices used where a CLI or API reports tokens but no cost (Codex, Gemini, raw APIs).
 * Keys match a model id by prefix; the longest matching prefix wins. Override per project in
 * config (`pricing:`). Prices change: treat these as defaults, not facts.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  'claude-opus-4': { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },
  // Opus 4.5 and later cost a third of Opus 4 / 4.1.
  'claude-opus-4-5': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-6': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-7': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-8': { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 },
  'claude-sonnet-4': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4': { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 },
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cacheRead: 0.025 },
  'gpt-4.1': { input: 2, output: 8, cacheRead: 0.5 },
  'gpt-4o': { input: 2.5, output: 10, cacheRead: 1.25 },
  'o4-mini': { input: 1.1, output: 4.4, cacheRead: 0.275 },
  'gemini-2.5-pro': { input: 1.25, output: 10, cacheRead: 0.31 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheRead: 0.075 },
};

/** The price of `model`: the entry of `table` with the longest name `model` starts with, if any. */
export function priceFor(
  model: string | undefined,
  table: Readonly<Record<string, Price>> = DEFAULT_PRICES,
): Price | undefined {
  if (model === undefined) return undefined;
  let best: string | undefined;
  for (const key of Object.keys(table))
    if (model.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
  return best === undefined ? undefined : table[best];
}

/** Adds `costUsd` from the table when the usage has tokens but no cost; keeps a reported cost. */
export function priceUsage(usage: Usage, table?: Readonly<Record<string, Price>>): Usage {
  if (usage.costUsd !== undefined) return usage;
  const price = priceFor(usage.model, table);
  if (price === undefined) return usage;
  const fresh = Math.max(0, (usage.inputTokens ?? 0) - (usage.cacheReadTokens ?? 0));
  const cost =
    (fresh * price.input +
      (usage.outputTokens ?? 0) * price.output +
      (usage.cacheReadTokens ?? 0) * (price.cacheRead ?? price.input) +
      (usage.cacheWriteTokens ?? 0) * (price.cacheWrite ?? price.input)) /
    1e6;
  return { ...usage, costUsd: Math.round(cost * 1e6) / 1e6 };
}

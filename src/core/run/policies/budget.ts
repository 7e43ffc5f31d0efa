import type { BudgetSpec } from '../../plan/plan-schema.js';
import type { Usage } from '../events.js';

/** What a run has spent so far. */
export interface Spent {
  readonly usd: number;
  readonly tokens: number;
}

/** Nothing spent yet. */
export const NOTHING_SPENT: Spent = { usd: 0, tokens: 0 };

/** Tokens a usage counts: input plus output. */
export const tokensOf = (usage: Usage): number => (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);

/** `spent` plus an ended attempt's usage. */
export function spend(spent: Spent, usage: Usage): Spent {
  return { usd: spent.usd + (usage.costUsd ?? 0), tokens: spent.tokens + tokensOf(usage) };
}

/**
 * Whether the run's budget is spent: the reason to stop (running tasks finish; what has not
 * started is cancelled with it), or `undefined` while there is budget left. Reaching it counts.
 */
export function runBudgetSpent(budget: BudgetSpec, spent: Spent): string | undefined {
  if (budget.usd !== undefined && spent.usd >= budget.usd) {
    return `budget exceeded: spent $${spent.usd.toFixed(4)} of $${budget.usd}`;
  }
  if (budget.tokens !== undefined && spent.tokens >= budget.tokens) {
    return `budget exceeded: spent ${spent.tokens} of ${budget.tokens} tokens`;
  }
  return undefined;
}

/**
 * A budget in dollars cannot be kept on a usage with tokens and no price (a model the price table
 * and `pricing:` do not list): the reason to stop, as if it were spent — else it would count $0
 * and never stop anything.
 */
export function unpricedUsage(budget: BudgetSpec | undefined, usage: Usage): string | undefined {
  if (budget?.usd === undefined || usage.costUsd !== undefined || tokensOf(usage) === 0) return undefined;
  const model = usage.model === undefined ? 'its model' : `model "${usage.model}"`;
  return `budget of $${budget.usd} cannot be kept: ${model} has no price (add it under pricing: in weft.config.yaml)`;
}

/**
 * Whether a running task's usage passed its own budget: the reason to stop it (it is not
 * retried), or `undefined`. Only passing it counts.
 */
export function taskBudgetExceeded(budget: BudgetSpec | undefined, usage: Usage): string | undefined {
  if (budget === undefined) return undefined;
  const unpriced = unpricedUsage(budget, usage);
  if (unpriced !== undefined) return `task ${unpriced}`;
  const tokens = tokensOf(usage);
  const usd = usage.costUsd ?? 0;
  if (budget.usd !== undefined && usd > budget.usd) return `task budget exceeded: $${usage.costUsd} > $${budget.usd}`;
  if (budget.tokens !== undefined && tokens > budget.tokens) {
    return `task budget exceeded: ${tokens} > ${budget.tokens} tokens`;
  }
  return undefined;
}

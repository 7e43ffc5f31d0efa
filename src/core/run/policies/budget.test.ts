import { describe, expect, it } from 'vitest';
import { NOTHING_SPENT, runBudgetSpent, spend, taskBudgetExceeded, unpricedUsage } from './budget.js';

describe('budget policy', () => {
  it('adds up what attempts spent and stops the run once the budget is reached', () => {
    const once = spend(NOTHING_SPENT, { costUsd: 0.25, inputTokens: 100, outputTokens: 20 });
    expect(once).toEqual({ usd: 0.25, tokens: 120 });
    expect(runBudgetSpent({ usd: 0.5 }, once)).toBeUndefined();
    const twice = spend(once, { costUsd: 0.25 });
    expect(runBudgetSpent({ usd: 0.5 }, twice)).toBe('budget exceeded: spent $0.5000 of $0.5');
    expect(runBudgetSpent({ tokens: 120 }, twice)).toBe('budget exceeded: spent 120 of 120 tokens');
    expect(runBudgetSpent({ tokens: 121 }, twice)).toBeUndefined();
  });

  it('stops a task only once it passes its own budget', () => {
    expect(taskBudgetExceeded(undefined, { inputTokens: 1e9 })).toBeUndefined();
    expect(taskBudgetExceeded({ tokens: 5000 }, { inputTokens: 5000 })).toBeUndefined();
    expect(taskBudgetExceeded({ tokens: 5000 }, { inputTokens: 5000, outputTokens: 10 })).toBe(
      'task budget exceeded: 5010 > 5000 tokens',
    );
    expect(taskBudgetExceeded({ usd: 1 }, { costUsd: 1.5 })).toBe('task budget exceeded: $1.5 > $1');
  });

  it('a budget in dollars stops at tokens it cannot price, instead of counting them as $0', () => {
    const unpriced = { model: 'llama3.1', inputTokens: 900_000, outputTokens: 900_000 };
    const reason =
      'budget of $1 cannot be kept: model "llama3.1" has no price (add it under pricing: in weft.config.yaml)';
    expect(unpricedUsage({ usd: 1 }, unpriced)).toBe(reason);
    expect(taskBudgetExceeded({ usd: 1 }, unpriced)).toBe(`task ${reason}`);
    // Priced, no tokens yet, or a budget in tokens only: nothing to say.
    expect(unpricedUsage({ usd: 1 }, { ...unpriced, costUsd: 0 })).toBeUndefined();
    expect(unpricedUsage({ usd: 1 }, { model: 'llama3.1' })).toBeUndefined();
    expect(unpricedUsage({ tokens: 1e9 }, unpriced)).toBeUndefined();
    expect(taskBudgetExceeded({ tokens: 1e9 }, unpriced)).toBeUndefined();
  });
});

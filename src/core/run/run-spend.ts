import type { BudgetSpec } from '../plan/plan-schema.js';
import type { RunEvent } from './events.js';
import type { RunState } from './run-state.js';
import { NOTHING_SPENT, runBudgetSpent, spend, unpricedUsage, type Spent } from './policies/budget.js';

/** Applies the budget policy to a run: counts what each ended attempt spent, and stops the run once it is spent. */
export class RunSpend {
  private spent: Spent = NOTHING_SPENT;
  /** Whether the budget ran out (and the run was stopped for it). */
  exhausted = false;

  constructor(
    private readonly budget: BudgetSpec | undefined,
    private readonly state: RunState,
    /** Stops the run with the reason: running tasks finish; what has not started is cancelled. */
    private readonly stop: (reason: string) => void,
  ) {}

  /** Sees every recorded event; an attempt's end adds its usage. Without a budget, spending decides nothing. */
  recorded(event: RunEvent): void {
    if (this.budget === undefined) return;
    if (event.type !== 'task.succeeded' && event.type !== 'task.failed' && event.type !== 'task.retrying') return;
    const usage = this.state.tasks.get(event.task)?.attempts.find((a) => a.attempt === event.attempt)?.usage;
    if (usage === undefined) return;
    this.spent = spend(this.spent, usage);
    const over = unpricedUsage(this.budget, usage) ?? runBudgetSpent(this.budget, this.spent);
    if (over === undefined) return;
    this.exhausted = true;
    this.stop(over);
  }
}

import type { RunState } from './run-state.js';

/** A contract as the summary needs it (a `contracts:` item of the plan, as written). */
export interface ContractRef {
  readonly name: string;
  readonly provider: string;
  readonly consumers: readonly string[];
}

/** What became of one contract in a run. */
export interface ContractVerdict {
  readonly name: string;
  readonly provider: string;
  readonly consumers: readonly string[];
  /**
   * `verified`: the provider's output satisfied it; `broken`: the provider failed with output that
   * does not, its fixes used up; `unchecked`: the provider never produced output to check (it
   * failed otherwise, was skipped, or has not run yet).
   */
  readonly verdict: 'verified' | 'broken' | 'unchecked';
  /** Attempts of the provider whose output broke the contract (each sent back as a fix, or the last). */
  readonly brokenAttempts: number;
  /** The last mismatch found, e.g. `contract "api" broken: endpoints[0].method: …`. */
  readonly problem?: string;
}

/**
 * Each contract's verdict, read from the journal's state: the provider's result lists the
 * contracts it was verified against, and each attempt sent back for a mismatch carries the
 * `WEFT_CONTRACT_BROKEN` failure naming the contract.
 *
 * @example
 * contractVerdicts(state, [{ name: 'api', provider: 'design', consumers: ['web'] }]);
 * // → [{ name: 'api', …, verdict: 'verified', brokenAttempts: 1, problem: 'contract "api" broken: …' }]
 */
export function contractVerdicts(state: RunState, contracts: readonly ContractRef[]): ContractVerdict[] {
  return contracts.map((c) => {
    const r = state.tasks.get(c.provider);
    const prefix = `contract "${c.name}" broken`;
    const broken = (r?.attempts ?? []).filter(
      (a) => a.error?.code === 'WEFT_CONTRACT_BROKEN' && a.error.message.startsWith(prefix),
    );
    const last = r?.attempts.at(-1);
    const verdict =
      r?.state === 'succeeded' && r.result?.contracts?.includes(c.name) === true
        ? 'verified'
        : r?.state === 'failed' && last !== undefined && broken.includes(last)
          ? 'broken'
          : 'unchecked';
    const problem = broken.at(-1)?.error?.message;
    return {
      name: c.name,
      provider: c.provider,
      consumers: c.consumers,
      verdict,
      brokenAttempts: broken.length,
      ...(problem === undefined ? {} : { problem }),
    };
  });
}

/** The `contracts` of a plan as written (a run folder's `plan.json` holds it under `plan`), leniently. */
export function contractRefsOf(plan: unknown): ContractRef[] {
  const list = (plan as { contracts?: unknown } | null | undefined)?.contracts;
  if (!Array.isArray(list)) return [];
  return list.flatMap((c: unknown) => {
    const o = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
    if (typeof o.name !== 'string' || typeof o.provider !== 'string') return [];
    const consumers = Array.isArray(o.consumers) ? o.consumers.filter((x): x is string => typeof x === 'string') : [];
    return [{ name: o.name, provider: o.provider, consumers }];
  });
}

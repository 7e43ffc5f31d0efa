import type { TaskFailure } from '../errors.js';
import { checkJson, parseJsonAnswer } from '../json-schema.js';
import type { TaskContract } from '../plan/contracts.js';
import type { ResolvedTask } from '../plan/graph.js';
import type { TaskResultData } from './events.js';

/** A provider's result checked against its contracts: kept (with what was verified), or sent back. */
export type ContractVerdict =
  { readonly ok: true; readonly result: TaskResultData } | { readonly ok: false; readonly failure: TaskFailure };

/** The contracts task provides (not those it consumes). */
export function providedContracts(task: ResolvedTask): readonly TaskContract[] {
  return task.contracts?.filter((c) => c.role === 'provider') ?? [];
}

/**
 * Checks a provider's successful result against each contract it provides, before its work is
 * merged and its consumers start. The value checked is its structured output (`WEFT_OUTPUT` or
 * stdout JSON for a script, the answer to `outputSchema`), else the JSON in its final text (an
 * agent's or LLM's answer). A match is kept — the value becomes the result's `output` when it had
 * none, so consumers get it as structured input, and `contracts` lists what was verified. A
 * mismatch fails the attempt with `WEFT_CONTRACT_BROKEN` and a `fix` — feedback naming the
 * contract, the path and the problem — which the attempt-ended policy routes back to the provider.
 * `undefined` when the task provides no contract.
 *
 * @example
 * verifyContracts(task, { exitCode: 0, output: { endpoints: [] } });
 * // → { ok: false, failure: { message: 'contract "api" broken: endpoints: must NOT have fewer than 1 items', code: 'WEFT_CONTRACT_BROKEN', fix: … } }
 */
export function verifyContracts(task: ResolvedTask, result: TaskResultData): ContractVerdict | undefined {
  const provided = providedContracts(task);
  if (provided.length === 0) return undefined;
  let value = result.output;
  if (value === undefined && result.text !== undefined) {
    const parsed = parseJsonAnswer(result.text);
    if (parsed.ok) value = parsed.value;
  }
  for (const contract of provided) {
    if (value === undefined) return broken(contract, '(root)', 'no JSON output was found');
    const checked = checkJson(contract.schema, value);
    if (!checked.ok) return broken(contract, checked.path, checked.problem);
  }
  const names = provided.map((c) => c.name);
  return {
    ok: true,
    result: { ...result, ...(result.output === undefined ? { output: value } : {}), contracts: names },
  };
}

function broken(contract: TaskContract, path: string, problem: string): ContractVerdict {
  const where = path === '(root)' ? '' : `${path}: `;
  const feedback = [
    `Your output breaks the contract "${contract.name}", which you provide to ${list(contract.consumers)}: ${where}${problem}.`,
    'Fix your work so that your output satisfies the contract, then end with the JSON value itself' +
      ' (an agent: as its final answer; a script: written to the file WEFT_OUTPUT names, or printed as the last line).',
    `The contract's JSON Schema:`,
    JSON.stringify(contract.schema),
  ].join('\n');
  return {
    ok: false,
    failure: {
      message: `contract "${contract.name}" broken: ${where}${problem}`,
      code: 'WEFT_CONTRACT_BROKEN',
      fix: feedback,
    },
  };
}

function list(ids: readonly string[]): string {
  return ids.length <= 1 ? (ids[0] ?? '') : `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`;
}

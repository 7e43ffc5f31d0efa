import { jsonSchemaProblem } from '../json-schema.js';
import { closest } from '../suggest.js';
import type { RawIssue } from './compile.js';
import type { ContractSpec, PlanSpec } from './plan-schema.js';

/** A contract as one of its tasks sees it: which side it is on, and the schema both sides share. */
export interface TaskContract {
  readonly name: string;
  /** `provider`: its output must satisfy the schema; `consumer`: it builds against it. */
  readonly role: 'provider' | 'consumer';
  readonly description?: string;
  /** The JSON Schema (from `schema:`, or the file `schemaFile:` names, read when the plan was loaded). */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly provider: string;
  readonly consumers: readonly string[];
}

/**
 * Everything wrong with a plan's `contracts:`, one issue each: a duplicate or missing name, no
 * schema (or both), a schema weft cannot check, an unknown provider or consumer (with "did you
 * mean"), a task on both sides, a check as provider, and a provider that itself waits for one of
 * its consumers (the consumer waits for the provider, so that would be a cycle).
 */
export function contractIssues(spec: PlanSpec, ids: ReadonlyMap<string, number>): RawIssue[] {
  const contracts = spec.contracts ?? [];
  const issues: RawIssue[] = [];
  const names = new Map<string, number>();
  contracts.forEach((c, k) => {
    const at = (field: string, ...rest: (string | number)[]): Pick<RawIssue, 'path' | 'field'> => ({
      path: ['contracts', k, field, ...rest],
      field: `contracts[${k}].${field}${rest.map((r) => (typeof r === 'number' ? `[${r}]` : `.${r}`)).join('')}`,
    });
    const first = names.get(c.name);
    if (first !== undefined)
      issues.push({
        ...at('name'),
        message: `duplicate contract name "${c.name}" (first used by contracts[${first}])`,
        fix: 'give each contract a unique name',
      });
    else names.set(c.name, k);
    issues.push(...schemaIssues(c, at));
    const task = (id: string, where: Pick<RawIssue, 'path' | 'field'>): boolean => {
      if (ids.has(id)) return true;
      const hint = closest(id, ids.keys());
      issues.push({
        ...where,
        message: `unknown task "${id}"`,
        fix: hint === undefined ? 'use the id of a task in this plan' : `did you mean "${hint}"?`,
      });
      return false;
    };
    const providerKnown = task(c.provider, at('provider'));
    const provider = providerKnown ? spec.tasks[ids.get(c.provider) as number] : undefined;
    if ((provider?.verifies ?? []).length > 0)
      issues.push({
        ...at('provider'),
        message: `"${c.provider}" is a check (it has verifies); a check's output is its verdict, not work to build on`,
        fix: 'name the task whose output the contract describes',
      });
    if (provider?.gate !== undefined)
      issues.push({
        ...at('provider'),
        message: `"${c.provider}" is a gate: it runs nothing and outputs nothing to check`,
        fix: 'name the task whose output the contract describes',
      });
    const seen = new Set<string>();
    c.consumers.forEach((id, j) => {
      if (!task(id, at('consumers', j))) return;
      if (id === c.provider)
        issues.push({
          ...at('consumers', j),
          message: `"${id}" is the contract's provider; it cannot consume its own contract`,
          fix: `remove "${id}" from consumers`,
        });
      else if (seen.has(id))
        issues.push({ ...at('consumers', j), message: `"${id}" is listed twice`, fix: `remove one "${id}"` });
      seen.add(id);
    });
  });
  // With the other problems, not once they are fixed.
  issues.push(...cycleIssues(spec, ids));
  return issues;
}

/** The contracts each task is on a side of, by task id. */
export function taskContracts(spec: PlanSpec): Map<string, TaskContract[]> {
  const byTask = new Map<string, TaskContract[]>();
  const add = (id: string, c: ContractSpec, role: TaskContract['role']): void => {
    const contract: TaskContract = {
      name: c.name,
      role,
      ...(c.description === undefined ? {} : { description: c.description }),
      schema: c.schema ?? {},
      provider: c.provider,
      consumers: c.consumers,
    };
    byTask.set(id, [...(byTask.get(id) ?? []), contract]);
  };
  for (const c of spec.contracts ?? []) {
    add(c.provider, c, 'provider');
    for (const id of c.consumers) add(id, c, 'consumer');
  }
  return byTask;
}

/** The providers each consumer waits for (they join its `needs`), by task id. */
export function contractNeeds(spec: PlanSpec): Map<string, string[]> {
  const needs = new Map<string, string[]>();
  for (const c of spec.contracts ?? [])
    for (const id of c.consumers) needs.set(id, [...(needs.get(id) ?? []), c.provider]);
  return needs;
}

function schemaIssues(c: ContractSpec, at: (field: string) => Pick<RawIssue, 'path' | 'field'>): RawIssue[] {
  if (c.schema === undefined)
    return [
      c.schemaFile === undefined
        ? {
            ...at('name'),
            message: `contract "${c.name}" has no schema`,
            fix: 'add schema: {type: object, …} (a JSON Schema), or schemaFile: <file next to the plan>',
          }
        : {
            ...at('schemaFile'),
            message: `schemaFile "${c.schemaFile}" can only be read for a plan loaded from a file`,
            fix: 'write the JSON Schema inline under schema:',
          },
    ];
  const problem = jsonSchemaProblem(c.schema);
  if (problem === undefined) return [];
  const from = c.schemaFile === undefined ? at('schema') : at('schemaFile');
  return [
    {
      ...from,
      message: `${c.schemaFile === undefined ? 'schema' : `the schema in ${c.schemaFile}`} is not a JSON Schema weft can check: ${problem}`,
      fix: 'write a JSON Schema, e.g. {type: object, required: [id], properties: {id: {type: string}}}',
    },
  ];
}

/**
 * A consumer waits for its provider; a provider that (through needs, after, verifies or other
 * contracts) waits for one of its consumers could never start.
 */
function cycleIssues(spec: PlanSpec, ids: ReadonlyMap<string, number>): RawIssue[] {
  const extra = contractNeeds(spec);
  const depsOf = (id: string): readonly string[] => {
    const t = spec.tasks[ids.get(id) as number];
    return [...(t?.needs ?? []), ...(t?.after ?? []), ...(t?.verifies ?? []), ...(extra.get(id) ?? [])];
  };
  const issues: RawIssue[] = [];
  (spec.contracts ?? []).forEach((c, k) => {
    const reached = new Set<string>();
    const stack = [...depsOf(c.provider)];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (reached.has(id) || !ids.has(id)) continue;
      reached.add(id);
      stack.push(...depsOf(id));
    }
    c.consumers.forEach((id, j) => {
      // A provider listed as its own consumer is reported as that.
      if (reached.has(id) && id !== c.provider)
        issues.push({
          path: ['contracts', k, 'consumers', j],
          field: `contracts[${k}].consumers[${j}]`,
          message: `provider "${c.provider}" waits for "${id}", which as a consumer waits for the provider: a cycle`,
          fix: `make "${id}" the provider, or remove what makes "${c.provider}" wait for it`,
        });
    });
  });
  return issues;
}

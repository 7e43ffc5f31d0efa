import { ConditionSyntaxError, parseCondition, referencedTasks, type Expr } from './condition.js';
import { checkWhen, type ConditionNames } from './condition-check.js';
import type { PlanIssue } from '../errors.js';
import type { TaskSpec } from './plan-schema.js';
import { closest } from '../suggest.js';

/** A problem with one of a task's fields, before the compiler gives it a place. */
export type FieldProblem = Pick<PlanIssue, 'message' | 'fix'> & { readonly field: string };

/** What a task's control fields (`gate`, `score`, `minScore`) resolve to. */
export interface ControlFields {
  /** The parsed gate condition. */
  readonly gate?: Expr;
  /** Tasks the gate reads: it waits for them (added to its `after`). */
  readonly reads: readonly string[];
  readonly problems: readonly FieldProblem[];
}

/** Fields a gate cannot have: it runs nothing. */
const NOT_ON_GATES = ['run', 'prompt', 'executor', 'expands', 'verifies', 'score', 'outputSchema'] as const;

/**
 * Checks and resolves a task's `gate`, `score` and `minScore`. A gate's condition is checked like a
 * `when` (unknown tasks, fields and output keys, with did-you-mean); the tasks it reads become
 * dependencies, so it is decided once they ended.
 *
 * @example
 * controlFields({ id: 'ship', gate: 'tasks.review.output.score >= 6' }, names).reads // ['review']
 */
export function controlFields(t: TaskSpec, names: ConditionNames): ControlFields {
  const problems: FieldProblem[] = [];
  if (t.minScore !== undefined && t.score === undefined)
    problems.push({
      field: 'minScore',
      message: 'minScore needs score: the output key that holds the number',
      fix: 'add score: <output key>, e.g. score: score',
    });
  if (t.score !== undefined) problems.push(...scoreProblems(t.score, t.outputSchema));
  if (t.gate === undefined) return { reads: [], problems };
  for (const field of NOT_ON_GATES)
    if (t[field] !== undefined)
      problems.push({
        field,
        message: `a gate runs nothing, so it has no ${field}`,
        fix: `remove ${field}, or make "${t.id}" a task and put the condition in a gate after it`,
      });
  let gate: Expr;
  try {
    gate = parseCondition(t.gate);
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error;
    problems.push({
      field: 'gate',
      message: `bad condition at character ${error.position + 1}: ${error.message}`,
      fix: 'write e.g. tasks.review.output.score >= 6 && !tasks.security.output.veto',
    });
    return { reads: [], problems };
  }
  for (const p of checkWhen(gate, names)) problems.push({ field: 'gate', ...p });
  const reads = [...new Set(referencedTasks(gate))].filter((id) => names.tasks.has(id));
  if (reads.includes(t.id))
    problems.push({
      field: 'gate',
      message: `gate "${t.id}" reads itself`,
      fix: 'read the tasks before it (tasks.<id>.output.<key>)',
    });
  return { gate, reads: reads.filter((id) => id !== t.id), problems };
}

/** `score:` names a numeric key the task's `outputSchema` declares (when it declares its properties). */
function scoreProblems(key: string, schema: Readonly<Record<string, unknown>> | undefined): FieldProblem[] {
  if (schema === undefined)
    return [
      {
        field: 'score',
        message: `score "${key}" needs an outputSchema that declares it: the output is checked against it, then scored`,
        fix: `add outputSchema: {type: object, required: [${key}], properties: {${key}: {type: number}}}`,
      },
    ];
  const properties = schema.properties;
  if (typeof properties !== 'object' || properties === null) return [];
  const keys = Object.keys(properties);
  if (keys.includes(key)) {
    const type = (properties as Record<string, { type?: unknown }>)[key]?.type;
    if (type === undefined || type === 'number' || type === 'integer') return [];
    return [
      {
        field: 'score',
        message: `score "${key}" is a ${String(type)} in outputSchema, not a number`,
        fix: `declare ${key} as {type: number}, or name a numeric key`,
      },
    ];
  }
  const hint = closest(key, keys);
  return [
    {
      field: 'score',
      message: `score "${key}" is not a key of outputSchema`,
      fix: hint === undefined ? `its keys: ${keys.join(', ')}` : `did you mean "${hint}"?`,
    },
  ];
}

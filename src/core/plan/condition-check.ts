import { TASK_FIELDS, type Expr, type Value } from './condition.js';
import { closest } from '../suggest.js';

/** What checking a condition needs to know of a task it may read. */
export interface ConditionTask {
  /** The task's `outputSchema` (JSON Schema), when it declares one. */
  readonly outputSchema?: Readonly<Record<string, unknown>>;
  /** Whether the task can have structured output without a schema (a function task). @default false */
  readonly outputWithoutSchema?: boolean;
}

/** The names a condition may read: the plan's declared `vars` and its tasks. */
export interface ConditionNames {
  readonly vars: Readonly<Record<string, Value>>;
  readonly tasks: ReadonlyMap<string, ConditionTask>;
}

/** One problem with a condition: what is wrong and how to fix it. */
export interface ConditionProblem {
  readonly message: string;
  readonly fix: string;
}

/** What a name or literal is known to hold; `unknown` when only the run can tell (env, untyped output). */
type Kind = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'list' | 'unknown';

type Schema = Readonly<Record<string, unknown>>;

/**
 * Checks every name a parsed condition reads against the plan, before anything runs: unknown
 * variables, tasks, task fields and output keys (with did-you-mean), and comparisons of values
 * whose types are known (from `vars` or `outputSchema`) and cannot be compared.
 *
 * @example
 * checkCondition(parseCondition('tasks.build.succeded'), { vars: {}, tasks: new Map([['build', {}]]) })
 * // [{ message: 'condition reads tasks.build.succeded: tasks have no field "succeded"', fix: 'did you mean "succeeded"?' }]
 */
export function checkCondition(expr: Expr, names: ConditionNames): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  kindOf(expr, names, problems);
  return problems;
}

/**
 * {@link checkCondition} for a task's `when`, which is checked only once every task it reads has
 * succeeded or been skipped by its own condition: a failed or cancelled dependency skips the task
 * first, so reading `failed` or `cancelled` there could never be true.
 */
export function checkWhen(expr: Expr, names: ConditionNames): ConditionProblem[] {
  const problems = checkCondition(expr, names);
  for (const path of refs(expr)) {
    const [root, id, field] = path;
    if (root !== 'tasks' || (field !== 'failed' && field !== 'cancelled' && field !== 'blocked')) continue;
    if (!names.tasks.has(id ?? '')) continue;
    const what = field === 'failed' ? 'failed' : field === 'blocked' ? 'was blocked' : 'was cancelled';
    problems.push({
      message:
        `condition reads ${path.join('.')}, which is never true in when: a task whose dependency` +
        ` ${what} is skipped before its condition is checked`,
      fix: `read tasks.${id ?? ''}.succeeded or tasks.${id ?? ''}.skipped instead`,
    });
  }
  return problems;
}

function refs(expr: Expr): (readonly string[])[] {
  if (expr.kind === 'ref') return [expr.path];
  if (expr.kind === 'not') return refs(expr.operand);
  return expr.kind === 'binary' ? [...refs(expr.left), ...refs(expr.right)] : [];
}

function kindOf(expr: Expr, names: ConditionNames, problems: ConditionProblem[]): Kind {
  switch (expr.kind) {
    case 'literal':
      return expr.value === null || expr.value === undefined ? 'null' : (typeof expr.value as Kind);
    case 'ref':
      return refKind(expr.path, names, problems);
    case 'not':
      kindOf(expr.operand, names, problems);
      return 'boolean';
    case 'binary': {
      const left = kindOf(expr.left, names, problems);
      const right = kindOf(expr.right, names, problems);
      if (expr.op === '&&' || expr.op === '||') return 'boolean';
      const problem = comparisonProblem(expr.op, left, right, expr);
      if (problem !== undefined) problems.push(problem);
      return 'boolean';
    }
  }
}

/** Why `left op right` can never mean what its author wants, when both kinds are known. */
function comparisonProblem(
  op: string,
  left: Kind,
  right: Kind,
  expr: Expr & { kind: 'binary' },
): ConditionProblem | undefined {
  if (left === 'unknown' || right === 'unknown') return undefined;
  const shown = `${describe(expr.left)} ${op} ${describe(expr.right)}`;
  // A whole object or list compared: its author meant a value inside it.
  const whole =
    left === 'object' || left === 'list' ? expr.left : right === 'object' || right === 'list' ? expr.right : undefined;
  if (whole !== undefined && !(left === right && (op === '==' || op === '!='))) {
    const kind = whole === expr.left ? left : right;
    return {
      message: `condition compares ${describe(whole)}, ${a(kind)} in outputSchema, in ${shown}`,
      fix: `compare a value inside it, e.g. ${describe(whole)}.${kind === 'list' ? '0' : '<key>'}`,
    };
  }
  if (op !== '==' && op !== '!=') {
    if (left === 'number' && right === 'number') return undefined;
    const wrong = left === 'number' ? right : left;
    return {
      message: `condition compares ${a(wrong)} with ${op} in ${shown}`,
      fix: `${op} compares numbers; use == or != for ${wrong}s`,
    };
  }
  if (left === right || left === 'null' || right === 'null') return undefined;
  // The literal is what its author wrote wrong: the fix keeps the reference and writes the literal
  // in the reference's type (`vars.level == "2"` → `vars.level == 2`).
  const [keep, change] =
    expr.left.kind !== 'ref' && expr.right.kind === 'ref' ? [expr.right, expr.left] : [expr.left, expr.right];
  const kind = keep === expr.left ? left : right;
  return {
    message: `condition compares ${a(left)} with ${a(right)} in ${shown}`,
    fix: `compare with ${a(kind)}, e.g. ${describe(keep)} ${op} ${exampleOf(kind, change)}`,
  };
}

function a(kind: Kind): string {
  return kind === 'boolean' ? 'a boolean' : kind === 'null' ? 'null' : kind === 'object' ? 'an object' : `a ${kind}`;
}

/** A value of `kind` for a fix: the literal `other` written in that type when it has one (`"2"` → `2`), else a placeholder. */
function exampleOf(kind: Kind, other: Expr): string {
  if (other.kind === 'literal') {
    const v = other.value;
    if (kind === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
      return String(Number(v));
    if (kind === 'string' && (typeof v === 'number' || typeof v === 'boolean')) return JSON.stringify(String(v));
    if (kind === 'boolean' && (v === 'true' || v === 'false')) return v;
  }
  return kind === 'string' ? '"text"' : kind === 'number' ? '6' : 'true';
}

function describe(expr: Expr): string {
  if (expr.kind === 'ref') return expr.path.join('.');
  if (expr.kind === 'literal') return typeof expr.value === 'string' ? JSON.stringify(expr.value) : String(expr.value);
  return '(…)';
}

function refKind(path: readonly string[], names: ConditionNames, problems: ConditionProblem[]): Kind {
  const [root = '', name = '', field, ...keys] = path;
  // The name is joined only for a problem: most names read are fine.
  const fail = (message: string, fix: string): Kind => {
    problems.push({ message: `condition reads ${path.join('.')}: ${message}`, fix });
    return 'unknown';
  };
  if (root === 'env')
    return field === undefined ? 'unknown' : fail('environment variables have no fields', `write env.${name}`);
  if (root === 'vars') {
    if (!Object.hasOwn(names.vars, name)) {
      const declared = Object.keys(names.vars);
      const hint = closest(name, declared);
      return fail(
        `the plan declares no variable "${name}"`,
        hint !== undefined
          ? `did you mean "vars.${hint}"?`
          : declared.length > 0
            ? `its variables: ${declared.join(', ')}`
            : `declare it under vars: {${name}: …}`,
      );
    }
    if (field !== undefined)
      return fail(`variable "${name}" is a single value and has no fields`, `write vars.${name}`);
    const value = names.vars[name];
    return value === null || value === undefined ? 'null' : (typeof value as Kind);
  }
  const task = names.tasks.get(name);
  if (task === undefined || !names.tasks.has(name)) {
    const hint = closest(name, names.tasks.keys());
    return fail(
      `unknown task "${name}"`,
      hint === undefined ? 'use the id of a task in this plan' : `did you mean "${hint}"?`,
    );
  }
  if (field === undefined || field === 'status' || field === 'text')
    return keys.length === 0
      ? 'string'
      : fail(`${field ?? 'status'} is text and has no fields`, `write tasks.${name}.${field ?? 'status'}`);
  if (!(TASK_FIELDS as readonly string[]).includes(field)) {
    const hint = closest(field, TASK_FIELDS);
    return fail(
      `tasks have no field "${field}"`,
      hint === undefined ? `use one of: ${TASK_FIELDS.join(', ')}` : `did you mean "${hint}"?`,
    );
  }
  if (field !== 'output')
    return keys.length === 0
      ? field === 'exitCode'
        ? 'number'
        : 'boolean'
      : fail(`${field} has no fields`, `write tasks.${name}.${field}`);
  if (task.outputSchema === undefined) {
    if (task.outputWithoutSchema === true) return 'unknown';
    return fail(
      `task "${name}" declares no outputSchema, so it has no structured output`,
      `add outputSchema to task "${name}", e.g. {type: object, properties: {score: {type: number}}}`,
    );
  }
  return outputKind(task.outputSchema, keys, `tasks.${name}.output`, fail);
}

/** Walks `keys` down a JSON Schema; the kind at the end, or a problem naming the first key it lacks. */
function outputKind(
  root: Schema,
  keys: readonly string[],
  base: string,
  fail: (message: string, fix: string) => Kind,
): Kind {
  let schema: Schema | undefined = root;
  let at = base;
  for (const key of keys) {
    if (schema === undefined) return 'unknown';
    const type = schema.type;
    if (type === 'array' || isSchema(schema.items)) {
      if (!/^\d+$/.test(key))
        return fail(
          `${at} is a list in outputSchema; it has no key "${key}"`,
          `read an item by its position, e.g. ${at}.0`,
        );
      schema = isSchema(schema.items) ? schema.items : undefined;
    } else if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean' || type === 'null') {
      return fail(`${at} is a ${type} in outputSchema and has no key "${key}"`, `write ${at}`);
    } else if (isSchema(schema.properties)) {
      const properties: Schema = schema.properties;
      if (Object.hasOwn(properties, key)) schema = isSchema(properties[key]) ? properties[key] : undefined;
      else if (isSchema(schema.additionalProperties)) schema = schema.additionalProperties;
      else if (schema.additionalProperties === true) schema = undefined;
      else {
        const hint = closest(key, Object.keys(properties));
        const known = Object.keys(properties);
        return fail(
          `outputSchema has no key "${key}" at ${at}`,
          hint !== undefined
            ? `did you mean "${hint}"?`
            : known.length > 0
              ? `its keys: ${known.join(', ')}`
              : `declare "${key}" under properties`,
        );
      }
    } else schema = isSchema(schema.additionalProperties) ? schema.additionalProperties : undefined;
    at = `${at}.${key}`;
  }
  const type = schema?.type;
  return type === 'string' || type === 'boolean' || type === 'null' || type === 'object'
    ? type
    : type === 'number' || type === 'integer'
      ? 'number'
      : type === 'array'
        ? 'list'
        : 'unknown';
}

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

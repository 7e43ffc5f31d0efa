import { evaluateCondition, type Expr, type Resolver, type Value } from './condition.js';

/** The comparison that holds when `op` does not: how a failing part reads ("score = 4 < 6"). */
const NEGATED: Readonly<Record<string, string>> = {
  '==': '!=',
  '!=': '==',
  '<': '>=',
  '<=': '>',
  '>': '<=',
  '>=': '<',
};

/** A value as a message shows it: strings quoted, a name that reads nothing as `missing`. */
export function showValue(v: Value): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `'${v.length > 200 ? `${v.slice(0, 197)}…` : v}'`;
  return String(v);
}

function side(expr: Expr, resolve: Resolver): string {
  if (expr.kind === 'ref') return `${expr.path.join('.')} = ${showValue(resolve(expr.path))}`;
  if (expr.kind === 'literal') return showValue(expr.value);
  return evaluateCondition(expr, resolve) ? 'true' : 'false';
}

/**
 * Why a condition is false: the parts that fail, each with the values it read — what a blocked
 * gate records. A failing `a && b` names each failing side; a failing `a || b` names both; a
 * comparison reads as the comparison that holds instead (`tasks.ui.output.score = 4 < 6`); a name
 * that should be falsy or truthy shows its value (`tasks.security.output.veto = 'SQL built from input'`).
 * Empty when the condition holds.
 *
 * @example
 * explainFalse(parseCondition('tasks.ui.output.score >= 6 && !tasks.sec.output.veto'), resolve)
 * // ["tasks.ui.output.score = 4 < 6", "tasks.sec.output.veto = 'SQL built from input'"]
 */
export function explainFalse(expr: Expr, resolve: Resolver): string[] {
  if (evaluateCondition(expr, resolve)) return [];
  return failing(expr, resolve);
}

/** The failing parts of an expression known to be false. */
function failing(expr: Expr, resolve: Resolver): string[] {
  switch (expr.kind) {
    case 'literal':
      return [`${showValue(expr.value)} is false`];
    case 'ref':
      return [side(expr, resolve)];
    case 'not':
      // `!x` is false: x holds. A name shows its value; anything else reads as "x holds".
      return expr.operand.kind === 'ref' ? [side(expr.operand, resolve)] : [`${render(expr.operand)} holds`];
    case 'binary': {
      if (expr.op === '&&')
        return [expr.left, expr.right].flatMap((e) => (evaluateCondition(e, resolve) ? [] : failing(e, resolve)));
      if (expr.op === '||') return [...failing(expr.left, resolve), ...failing(expr.right, resolve)];
      const l = side(expr.left, resolve);
      const r = side(expr.right, resolve);
      return [`${l} ${NEGATED[expr.op] ?? expr.op} ${r}`];
    }
  }
}

/** A condition written back as text (for `!(…)` that holds). */
export function render(expr: Expr): string {
  switch (expr.kind) {
    case 'literal':
      return typeof expr.value === 'string' ? JSON.stringify(expr.value) : String(expr.value);
    case 'ref':
      return expr.path.join('.');
    case 'not':
      return `!${expr.operand.kind === 'binary' ? `(${render(expr.operand)})` : render(expr.operand)}`;
    case 'binary':
      return `${wrap(expr.left)} ${expr.op} ${wrap(expr.right)}`;
  }
}

function wrap(expr: Expr): string {
  return expr.kind === 'binary' && (expr.op === '&&' || expr.op === '||') ? `(${render(expr)})` : render(expr);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConditionSyntaxError, evaluateCondition, parseCondition, referencedTasks, type Expr, type Value } from './condition.js';

/** Evaluates a condition against `vars` and `tasks.<id>.<field>` values, as a run would. */
function check(source: string, vars: Record<string, Value> = {}, tasks: Record<string, Record<string, Value>> = {}): boolean {
  return evaluateCondition(parseCondition(source), ([root, name = '', field = '']) => (root === 'vars' ? vars[name] : root === 'tasks' ? tasks[name]?.[field] : undefined));
}

/** The message and 0-based position a syntax error reports. */
function syntaxError(source: string): [string, number] {
  try {
    parseCondition(source);
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return [error.message, error.position];
    throw error;
  }
  throw new Error(`"${source}" parsed`);
}

describe('parseCondition + evaluateCondition', () => {
  it('reads variables as truthy or falsy the way a user means them', () => {
    for (const on of [true, 'yes', 'true', 1, '1', 'prod']) expect(check('vars.flag', { flag: on })).toBe(true);
    for (const off of [false, '', 'false', '0', 0, null, undefined]) expect(check('vars.flag', { flag: off })).toBe(false);
    expect(check('!vars.flag', { flag: 'false' })).toBe(true);
    expect(check('vars.missing')).toBe(false);
  });

  it('compares strings from --set and env loosely with numbers and booleans', () => {
    expect(check('vars.level == 2', { level: '2' })).toBe(true);
    expect(check('vars.level >= 1.5', { level: '2' })).toBe(true);
    expect(check('vars.level < -1', { level: '-3' })).toBe(true);
    expect(check('vars.flag == true', { flag: 'true' })).toBe(true);
    expect(check('vars.flag != false', { flag: 'false' })).toBe(false);
    expect(check('vars.env == "prod"', { env: 'prod' })).toBe(true);
    expect(check("vars.env == 'prod'", { env: 'staging' })).toBe(false);
    expect(check('vars.env != "prod"', { env: 'staging' })).toBe(true);
    // Ordering needs two numbers: a word is neither above nor below a number.
    expect(check('vars.env > 1', { env: 'prod' })).toBe(false);
    expect(check('vars.env <= 1', { env: 'prod' })).toBe(false);
    expect(check('vars.missing == null')).toBe(false);
    expect(check('vars.none == null', { none: null })).toBe(true);
  });

  it('reads task results', () => {
    const tasks = { build: { succeeded: true, status: 'succeeded', exitCode: 0 }, lint: { succeeded: false, status: 'failed', exitCode: 2 } };
    expect(check('tasks.build.succeeded && tasks.lint.exitCode != 0', {}, tasks)).toBe(true);
    expect(check('tasks.lint.status == "failed"', {}, tasks)).toBe(true);
    expect(check('tasks.build-api.succeeded', {}, { 'build-api': { succeeded: true } })).toBe(true);
  });

  it('binds ! tighter than comparisons, comparisons tighter than &&, && tighter than ||', () => {
    expect(check('vars.a || vars.b && vars.c', { a: true, b: false, c: false })).toBe(true);
    expect(check('(vars.a || vars.b) && vars.c', { a: true, b: false, c: false })).toBe(false);
    expect(check('!vars.a == false', { a: true })).toBe(true);
    expect(check('!(vars.a == false)', { a: true })).toBe(true);
    expect(check('vars.x == 1 && vars.y == 2', { x: 1, y: 2 })).toBe(true);
    expect(parseCondition('vars.a || vars.b && !vars.c')).toEqual({
      kind: 'binary',
      op: '||',
      left: { kind: 'ref', path: ['vars', 'a'] },
      right: { kind: 'binary', op: '&&', left: { kind: 'ref', path: ['vars', 'b'] }, right: { kind: 'not', operand: { kind: 'ref', path: ['vars', 'c'] } } },
    });
  });

  it('parses back exactly what it would print with the fewest parentheses', () => {
    fc.assert(
      fc.property(exprArbitrary, (expr) => {
        expect(parseCondition(print(expr))).toEqual(expr);
      }),
      { numRuns: 500 },
    );
  });

  it('lists the tasks a condition reads', () => {
    expect(referencedTasks(parseCondition('tasks.a.succeeded && (vars.x || !tasks.b.failed) && env.CI == "1"'))).toEqual(['a', 'b']);
  });

  it('says what is wrong and where (0-based)', () => {
    expect(syntaxError('vars.a & vars.b')).toEqual(['unexpected "&"', 7]);
    expect(syntaxError('   @')).toEqual(['unexpected "@"', 3]);
    expect(syntaxError('vars.a = 1')).toEqual(['unexpected "="', 7]);
    expect(syntaxError('"unterminated')).toEqual(['unexpected """', 0]);
    expect(syntaxError('')).toEqual(['unexpected end of condition', 0]);
    expect(syntaxError('vars.a &&')).toEqual(['unexpected end of condition', 9]);
    expect(syntaxError('vars.a vars.b')).toEqual(['unexpected "vars.b"', 7]);
    expect(syntaxError('(vars.a')).toEqual(['expected ")" at the end', 7]);
    expect(syntaxError('vars.a)')).toEqual(['unexpected ")"', 6]);
    expect(syntaxError('== 1')).toEqual(['unexpected "=="', 0]);
    expect(syntaxError('x && security')).toEqual(['unknown name "x": use vars.<name>, env.<NAME> or tasks.<id>.<field>', 0]);
    expect(syntaxError('vars.a && secrets.key')).toEqual(['unknown name "secrets.key": use vars.<name>, env.<NAME> or tasks.<id>.<field>', 10]);
    expect(syntaxError('vars')).toEqual(['unknown name "vars": use vars.<name>, env.<NAME> or tasks.<id>.<field>', 0]);
  });

  it('fails on any input only with a syntax error that points inside the text', () => {
    const chars = fc.constantFrom('v', 'a', 'r', 's', '.', ' ', '!', '&', '|', '=', '<', '>', '(', ')', '"', "'", '1', '-', 'x', '\\');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 20 }), (source) => {
        try {
          parseCondition(source);
        } catch (error) {
          expect(error).toBeInstanceOf(ConditionSyntaxError);
          const { position } = error as ConditionSyntaxError;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(source.length);
          // The error never points at a space: the user sees the character that is wrong.
          if (position < source.length) expect(source.charAt(position)).not.toBe(' ');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

const PRECEDENCE: Readonly<Record<string, number>> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3 };

const exprArbitrary: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.constantFrom<Value>(true, false, null, 0, 2, -1, 1.5, 'prod', 'a b').map((value): Expr => ({ kind: 'literal', value })),
      fc.constantFrom(['vars', 'x'], ['vars', 'level'], ['env', 'CI'], ['tasks', 'build', 'succeeded'], ['tasks', 'api-v2', 'exitCode']).map((path): Expr => ({ kind: 'ref', path })),
    ),
    tie('expr').map((operand): Expr => ({ kind: 'not', operand })),
    fc.record({ op: fc.constantFrom('&&', '||', '==', '!=', '<', '<=', '>', '>=' as const), left: tie('expr'), right: tie('expr') }).map(({ op, left, right }): Expr => ({ kind: 'binary', op, left, right })),
  ),
})).expr;

/** Prints an expression with only the parentheses precedence and left-associativity require. */
function print(expr: Expr, min = 0): string {
  switch (expr.kind) {
    case 'literal':
      return typeof expr.value === 'string' ? JSON.stringify(expr.value) : String(expr.value);
    case 'ref':
      return expr.path.join('.');
    case 'not':
      return `!${print(expr.operand, 4)}`;
    case 'binary': {
      const p = PRECEDENCE[expr.op] as number;
      const text = `${print(expr.left, p)} ${expr.op} ${print(expr.right, p + 1)}`;
      return p < min ? `(${text})` : text;
    }
  }
}

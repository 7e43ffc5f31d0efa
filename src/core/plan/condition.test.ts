import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConditionSyntaxError, evaluateCondition, MAX_CONDITION_DEPTH, MAX_CONDITION_LENGTH } from './condition.js';
import { parseCondition, referencedTasks, resolverOf, type Expr, type Value } from './condition.js';
import { isWeftError } from '../errors.js';

/** Evaluates a condition against `vars` and `tasks.<id>.<field>` values, as a run would. */
function check(
  source: string,
  vars: Record<string, Value> = {},
  tasks: Record<string, Record<string, Value>> = {},
): boolean {
  return evaluateCondition(parseCondition(source), ([root, name = '', field = '']) =>
    root === 'vars' ? vars[name] : root === 'tasks' ? tasks[name]?.[field] : undefined,
  );
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
    for (const off of [false, '', 'false', '0', 0, null, undefined])
      expect(check('vars.flag', { flag: off })).toBe(false);
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
    // What is not there is null, as in JSON: `!= null` does not hold for an absent value.
    expect(check('vars.missing == null')).toBe(true);
    expect(check('vars.missing != null')).toBe(false);
    expect(check('vars.none == null', { none: null })).toBe(true);
  });

  it('reads task results', () => {
    const tasks = {
      build: { succeeded: true, status: 'succeeded', exitCode: 0 },
      lint: { succeeded: false, status: 'failed', exitCode: 2 },
    };
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
      right: {
        kind: 'binary',
        op: '&&',
        left: { kind: 'ref', path: ['vars', 'b'] },
        right: { kind: 'not', operand: { kind: 'ref', path: ['vars', 'c'] } },
      },
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
    expect(
      referencedTasks(parseCondition('tasks.a.succeeded && (vars.x || !tasks.b.failed) && env.CI == "1"')),
    ).toEqual(['a', 'b']);
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
    expect(syntaxError('x && security')).toEqual([
      'unknown name "x": use vars.<name>, env.<NAME> or tasks.<id>.<field>',
      0,
    ]);
    expect(syntaxError('vars.a && secrets.key')).toEqual([
      'unknown name "secrets.key": use vars.<name>, env.<NAME> or tasks.<id>.<field>',
      10,
    ]);
    expect(syntaxError('vars')).toEqual(['unknown name "vars": use vars.<name>, env.<NAME> or tasks.<id>.<field>', 0]);
  });

  it('is a WeftError with a code from the closed list (a bad plan)', () => {
    const thrown = (() => {
      try {
        return parseCondition('vars.a &');
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(ConditionSyntaxError);
    expect(isWeftError(thrown) && thrown.code).toBe('WEFT_PLAN_INVALID');
  });

  it('ends at trailing white space of any kind', () => {
    expect(parseCondition('vars.a \n\t\u00a0 ')).toEqual(parseCondition('vars.a'));
    expect(syntaxError('vars.a &&  \n')).toEqual(['unexpected end of condition', 12]);
    expect(syntaxError(' \t ')).toEqual(['unexpected end of condition', 3]);
  });

  it('fails on any input only with a syntax error that points inside the text', () => {
    const chars = fc.constantFrom(
      'v',
      'a',
      'r',
      's',
      '.',
      ' ',
      '!',
      '&',
      '|',
      '=',
      '<',
      '>',
      '(',
      ')',
      '"',
      "'",
      '1',
      '-',
      'x',
      '\\',
    );
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

const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
};

const exprArbitrary: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc
        .constantFrom<Value>(true, false, null, 0, 2, -1, 1.5, 'prod', 'a b')
        .map((value): Expr => ({ kind: 'literal', value })),
      fc
        .constantFrom(
          ['vars', 'x'],
          ['vars', 'level'],
          ['env', 'CI'],
          ['tasks', 'build', 'succeeded'],
          ['tasks', 'api-v2', 'exitCode'],
        )
        .map((path): Expr => ({ kind: 'ref', path })),
    ),
    tie('expr').map((operand): Expr => ({ kind: 'not', operand })),
    fc
      .record({
        op: fc.constantFrom('&&', '||', '==', '!=', '<', '<=', '>', '>=' as const),
        left: tie('expr'),
        right: tie('expr'),
      })
      .map(({ op, left, right }): Expr => ({ kind: 'binary', op, left, right })),
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

describe('resolverOf: conditions read the run as data', () => {
  const output = {
    score: 7,
    verdict: 'ok',
    meta: { lint: { errors: 0 } },
    tags: ['ui', 'api'],
    empty: '',
    flag: false,
  };
  const scope = {
    vars: { security: true, level: 2, mode: 'prod' },
    env: { CI: 'true' },
    task: (id: string) =>
      id === 'ui'
        ? { state: 'succeeded', exitCode: 0, text: 'done', output }
        : id === 'lint'
          ? { state: 'failed', exitCode: 2 }
          : id === 'docs'
            ? { state: 'skipped', exitCode: null }
            : undefined,
  };
  const holds = (source: string): boolean => evaluateCondition(parseCondition(source), resolverOf(scope));

  it('reads a key of structured output, nested keys and list items, with its type', () => {
    expect(holds('tasks.ui.output.score >= 6')).toBe(true);
    expect(holds('tasks.ui.output.score >= 8')).toBe(false);
    expect(holds('tasks.ui.output.score == 7')).toBe(true);
    expect(holds('tasks.ui.output.score < 7')).toBe(false);
    expect(holds('tasks.ui.output.verdict == "ok"')).toBe(true);
    expect(holds('tasks.ui.output.verdict != "ok"')).toBe(false);
    expect(holds('tasks.ui.output.meta.lint.errors == 0')).toBe(true);
    expect(holds('tasks.ui.output.meta.lint.errors > 0')).toBe(false);
    expect(holds('tasks.ui.output.tags.1 == "api"')).toBe(true);
    expect(holds('tasks.ui.output.tags.2')).toBe(false);
    expect(holds('tasks.ui.output.empty')).toBe(false);
    expect(holds('tasks.ui.output.flag')).toBe(false);
    expect(holds('!tasks.ui.output.flag')).toBe(true);
    expect(holds('tasks.ui.output.missing')).toBe(false);
    expect(holds('tasks.lint.output.score >= 0')).toBe(false);
  });

  it('reads succeeded, failed, skipped, cancelled, status, exitCode and text', () => {
    expect([holds('tasks.ui.succeeded'), holds('tasks.ui.failed'), holds('tasks.ui.skipped')]).toEqual([
      true,
      false,
      false,
    ]);
    expect([holds('tasks.lint.succeeded'), holds('tasks.lint.failed'), holds('tasks.lint.skipped')]).toEqual([
      false,
      true,
      false,
    ]);
    expect([holds('tasks.docs.succeeded'), holds('tasks.docs.failed'), holds('tasks.docs.skipped')]).toEqual([
      false,
      false,
      true,
    ]);
    expect(holds('tasks.docs.cancelled')).toBe(false);
    expect(holds('tasks.lint.status == "failed"')).toBe(true);
    expect(holds('tasks.lint == "failed"')).toBe(true);
    expect(holds('tasks.lint.exitCode == 2')).toBe(true);
    expect(holds('tasks.docs.exitCode == null')).toBe(true);
    expect(holds('tasks.ui.text == "done"')).toBe(true);
    expect(holds('tasks.never.succeeded')).toBe(false);
  });

  it('reads vars and env', () => {
    expect(holds('vars.security && vars.level == 2 && vars.mode == "prod"')).toBe(true);
    expect(holds('vars.level > 2')).toBe(false);
    expect(holds('env.CI == "true" && env.CI')).toBe(true);
    expect(holds('env.HOME')).toBe(false);
  });

  it('never resolves a prototype member: vars.constructor, vars.__proto__, vars.toString are undefined', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(holds(`vars.${name}`)).toBe(false);
      expect(holds(`vars.${name} != null`)).toBe(false);
      expect(holds(`env.${name}`)).toBe(false);
      expect(holds(`tasks.ui.output.${name}`)).toBe(false);
      expect(holds(`tasks.ui.output.tags.${name}`)).toBe(false);
    }
    expect(holds('tasks.ui.output.tags.length')).toBe(false);
    expect(holds('vars.mode.length')).toBe(false);
  });
});

describe('parseCondition: limits', () => {
  it('refuses thousands of terms and deep nesting with a syntax error, not a stack overflow', () => {
    const terms = Array.from({ length: 5000 }, () => 'vars.a').join(' && ');
    expect(syntaxError(terms)).toEqual([
      `longer than ${MAX_CONDITION_LENGTH} characters (${terms.length})`,
      MAX_CONDITION_LENGTH,
    ]);
    expect(syntaxError(`${'('.repeat(40)}vars.a${')'.repeat(40)}`)).toEqual([
      `nested deeper than ${MAX_CONDITION_DEPTH} levels`,
      32,
    ]);
    expect(syntaxError(`${'!'.repeat(200)}vars.a`)).toEqual([`nested deeper than ${MAX_CONDITION_DEPTH} levels`, 32]);
    const deepest = `${'('.repeat(MAX_CONDITION_DEPTH)}vars.a${')'.repeat(MAX_CONDITION_DEPTH)}`;
    expect(check(deepest, { a: true })).toBe(true);
    const many = Array.from({ length: 150 }, (_, k) => `vars.a${k}`).join(' || ');
    expect(many.length).toBeLessThanOrEqual(MAX_CONDITION_LENGTH);
    expect(check(many, { a149: true })).toBe(true);
    expect(check(many, { a150: true })).toBe(false);
  });
});

/**
 * `when` conditions: a tiny, safe expression language (no eval).
 *
 *   vars.security                     truthy variable
 *   !vars.skipDocs && env.CI == "true"
 *   tasks.build.succeeded || vars.force
 *   vars.level >= 2
 *
 * Names: `vars.<name>`, `env.<NAME>`, `tasks.<id>.<status|succeeded|failed|skipped|exitCode|output>`.
 */
export type Value = string | number | boolean | null | undefined;

export type Expr =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'ref'; readonly path: readonly string[] }
  | { readonly kind: 'not'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr };

type BinaryOp = '&&' | '||' | '==' | '!=' | '<' | '<=' | '>' | '>=';

export class ConditionSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

type Token = { kind: 'op' | 'name' | 'string' | 'number' | 'paren'; text: string; pos: number };

const TOKEN = /\s*(?:(&&|\|\||==|!=|<=|>=|<|>|!)|([A-Za-z_][\w.-]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)|([()]))/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < source.length) {
    if (/^\s*$/.test(source.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(source);
    if (m === null) {
      // Point at the offending character, not at the spaces before it.
      const rest = source.slice(pos);
      const at = pos + rest.length - rest.trimStart().length;
      throw new ConditionSyntaxError(`unexpected "${source.charAt(at)}"`, at);
    }
    const at = pos + (m[0].length - m[0].trimStart().length);
    if (m[1] !== undefined) tokens.push({ kind: 'op', text: m[1], pos: at });
    else if (m[2] !== undefined) tokens.push({ kind: 'name', text: m[2], pos: at });
    else if (m[3] !== undefined || m[4] !== undefined) tokens.push({ kind: 'string', text: (m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1'), pos: at });
    else if (m[5] !== undefined) tokens.push({ kind: 'number', text: m[5], pos: at });
    else tokens.push({ kind: 'paren', text: m[6] ?? '', pos: at });
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

const ROOTS = new Set(['vars', 'env', 'tasks']);

/** Parses a condition; throws {@link ConditionSyntaxError} with the position of the problem. */
export function parseCondition(source: string): Expr {
  const tokens = tokenize(source);
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const expect = (text: string): void => {
    const t = tokens[i];
    if (t?.text !== text) throw new ConditionSyntaxError(`expected "${text}"${t === undefined ? ' at the end' : ` before "${t.text}"`}`, t?.pos ?? source.length);
    i++;
  };
  const binary = (ops: readonly string[], next: () => Expr) => (): Expr => {
    let left = next();
    for (let t = peek(); t?.kind === 'op' && ops.includes(t.text); t = peek()) {
      i++;
      left = { kind: 'binary', op: t.text as BinaryOp, left, right: next() };
    }
    return left;
  };
  const primary = (): Expr => {
    const t = tokens[i++];
    if (t === undefined) throw new ConditionSyntaxError('unexpected end of condition', source.length);
    if (t.kind === 'op' && t.text === '!') return { kind: 'not', operand: primary() };
    if (t.kind === 'paren' && t.text === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.kind === 'string') return { kind: 'literal', value: t.text };
    if (t.kind === 'number') return { kind: 'literal', value: Number(t.text) };
    if (t.kind === 'name') {
      if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true' };
      if (t.text === 'null') return { kind: 'literal', value: null };
      const path = t.text.split('.');
      if (!ROOTS.has(path[0] ?? '') || path.length < 2) {
        throw new ConditionSyntaxError(`unknown name "${t.text}": use vars.<name>, env.<NAME> or tasks.<id>.<field>`, t.pos);
      }
      return { kind: 'ref', path };
    }
    throw new ConditionSyntaxError(`unexpected "${t.text}"`, t.pos);
  };
  const comparison = binary(['==', '!=', '<', '<=', '>', '>='], primary);
  const and = binary(['&&'], comparison);
  const or: () => Expr = binary(['||'], and);
  const expr = or();
  const rest = peek();
  if (rest !== undefined) throw new ConditionSyntaxError(`unexpected "${rest.text}"`, rest.pos);
  return expr;
}

/** Task ids a condition reads through `tasks.<id>.…`. */
export function referencedTasks(expr: Expr): string[] {
  switch (expr.kind) {
    case 'literal':
      return [];
    case 'ref':
      return expr.path[0] === 'tasks' && expr.path[1] !== undefined ? [expr.path[1]] : [];
    case 'not':
      return referencedTasks(expr.operand);
    case 'binary':
      return [...referencedTasks(expr.left), ...referencedTasks(expr.right)];
  }
}

export type Resolver = (path: readonly string[]) => Value;

function truthy(v: Value): boolean {
  if (typeof v === 'string') return v !== '' && v !== 'false' && v !== '0';
  return Boolean(v);
}

function loose(v: Value): Value {
  // Values from --set and env are strings; compare "2" with 2 and "true" with true as a user means.
  if (typeof v !== 'string') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+(?:\.\d+)?$/.test(v)) return Number(v);
  return v;
}

function value(expr: Expr, resolve: Resolver): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'ref':
      return resolve(expr.path);
    case 'not':
      return !truthy(value(expr.operand, resolve));
    case 'binary': {
      if (expr.op === '&&') return truthy(value(expr.left, resolve)) && truthy(value(expr.right, resolve));
      if (expr.op === '||') return truthy(value(expr.left, resolve)) || truthy(value(expr.right, resolve));
      const l = loose(value(expr.left, resolve));
      const r = loose(value(expr.right, resolve));
      switch (expr.op) {
        case '==':
          return l === r;
        case '!=':
          return l !== r;
        default: {
          if (typeof l !== 'number' || typeof r !== 'number') return false;
          return expr.op === '<' ? l < r : expr.op === '<=' ? l <= r : expr.op === '>' ? l > r : l >= r;
        }
      }
    }
  }
}

export function evaluateCondition(expr: Expr, resolve: Resolver): boolean {
  return truthy(value(expr, resolve));
}

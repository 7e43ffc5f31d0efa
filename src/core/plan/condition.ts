/**
 * `when` conditions: a tiny, safe expression language (no eval).
 *
 *   vars.security                     truthy variable
 *   !vars.skipDocs && env.CI == "true"
 *   tasks.build.succeeded || vars.force
 *   vars.level >= 2
 *
 *   tasks.review.output.score >= 6    a key of a task's structured output (nested keys too)
 *
 * Names: `vars.<name>`, `env.<NAME>`,
 * `tasks.<id>.<status|succeeded|failed|skipped|cancelled|blocked|passed|exitCode|text>` (`passed`: a
 * gate that passed, the same as `succeeded`),
 * `tasks.<id>.output[.<key>…]`. A condition is data: a name resolves only to what the plan declared
 * (own properties, never a prototype's), so `vars.constructor` is undefined, not a function.
 */
import { WeftError } from '../errors.js';

/** What a name in a condition reads, and what a literal is. */
export type Value = string | number | boolean | null | undefined;

/** A parsed condition: a tree of literals, names, `!` and binary operators. */
export type Expr =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'ref'; readonly path: readonly string[] }
  | { readonly kind: 'not'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr };

type BinaryOp = '&&' | '||' | '==' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A condition that does not parse (`WEFT_PLAN_INVALID`); `position` is the 0-based character where
 * the problem is. The plan compiler turns it into a plan issue naming the task's `when`.
 */
export class ConditionSyntaxError extends WeftError {
  constructor(
    message: string,
    /** 0-based index into the condition's text. */
    readonly position: number,
  ) {
    super('WEFT_PLAN_INVALID', message);
    this.name = 'ConditionSyntaxError';
  }
}

type Token = { kind: 'op' | 'name' | 'string' | 'number' | 'paren'; text: string; pos: number };

const TOKEN =
  /\s*(?:(&&|\|\||==|!=|<=|>=|<|>|!)|([A-Za-z_][\w.-]*)|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(-?\d+(?:\.\d+)?)|([()]))/y;

/** Nothing but spaces from `lastIndex` to the end (sticky: no copy of the rest is made per token). */
const ONLY_SPACE = /\s*$/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < source.length) {
    ONLY_SPACE.lastIndex = pos;
    if (ONLY_SPACE.test(source)) break;
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
    else if (m[3] !== undefined || m[4] !== undefined)
      tokens.push({ kind: 'string', text: (m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1'), pos: at });
    else if (m[5] !== undefined) tokens.push({ kind: 'number', text: m[5], pos: at });
    else tokens.push({ kind: 'paren', text: m[6] ?? '', pos: at });
    pos = TOKEN.lastIndex;
  }
  return tokens;
}

const ROOTS = new Set(['vars', 'env', 'tasks']);

/** The longest condition weft parses: longer ones are refused, not parsed into a deep tree. */
export const MAX_CONDITION_LENGTH = 2000;
/** How deep parentheses and `!` may nest in a condition. */
export const MAX_CONDITION_DEPTH = 32;

/** Parses a condition; throws {@link ConditionSyntaxError} with the position of the problem. */
export function parseCondition(source: string): Expr {
  if (source.length > MAX_CONDITION_LENGTH) {
    throw new ConditionSyntaxError(
      `longer than ${MAX_CONDITION_LENGTH} characters (${source.length})`,
      MAX_CONDITION_LENGTH,
    );
  }
  const tokens = tokenize(source);
  let depth = 0;
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const expect = (text: string): void => {
    const t = tokens[i];
    if (t?.text !== text)
      throw new ConditionSyntaxError(
        `expected "${text}"${t === undefined ? ' at the end' : ` before "${t.text}"`}`,
        t?.pos ?? source.length,
      );
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
    if ((t.kind === 'op' && t.text === '!') || (t.kind === 'paren' && t.text === '(')) {
      // Recursion depth is bounded so a fuzzed `((((…` is a message, not a stack overflow.
      if (++depth > MAX_CONDITION_DEPTH)
        throw new ConditionSyntaxError(`nested deeper than ${MAX_CONDITION_DEPTH} levels`, t.pos);
      const inner = t.text === '!' ? ({ kind: 'not', operand: primary() } as const) : or();
      if (t.text === '(') expect(')');
      depth--;
      return inner;
    }
    if (t.kind === 'string') return { kind: 'literal', value: t.text };
    if (t.kind === 'number') return { kind: 'literal', value: Number(t.text) };
    if (t.kind === 'name') {
      if (t.text === 'true' || t.text === 'false') return { kind: 'literal', value: t.text === 'true' };
      if (t.text === 'null') return { kind: 'literal', value: null };
      const path = t.text.split('.');
      if (!ROOTS.has(path[0] ?? '') || path.length < 2) {
        throw new ConditionSyntaxError(
          `unknown name "${t.text}": use vars.<name>, env.<NAME> or tasks.<id>.<field>`,
          t.pos,
        );
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

/** Looks a name up (`['tasks', 'build', 'succeeded']`); `undefined` when it names nothing. */
export type Resolver = (path: readonly string[]) => Value;

/** What `tasks.<id>.<field>` can read; `status` is what `tasks.<id>` alone reads. */
export const TASK_FIELDS = [
  'status',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'blocked',
  'passed',
  'exitCode',
  'text',
  'output',
] as const;

/** What a condition can read of a task the run knows. */
export interface TaskFacts {
  /** `succeeded`, `failed`, `skipped`, `cancelled`, … */
  readonly state: string;
  readonly exitCode?: number | null;
  readonly text?: string;
  /** The task's structured output (an object from `outputSchema` or a function), as it came. */
  readonly output?: unknown;
}

/** Everything a condition may read during a run. */
export interface ConditionScope {
  /** The plan's `vars` after `--set`. */
  readonly vars: Readonly<Record<string, Value>>;
  /** What `env.NAME` reads. @default no variables */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** A task's facts by id; `undefined` for a task that has not run. */
  readonly task: (id: string) => TaskFacts | undefined;
}

/** `container[key]` when it is the container's own data: never a prototype's member. */
function own(container: unknown, key: string): unknown {
  if (Array.isArray(container)) return /^\d+$/.test(key) ? container[Number(key)] : undefined;
  if (typeof container !== 'object' || container === null || !Object.hasOwn(container, key)) return undefined;
  return (container as Record<string, unknown>)[key];
}

/** An output value as a condition sees it: a scalar, or an object or list as its JSON text. */
function scalar(v: unknown): Value {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    return v;
  return typeof v === 'object' ? JSON.stringify(v) : undefined;
}

/**
 * The resolver a run evaluates conditions with: looks names up in `scope` as data.
 *
 * @example
 * evaluateCondition(parseCondition('tasks.ui.output.score >= 6'), resolverOf({ vars: {}, task: () => ({ state: 'succeeded', output: { score: 7 } }) })) // true
 */
export function resolverOf(scope: ConditionScope): Resolver {
  return ([root = '', name = '', field = 'status', ...keys]) => {
    if (root === 'vars') return keys.length > 0 || field !== 'status' ? undefined : scalar(own(scope.vars, name));
    if (root === 'env') return keys.length > 0 || field !== 'status' ? undefined : scalar(own(scope.env ?? {}, name));
    const facts = root === 'tasks' ? scope.task(name) : undefined;
    if (facts === undefined) return undefined;
    switch (field) {
      case 'status':
        return facts.state;
      case 'succeeded':
      case 'failed':
      case 'skipped':
      case 'cancelled':
      case 'blocked':
        return facts.state === field;
      case 'passed':
        return facts.state === 'succeeded';
      case 'exitCode':
        return facts.exitCode ?? null;
      case 'text':
        return facts.text;
      case 'output':
        return scalar(keys.reduce<unknown>((at, key) => own(at, key), facts.output));
      default:
        return undefined;
    }
  };
}

function truthy(v: Value): boolean {
  if (typeof v === 'string') return v !== '' && v !== 'false' && v !== '0';
  return Boolean(v);
}

function loose(v: Value): Value {
  // What is not there (an output key, an unset variable) is null, as JSON and the docs' `null` say.
  if (v === undefined) return null;
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

/** Whether `expr` holds, reading names through `resolve` (see {@link resolverOf}). */
export function evaluateCondition(expr: Expr, resolve: Resolver): boolean {
  return truthy(value(expr, resolve));
}

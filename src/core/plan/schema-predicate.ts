import type { z } from 'zod';

/**
 * Whether a value is valid for a schema, answered without zod: `schemaPredicate` reads a simple
 * schema's definition (strings, numbers, booleans, arrays, unions, optionals, and the common checks
 * on them) into a plain function. A plan's 100,000 tasks set ~8 fields each, and zod's `safeParse`
 * on each field value cost ~0.3 s of `weft validate`; the predicate costs a fraction of that.
 *
 * A predicate that accepts a value must be one zod accepts (the plan is then kept as it is); one
 * that refuses it sends the plan to zod, whose messages are the ones shown. Anything it does not
 * know (a refinement, a transform, an unknown check) gives no predicate: zod checks that field.
 */
export type Predicate = (value: unknown) => boolean;

interface Def {
  readonly type: string;
  readonly checks?: readonly { readonly _zod: { readonly def: CheckDef } }[];
  readonly coerce?: boolean;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

interface CheckDef {
  readonly check: string;
  readonly format?: string;
  readonly pattern?: RegExp;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly value?: number;
  readonly inclusive?: boolean;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The predicate for `schema`, or `undefined` when it has a part this does not know. */
export function schemaPredicate(schema: z.ZodType): Predicate | undefined {
  const def = defOf(schema);
  if (def.coerce === true) return undefined;
  const checks = checksPredicate(def.checks ?? []);
  if (checks === undefined) return undefined;
  const base = typePredicate(def);
  if (base === undefined) return undefined;
  return def.checks === undefined || def.checks.length === 0 ? base : (v) => base(v) && checks(v);
}

/** What the schema's own type accepts, before its checks. */
function typePredicate(def: Def): Predicate | undefined {
  switch (def.type) {
    case 'string':
      return (v) => typeof v === 'string';
    // zod's number refuses NaN and ±Infinity (YAML can write them).
    case 'number':
      return (v) => typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return (v) => typeof v === 'boolean';
    case 'optional': {
      const inner = def.innerType === undefined ? undefined : schemaPredicate(def.innerType);
      return inner === undefined ? undefined : (v) => v === undefined || inner(v);
    }
    case 'array': {
      const element = def.element === undefined ? undefined : schemaPredicate(def.element);
      if (element === undefined) return undefined;
      // By index, not `every`: zod reads a hole in a sparse array as `undefined`.
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!element(v[i])) return false;
        return true;
      };
    }
    case 'union': {
      const options = (def.options ?? []).map(schemaPredicate);
      if (options.length === 0 || options.some((p) => p === undefined)) return undefined;
      const known = options as Predicate[];
      return (v) => known.some((p) => p(v));
    }
    default:
      return undefined;
  }
}

/** All the checks together (lengths, a pattern, bounds, integers), or `undefined` when one is unknown. */
function checksPredicate(checks: NonNullable<Def['checks']>): Predicate | undefined {
  const each = checks.map((c) => checkPredicate(c._zod.def));
  if (each.some((p) => p === undefined)) return undefined;
  const known = each as Predicate[];
  return (v) => known.every((p) => p(v));
}

/**
 * One check, on a value its schema's type already accepted. (A check's `when` can only make zod
 * skip it: running it regardless is as strict or stricter, never looser.)
 */
function checkPredicate(c: CheckDef): Predicate | undefined {
  const length = (v: unknown): number => (v as { length: number }).length;
  switch (c.check) {
    case 'min_length':
      return c.minimum === undefined ? undefined : (v) => length(v) >= (c.minimum as number);
    case 'max_length':
      return c.maximum === undefined ? undefined : (v) => length(v) <= (c.maximum as number);
    case 'string_format': {
      // A global or sticky pattern keeps state between tests: leave it to zod.
      const pattern = c.pattern;
      if (c.format !== 'regex' || pattern === undefined || pattern.global || pattern.sticky) return undefined;
      return (v) => pattern.test(v as string);
    }
    case 'number_format':
      return c.format === 'safeint' ? (v) => Number.isSafeInteger(v) : undefined;
    case 'greater_than':
      return c.value === undefined
        ? undefined
        : c.inclusive === true
          ? (v) => (v as number) >= (c.value as number)
          : (v) => (v as number) > (c.value as number);
    case 'less_than':
      return c.value === undefined
        ? undefined
        : c.inclusive === true
          ? (v) => (v as number) <= (c.value as number)
          : (v) => (v as number) < (c.value as number);
    default:
      return undefined;
  }
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { schemaPredicate } from './schema-predicate.js';
import { DurationSchema, PlanSchema, TaskSchema } from './plan-schema.js';

/** Values near what the task fields accept and refuse: durations, ids, bounds, odd numbers, holes. */
const scalar = fc.oneof(
  fc.constantFrom('', 'a', 'build', 'x.y', '../up', 'a..b', '-a', 'z'.repeat(100), 'z'.repeat(101), ' 1h30m ', '90'),
  fc.constantFrom('45m', '1.5h', '250ms', '2d', 'soon', '1m x', 'P0', 'P5', 'cpu', 'required', 'plan'),
  fc.string(),
  fc.constantFrom(0, -0, 1, -1, 1.5, 20, 21, 100, 101, 2 ** 53, -(2 ** 53), NaN, Infinity, -Infinity),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
);
// eslint-disable-next-line no-sparse-arrays -- a hole, which zod reads as undefined
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.constant([, 'a']), fc.anything());

const fields = Object.entries(TaskSchema.shape as Record<string, z.ZodType>);

describe('schemaPredicate', () => {
  it('answers as zod does for every task field it reads', () => {
    const read = fields.flatMap(([key, schema]) => {
      const p = schemaPredicate(schema);
      return p === undefined ? [] : [{ key, schema, p }];
    });
    fc.assert(
      fc.property(value, (v) => {
        const differ = read.filter(({ schema, p }) => p(v) !== schema.safeParse(v).success).map(({ key }) => key);
        expect(differ).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the fields a large plan sets on every task (else validating one is slow again)', () => {
    const shape = TaskSchema.shape as Record<string, z.ZodType>;
    const read = ['id', 'title', 'run', 'prompt', 'needs', 'after', 'estimate', 'timeout', 'priority', 'retries']
      .concat(['gate', 'when', 'cwd', 'writes', 'inputs', 'outputs', 'executor', 'model', 'cache'])
      .filter((k) => schemaPredicate(shape[k] as z.ZodType) === undefined);
    expect(read).toEqual([]);
    expect(schemaPredicate(DurationSchema)?.('1h')).toBe(true);
  });

  it('gives no predicate for what it does not know, so zod checks it', () => {
    expect(schemaPredicate(z.string().refine((s) => s !== 'x'))).toBeUndefined();
    expect(schemaPredicate(z.number().multipleOf(2))).toBeUndefined();
    expect(schemaPredicate(z.string().transform((s) => s.length))).toBeUndefined();
    expect(schemaPredicate(z.coerce.number())).toBeUndefined();
    expect(schemaPredicate(z.string().regex(/a/g))).toBeUndefined();
    expect(schemaPredicate(z.array(z.object({})))).toBeUndefined();
    expect(schemaPredicate(PlanSchema)).toBeUndefined();
  });

  it('follows exclusive bounds and lengths', () => {
    const positive = schemaPredicate(z.number().positive().lt(10)) ?? (() => undefined);
    expect([0, 1, 9.5, 10].map(positive)).toEqual([false, true, true, false]);
    const short = schemaPredicate(z.array(z.string()).min(1).max(2)) ?? (() => undefined);
    expect([[], ['a'], ['a', 'b', 'c'], [1]].map(short)).toEqual([false, true, false, false]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePlan } from './plan-parse.js';
import { PlanSchema, TaskSchema } from './plan-schema.js';

/** Kinds of schema whose parse is not the value it was given: a fast path that keeps values would differ. */
const CHANGES_VALUE = new Set(['pipe', 'transform', 'default', 'prefault', 'catch', 'success']);

/** Every kind of schema inside `schema` that would make a parse return something else than its input. */
function valueChanging(schema: z.ZodType, path: string, out: string[]): void {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const child = (s: unknown, at: string): void => valueChanging(s as z.ZodType, at, out);
  if (CHANGES_VALUE.has(def.type)) out.push(`${path}: ${def.type}`);
  if (def.type === 'object') {
    // Not strict: the parse strips keys the schema does not name.
    if ((def.catchall as { _zod: { def: { type: string } } } | undefined)?._zod.def.type !== 'never')
      out.push(`${path}: object without .strict()`);
    for (const [k, s] of Object.entries(def.shape as Record<string, unknown>)) child(s, `${path}.${k}`);
  }
  if (def.type === 'optional' || def.type === 'nullable') child(def.innerType, path);
  if (def.type === 'array') child(def.element, `${path}[]`);
  if (def.type === 'record') child(def.valueType, `${path}{}`);
  if (def.type === 'union') (def.options as unknown[]).forEach((s, i) => child(s, `${path}|${i}`));
  if (def.type === 'lazy' || def.type === 'intersection' || def.type === 'tuple')
    out.push(`${path}: ${def.type} (teach this test to walk it)`);
}

const task = fc.record(
  {
    id: fc.constantFrom('a', 'b', 'build', 'x.y', '../up', '', 'z'.repeat(101)),
    title: fc.oneof(fc.string(), fc.integer()),
    run: fc.oneof(fc.constantFrom('make', ''), fc.array(fc.constantFrom('npm', 'test'), { maxLength: 2 })),
    needs: fc.oneof(fc.array(fc.constantFrom('a', 'b', 'build')), fc.constant('a')),
    estimate: fc.constantFrom('1m', '1h30m', 90, -1, 'soon'),
    retries: fc.integer({ min: -1, max: 101 }),
    backoff: fc.oneof(fc.record({ initial: fc.constantFrom('1s', 'x') }), fc.record({ factr: fc.constant(2) })),
    env: fc.dictionary(fc.constantFrom('A', 'B'), fc.oneof(fc.string(), fc.boolean(), fc.constant(null))),
    nedds: fc.constant(['a']),
  },
  { requiredKeys: [] },
);

describe('parsePlan', () => {
  it('meets a task schema whose parse gives back each value it was given (no transforms, defaults or stripping)', () => {
    const found: string[] = [];
    for (const [k, s] of Object.entries(TaskSchema.shape)) valueChanging(s, k, found);
    expect(found).toEqual([]);
    const wrong: string[] = [];
    const deep = z.object({ a: z.array(z.object({ b: z.string().default('x') }).strict()), c: z.object({}) }).strict();
    valueChanging(deep, 't', wrong);
    expect(wrong).toEqual(['t.a[].b: default', 't.c: object without .strict()']);
  });

  it('answers as PlanSchema.safeParse does, valid or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(task, fc.constant(null), fc.constant([])), { minLength: 0, maxLength: 5 }),
        (tasks) => {
          const raw = { name: 'p', tasks };
          const fast = parsePlan(raw);
          const schema = PlanSchema.safeParse(raw);
          expect(fast.success).toBe(schema.success);
          if (schema.success) expect(fast.data).toEqual(schema.data);
          else expect(fast.error?.issues).toEqual(schema.error.issues);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the tasks after the first as they were given, and checks the plan around them', () => {
    const tasks = [{ id: 'a' }, { id: 'b', needs: ['a'], run: 'make' }];
    const ok = parsePlan({ workers: 2, tasks });
    expect(ok.success).toBe(true);
    expect(ok.data?.tasks[1]).toBe(tasks[1]);
    expect(parsePlan({ workers: 0, tasks }).error?.issues[0]?.path).toEqual(['workers']);
    expect(parsePlan({ wokers: 2, tasks }).error?.issues[0]?.message).toContain('wokers');
    expect(parsePlan({ tasks: [{ id: 'a' }, { id: 'b', retries: -1 }] }).error?.issues[0]?.path).toEqual([
      'tasks',
      1,
      'retries',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { LimitsSchema, planJsonSchema } from './plan-schema.js';
import { parseSize } from './size.js';

/** The `limits.memory` string pattern as `weft schema` prints it (what editors check plan files with). */
function memoryPattern(): RegExp {
  const text = JSON.stringify(planJsonSchema());
  const found =
    /"memory":\{"description":"(?:[^"\\]|\\.)*","anyOf":\[\{"type":"string","pattern":("(?:[^"\\]|\\.)*")/.exec(text);
  if (found?.[1] === undefined) throw new Error('no limits.memory pattern in the JSON Schema');
  return new RegExp(JSON.parse(found[1]) as string);
}

describe('the plan JSON Schema agrees with validation', () => {
  it('limits.memory: the sizes validation takes, in any case, and no others', () => {
    const pattern = memoryPattern();
    for (const size of ['2GB', '2gb', '512MiB', '1.5gib', '100m', '100M', '4096', '8 KB'])
      expect([
        pattern.test(size),
        LimitsSchema.safeParse({ memory: size }).success,
        parseSize(size) !== undefined,
      ]).toEqual([true, true, true]);
    for (const size of ['2 gigs', '2GBs', 'lots', '-1GB'])
      expect([pattern.test(size), LimitsSchema.safeParse({ memory: size }).success]).toEqual([false, false]);
  });
});

import { describe, expect, it } from 'vitest';
import { checkNumbers, withDefaults } from './options.js';

describe('withDefaults', () => {
  it('fills what was left out or set to undefined, and keeps what was given (0 included)', () => {
    const defaults = { killGraceMs: 3000, tailBytes: 2000 };
    expect(withDefaults(defaults, {})).toEqual({ killGraceMs: 3000, tailBytes: 2000 });
    const given = { killGraceMs: undefined, tailBytes: 0 };
    expect(withDefaults(defaults, given)).toEqual({ killGraceMs: 3000, tailBytes: 0 });
    const env = { A: '1' };
    expect(withDefaults(defaults, { env })).toEqual({ killGraceMs: 3000, tailBytes: 2000, env });
  });
});

describe('checkNumbers', () => {
  const rules = { a: 'a positive integer', b: 'a non-negative integer', c: 'a positive number' } as const;

  it.each([
    [{ a: 0 }, 'Thing: expected `a` to be a positive integer, got `0`'],
    [{ a: 1.5 }, 'Thing: expected `a` to be a positive integer, got `1.5`'],
    [{ b: -1 }, 'Thing: expected `b` to be a non-negative integer, got `-1`'],
    [{ b: Number.NaN }, 'Thing: expected `b` to be a non-negative integer, got `NaN`'],
    [{ c: Number.POSITIVE_INFINITY }, 'Thing: expected `c` to be a positive number, got `Infinity`'],
    [{ c: '5' }, "Thing: expected `c` to be a positive number, got `'5'`"],
  ])('%o → a WeftError naming the field, what was expected and what came', (values, message) => {
    const error = expect.objectContaining({ name: 'WeftError', code: 'WEFT_USAGE', message });
    expect(() => checkNumbers('Thing', values, rules)).toThrow(error);
  });

  it('passes good values and skips fields left out; the code can be chosen', () => {
    expect(() => checkNumbers('Thing', { a: 1, b: 0, c: 0.5 }, rules)).not.toThrow();
    expect(() => checkNumbers('Thing', {}, rules)).not.toThrow();
    const store = expect.objectContaining({ code: 'WEFT_STORE' });
    expect(() => checkNumbers('Store', { a: 0 }, rules, 'WEFT_STORE')).toThrow(store);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance, typoDistance } from './suggest.js';

describe('editDistance', () => {
  it.each([
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['build', 'biuld', 2],
    ['needs', 'need', 1],
    ['same', 'same', 0],
  ])('%s → %s is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  it('is a metric bounded by the lengths', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 8 });
    fc.assert(
      fc.property(word, word, word, (a, b, c) => {
        const d = editDistance(a, b);
        expect(d).toBe(editDistance(b, a));
        expect(editDistance(a, a)).toBe(0);
        expect(d === 0).toBe(a === b);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
        expect(d).toBeLessThanOrEqual(editDistance(a, c) + editDistance(c, b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('typoDistance', () => {
  it.each([
    ['shpi', 'ship', 1],
    ['biuld', 'build', 1],
    ['ca', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['', 'ab', 2],
  ])('%s → %s is %d', (a, b, d) => {
    expect(typoDistance(a, b)).toBe(d);
  });

  it('is Levenshtein but for swaps: never more, and less by at most one a swap', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 7 });
    fc.assert(
      fc.property(word, word, (a, b) => {
        const d = typoDistance(a, b);
        expect(d).toBe(typoDistance(b, a));
        expect(d).toBeLessThanOrEqual(editDistance(a, b));
        expect(d).toBeGreaterThanOrEqual(Math.ceil(editDistance(a, b) / 2));
        expect(d === 0).toBe(a === b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('closest', () => {
  it('takes two swapped letters for one typo', () => {
    expect(closest('shpi', ['ship', 'test'])).toBe('ship');
    expect(closest('nedes', ['needs'])).toBe('needs');
  });

  it('suggests the nearest candidate, ignoring case', () => {
    expect(closest('biuld', ['test', 'build', 'deploy'])).toBe('build');
    expect(closest('BUILD', ['build'])).toBe('build');
    expect(
      closest(
        'claud',
        new Map([
          ['shell', 1],
          ['claude', 2],
        ]).keys(),
      ),
    ).toBe('claude');
  });

  it('keeps quiet when nothing is close', () => {
    expect(closest('terraform', ['shell', 'claude'])).toBeUndefined();
    expect(closest('x', [])).toBeUndefined();
  });

  it('takes a typo for a typo, but not a rewrite of a short word', () => {
    expect(closest('need', ['needs'])).toBe('needs');
    expect(closest('retires', ['retries'])).toBe('retries');
    expect(closest('deployment', ['deploy'])).toBe('deploy');
    expect(closest('b', ['a'])).toBeUndefined();
    expect(closest('ab', ['xy'])).toBeUndefined();
    expect(closest('deployment', ['dep'])).toBeUndefined();
  });

  it('prefers the first of equally close candidates', () => {
    expect(closest('cat', ['bat', 'hat'])).toBe('bat');
  });
});

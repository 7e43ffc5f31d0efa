import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['45m', 2_700_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['250ms', 250],
    ['2d', 172_800_000],
    ['1.5h', 5_400_000],
    ['4m05s', 245_000],
    [' 1h 30m ', 5_400_000],
    ['0ms', 0],
    ['90', 90_000],
    ['0.25', 250],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads a bare number as seconds', () => {
    expect(parseDuration(1.5)).toBe(1500);
    expect(parseDuration(0)).toBe(0);
  });

  it.each(['', 'abc', '-5s', '5 minutes', '1h30', 'm', '1w', '1.s', 'ms', '1m1m', '30m1h', '5s1m', '1ms1s', '5 m'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('answers a text it has seen the same as the first time, also once it has forgotten some', () => {
    const texts = ['45m', '1h 30m', 'abc', '', '2h', '1.5h', '-5s', 'x'.repeat(40), '90'];
    const first = texts.map(parseDuration);
    expect(first).toEqual([
      2_700_000,
      5_400_000,
      undefined,
      undefined,
      7_200_000,
      5_400_000,
      undefined,
      undefined,
      90_000,
    ]);
    expect(texts.map(parseDuration)).toEqual(first);
    // More texts than it remembers: it starts over, and still answers the same.
    for (let s = 0; s < 3000; s++) expect(parseDuration(`${s}s`)).toBe(s * 1000);
    expect(texts.map(parseDuration)).toEqual(first);
  });

  it('rejects numbers that are not a duration', () => {
    for (const n of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(parseDuration(n)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [1_234, '1.23s'],
    [12_345, '12.3s'],
    [245_000, '4m05s'],
    [3_599_000, '59m59s'],
    [8_100_000, '2h15m'],
    [-1_500, '-1.50s'],
    [Number.POSITIVE_INFINITY, '∞'],
  ])('shows %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('prints what parseDuration reads back, within the precision it shows', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 30 * 86_400_000, noNaN: true }), (ms) => {
        const back = parseDuration(formatDuration(ms));
        // The shown precision: 1 ms, 10 ms below 10 s, 100 ms below a minute, 1 s below an hour, then 1 min.
        const precision = ms < 1000 ? 1 : ms < 10_000 ? 10 : ms < 60_000 ? 100 : ms < 3_600_000 ? 1000 : 60_000;
        expect(back).toBeDefined();
        expect(Math.abs((back as number) - ms)).toBeLessThanOrEqual(precision / 2 + 1e-6);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips its own output exactly', () => {
    const text = fc.oneof(
      fc.integer({ min: 0, max: 999 }).map((ms) => `${ms}ms`),
      fc
        .tuple(fc.integer({ min: 1, max: 59 }), fc.integer({ min: 0, max: 59 }))
        .map(([m, s]) => `${m}m${String(s).padStart(2, '0')}s`),
      fc
        .tuple(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `${h}h${String(m).padStart(2, '0')}m`),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(formatDuration(parseDuration(t) as number)).toBe(t);
      }),
      { numRuns: 1000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { collectVar, parseAttempt, parsePort, parseSweep, parseWorkers, wholeNumber } from './options.js';

describe('number flags take decimal digits only', () => {
  it('-j, --attempt, --port and the whole-number flags refuse 1e3, 0x3, " 3", 1.5 and 3abc (exit 2)', () => {
    expect([parseWorkers('8'), parseAttempt('2'), parsePort('0'), wholeNumber('--concurrency', 1, 10)('10')]).toEqual([
      8, 2, 0, 10,
    ]);
    for (const bad of ['1e3', '0x3', ' 3', '1.5', '3abc', '', '-1'])
      for (const parse of [parseWorkers, parseAttempt, parsePort, wholeNumber('--concurrency', 1, 10_000)])
        expect(() => parse(bad), `${parse.name} ${JSON.stringify(bad)}`).toThrow(/expects/);
    expect(() => parseWorkers('1025')).toThrow('-j expects a whole number of workers from 1 to 1024, got "1025"');
  });
});

describe('--sweep', () => {
  it('takes low-high worker counts within 1-1024 and refuses the rest, saying what it wants', () => {
    expect([parseSweep('1-16'), parseSweep('4-4'), parseSweep('1-1024')]).toEqual([
      [1, 16],
      [4, 4],
      [1, 1024],
    ]);
    for (const bad of ['6-1', '0-4', '1-1025', '1-16x', '3', '1..4', '-1-4', ''])
      expect(() => parseSweep(bad), bad).toThrow(
        `--sweep expects a range of worker counts like 1-16, low to high, within 1-1024, got "${bad}"`,
      );
  });
});

describe('--set', () => {
  it('collects name=value pairs, and a pair without a name or = says how to write it', () => {
    expect(collectVar('b=2', collectVar('a=x=y'))).toEqual({ a: 'x=y', b: '2' });
    expect(() => collectVar('noeq')).toThrow(
      expect.objectContaining({
        code: 'WEFT_USAGE',
        message: '--set expects name=value, got "noeq"',
        hint: 'write --set noeq=<value>, one --set per variable',
      }),
    );
    expect(() => collectVar('=3')).toThrow(
      expect.objectContaining({ hint: 'write --set <name>=<value>, one --set per variable' }),
    );
  });
});

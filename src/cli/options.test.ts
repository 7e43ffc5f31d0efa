import { describe, expect, it } from 'vitest';
import { parseAttempt, parsePort, parseWorkers, wholeNumber } from './options.js';

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

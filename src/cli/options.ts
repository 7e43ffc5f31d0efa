import { WeftError } from '../core/errors.js';

/** The number a flag's value writes in decimal digits, else NaN: `1e3`, `0x3` and ` 3` are no worker counts. */
const digits = (value: string): number => (/^\d+$/.test(value) ? Number(value) : NaN);

/** Parses `-j 4`: a positive whole number. */
export function parseWorkers(value: string): number {
  const n = digits(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new WeftError('WEFT_USAGE', `-j expects a whole number of workers from 1 to 1024, got "${value}"`, {
      hint: '-j takes how many tasks run at once, in digits, e.g. -j 4',
    });
  return n;
}

/** Parses `--attempt <n>`: attempts are numbered from 1. */
export function parseAttempt(value: string): number {
  const n = digits(value);
  if (!Number.isInteger(n) || n < 1)
    throw new WeftError('WEFT_USAGE', `--attempt expects an attempt number from 1, got "${value}"`, {
      hint: 'attempts are numbered 1, 2, … e.g. --attempt 2; leave --attempt out for the latest',
    });
  return n;
}

/** Parses `--sweep 1-16` into [1, 16]. */
export function parseSweep(value: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(value.trim());
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  if (m === null || lo < 1 || hi < lo || hi > 1024)
    throw new WeftError(
      'WEFT_USAGE',
      `--sweep expects a range of worker counts like 1-16, low to high, within 1-1024, got "${value}"`,
      { hint: 'write low-high, e.g. --sweep 1-16 to try every worker count from 1 to 16' },
    );
  return [lo, hi];
}

/** Collects `--set name=value` pairs. */
export function collectVar(pair: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = pair.indexOf('=');
  if (at <= 0)
    throw new WeftError('WEFT_USAGE', `--set expects name=value, got "${pair}"`, {
      hint: `write --set ${at === 0 ? '<name>' : pair}=<value>, one --set per variable`,
    });
  return { ...previous, [pair.slice(0, at)]: pair.slice(at + 1) };
}

/**
 * A parser for a flag taking a whole number from `min` to `max`, naming the flag when the value is
 * not one, and `example` (default `min`) in the fix.
 */
export function wholeNumber(flag: string, min: number, max: number, example = min): (value: string) => number {
  return (value) => {
    const n = digits(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new WeftError('WEFT_USAGE', `${flag} expects a whole number from ${min} to ${max}, got "${value}"`, {
        hint: `${flag} takes digits only, e.g. ${flag} ${example}`,
      });
    return n;
  };
}

/** Parses `--port 8080`: 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const n = digits(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new WeftError('WEFT_USAGE', `--port expects a port number from 0 to 65535, got "${value}"`, {
      hint: 'e.g. --port 8080, or --port 0 for any free port',
    });
  return n;
}

/** A run id as `weft serve` hands it to the run it starts: letters, digits, `-`, `_`, `.`. */
export function parseRunId(value: string): string {
  if (!/^[\w.-]{1,80}$/.test(value) || value.includes('..'))
    throw new WeftError('WEFT_USAGE', `--run-id expects letters, digits, '-', '_' or '.', got "${value}"`, {
      hint: "at most 80 of them, with no '..', e.g. --run-id nightly-1; leave --run-id out for a new id",
    });
  return value;
}

import { WeftError, type WeftErrorCode } from './errors.js';

/** What a numeric option must be. */
export type NumberRule = 'a positive integer' | 'a non-negative integer' | 'a positive number';

const RULES: Readonly<Record<NumberRule, (value: unknown) => boolean>> = {
  'a positive integer': (v) => Number.isInteger(v) && (v as number) > 0,
  'a non-negative integer': (v) => Number.isInteger(v) && (v as number) >= 0,
  'a positive number': (v) => typeof v === 'number' && Number.isFinite(v) && v > 0,
};

/**
 * `options` over `defaults`: a field the caller left out (or set to `undefined`) takes the default.
 *
 * @example
 * const o = withDefaults({ killGraceMs: 3000 }, { killGraceMs: undefined }); // { killGraceMs: 3000 }
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): Omit<O, keyof D> & D {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as Omit<O, keyof D> & D;
}

/**
 * Checks numeric options on entry, the first bad one throwing a {@link WeftError} that names the
 * owner and the field, says what was expected and what came:
 * ``ShellExecutor: expected `killGraceMs` to be a non-negative integer, got `-1` ``. A field that
 * is `undefined` is not checked: fill defaults first ({@link withDefaults}) where there are some.
 *
 * @param code the error's code. @default 'WEFT_USAGE'
 */
export function checkNumbers<T extends object>(
  owner: string,
  values: T,
  rules: Readonly<Partial<Record<keyof T & string, NumberRule>>>,
  code: WeftErrorCode = 'WEFT_USAGE',
): void {
  for (const [field, rule] of Object.entries(rules) as [keyof T & string, NumberRule][]) {
    const value = values[field];
    if (value !== undefined && !RULES[rule](value)) {
      const shown = typeof value === 'string' ? `'${value}'` : String(value);
      throw new WeftError(code, `${owner}: expected \`${field}\` to be ${rule}, got \`${shown}\``);
    }
  }
}

/**
 * Checks one option on entry: when `ok` is false, throws a `WEFT_USAGE` {@link WeftError} that names
 * the owner and the field, says what was expected and what came:
 * ``runPlan: Expected `signal` to be an AbortSignal, got `stop` ``.
 * @param passedTo what the hint says the option was passed to. @default owner
 */
export function checkOption(
  owner: string,
  ok: boolean,
  field: string,
  expected: string,
  got: unknown,
  passedTo = owner,
): asserts ok {
  if (ok) return;
  const message = `${owner}: Expected \`${field}\` to be ${expected}, got \`${shown(got)}\``;
  throw new WeftError('WEFT_USAGE', message, { hint: `fix the \`${field}\` option passed to ${passedTo}` });
}

function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value instanceof Map) return 'a Map';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

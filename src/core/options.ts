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

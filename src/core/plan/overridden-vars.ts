import type { RawIssue } from './schema-issues.js';
import { closest } from '../suggest.js';

type VarValue = string | number | boolean;

/**
 * Where the overrides came from: `weft run --set` (`flags`), or the `vars` of an HTTP request or MCP
 * call (`request`), whose messages name no flag.
 */
export type VarsFrom = 'flags' | 'request';

const FLAGS = {
  name: (name: string) => `--set ${name}: `,
  value: (name: string, value: string) => `--set ${name}=${value}: `,
  example: (name: string, a: string, b?: string) =>
    b === undefined ? `e.g. --set ${name}=${a}` : `--set ${name}=${a} or --set ${name}=${b}`,
};
const REQUEST: typeof FLAGS = {
  name: () => '',
  value: (_name, value) => `${JSON.stringify(value)}: `,
  example: (name, a, b) => (b === undefined ? `e.g. vars: {"${name}": ${a}}` : `give vars.${name} ${a} or ${b}`),
};

/**
 * A number as typed for a number variable: decimal digits, a sign, a fraction, an exponent (`16`,
 * `-2.5`, `1e3`). `Number()` would also take `0x10` as 16, `0b11` as 3 and `" 5"` as 5 — a typo more
 * often than a meaning, and none of them what the plan's own YAML (`0b11` is a string there) reads alike.
 */
export const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The plan's `vars` with `--set` values over them. A value typed on the command line takes the type
 * of the one it replaces — `--set deploy=no` on `deploy: false` is an error, not the truthy string
 * "no" — and a name the plan does not declare is an error, not a silent no-op.
 */
export function overriddenVars(
  declared: Readonly<Record<string, VarValue>>,
  overrides: Readonly<Record<string, VarValue>>,
  issues: RawIssue[],
  from: VarsFrom = 'flags',
): Record<string, VarValue> {
  const say = from === 'flags' ? FLAGS : REQUEST;
  const vars: Record<string, VarValue> = { ...declared };
  const names = Object.keys(declared);
  for (const [name, value] of Object.entries(overrides)) {
    // Own names only: `--set __proto__=1` names no variable, whatever Object.prototype holds.
    const was = Object.hasOwn(declared, name) ? declared[name] : undefined;
    const at = { path: was === undefined ? ['vars'] : ['vars', name], field: `vars.${name}` };
    if (was === undefined) {
      const hint = closest(name, names);
      issues.push({
        ...at,
        message: `${say.name(name)}the plan has no variable "${name}"`,
        fix:
          hint !== undefined
            ? `did you mean "${hint}"?`
            : names.length > 0
              ? `its variables: ${names.join(', ')}`
              : `declare it under vars: {${name}: …}`,
      });
    } else if (typeof value !== 'string') vars[name] = value;
    else {
      const typed = typedValue(value, was);
      if ('value' in typed) vars[name] = typed.value;
      else
        issues.push({
          ...at,
          message: `${say.value(name, value)}expected ${typed.expected}`,
          fix: say.example(name, ...typed.e),
        });
    }
  }
  return vars;
}

/**
 * A value typed for a variable (`--set name=value`, for `weft run` and `weft init` alike), typed
 * like the one it replaces: `true`/`false` for a boolean (any case; `yes` or `1` is refused, not
 * read as true), decimal digits for a number; or what was expected, with examples.
 */
export function typedValue(
  raw: string,
  was: VarValue,
): { value: VarValue } | { expected: string; e: [string, string?] } {
  if (typeof was === 'string') return { value: raw };
  if (typeof was === 'boolean')
    return /^(true|false)$/i.test(raw)
      ? { value: raw.toLowerCase() === 'true' }
      : { expected: 'true or false', e: ['true', 'false'] };
  return DECIMAL_NUMBER.test(raw) && Number.isFinite(Number(raw))
    ? { value: Number(raw) }
    : { expected: 'a decimal number', e: [String(was)] };
}

/** How a `--set` flag with a value of the wrong type is refused: `--set deploy=no: expected true or false`. */
export function wrongFlagValue(name: string, raw: string, typed: { expected: string; e: [string, string?] }) {
  return { message: `${FLAGS.value(name, raw)}expected ${typed.expected}`, fix: FLAGS.example(name, ...typed.e) };
}

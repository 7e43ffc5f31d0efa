import type { TaskResultData } from './run/events.js';

/**
 * Masks known secret values (API keys, tokens) in text. `secrets` says what it masks, longest
 * first, so that a file can be scanned in chunks for them (see executors/process/scrub-file.ts).
 */
export interface Redactor {
  (text: string): string;
  /** The values it masks, longest first. */
  readonly secrets: readonly string[];
}

/** A name that looks secret (`API_KEY`, `db_password`, `GITHUB_TOKEN`): its value is masked. */
export const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/** Values shorter than this are not masked: they would mask ordinary words. */
export const MIN_SECRET_LENGTH = 6;
/** What a redactor puts in place of a secret. */
export const SECRET_MASK = '***';

/** A redactor for these values (duplicates and values under {@link MIN_SECRET_LENGTH} are dropped). */
export function redactorOf(values: Iterable<string>): Redactor {
  const secrets = [...new Set(values)].filter((v) => v.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  const redact =
    secrets.length === 0
      ? (text: string) => text
      : (text: string) => secrets.reduce((t, s) => (t.includes(s) ? t.split(s).join(SECRET_MASK) : t), text);
  return Object.assign(redact, { secrets });
}

/**
 * A copy of a JSON-like value (a plan, a run's options) with `redact` applied to every string in
 * it; keys are kept. What a plan holds literally (an API key in a `run` line, a password in `env`)
 * must not reach the journal, `plan.json` or the `--json` stream.
 */
export function redactValue<T>(value: T, redact: (text: string) => string): T {
  if ((redact as Partial<Redactor>).secrets?.length === 0) return value; // nothing to mask: no copy
  return masked(value, redact);
}

function masked<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  // A password written as a number in YAML (`DB_PASSWORD: 98765432`) reaches the task as its digits: masked like them.
  if (typeof value === 'number') {
    const digits = String(value);
    const shown = redact(digits);
    return (shown === digits ? value : shown) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => masked(v, redact)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, redact)])) as T;
}

/** A task's result with what the task writes freely masked: its text, and every string of its output. */
export function redactResult(result: TaskResultData, redact: (text: string) => string): TaskResultData {
  const none = (redact as Partial<Redactor>).secrets?.length === 0;
  if (none || (result.text === undefined && result.output === undefined && result.flaky === undefined)) return result;
  return {
    ...result,
    ...(result.text === undefined ? {} : { text: redact(result.text) }),
    ...(result.flaky === undefined ? {} : { flaky: redact(result.flaky) }),
    ...(result.output === undefined ? {} : { output: redactValue(result.output, redact) }),
  };
}

import { execa } from 'execa';
import { checkNumbers, withDefaults } from '../core/options.js';

/** A merge check that did not pass: which command, how it ended, the end of what it printed. */
export interface CheckFailure {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly timedOut: boolean;
  readonly outputTail: string;
}

/** The values of {@link RunChecksOptions} left out. */
export const RUN_CHECKS_DEFAULTS = { timeoutMs: 600_000, tailChars: 4000 } as const;

/** Options of {@link runChecks}; numbers are checked on entry. */
export interface RunChecksOptions {
  /** Folder the checks run in. */
  readonly cwd: string;
  /** How long one check may run. @default 600000 (10 minutes) */
  readonly timeoutMs?: number;
  /** Extra environment (on top of `process.env`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Characters of a failed check's output kept for the fix prompt. @default 4000 */
  readonly tailChars?: number;
}

/**
 * Runs the checks one after another (argv, no shell) and stops at the first that fails.
 * @returns `undefined` when all passed.
 */
export async function runChecks(
  checks: readonly (readonly string[])[],
  given: RunChecksOptions,
): Promise<CheckFailure | undefined> {
  const options = withDefaults(RUN_CHECKS_DEFAULTS, given);
  checkNumbers('runChecks', options, { timeoutMs: 'a positive integer', tailChars: 'a non-negative integer' });
  for (const argv of checks) {
    const [file, ...args] = argv;
    if (file === undefined) continue;
    const r = await execa(file, args, {
      cwd: options.cwd,
      env: { ...options.env },
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: options.timeoutMs,
      forceKillAfterDelay: 3000,
    });
    if (r.exitCode === 0 && !r.failed) continue;
    const all = String(r.all ?? '').trimEnd();
    const output = r.exitCode === undefined && !r.timedOut ? `${all}\n${r.shortMessage}`.trim() : all;
    const max = options.tailChars;
    return {
      argv,
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      outputTail: output.length > max ? `…${output.slice(-max)}` : output,
    };
  }
  return undefined;
}

/** A check as the user wrote it, for messages: `npm test`, `node -e "…"`. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

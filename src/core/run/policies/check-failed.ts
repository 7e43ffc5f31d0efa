import type { TaskFailure } from '../../errors.js';
import { DEFAULT_FIX_ATTEMPTS, fixAttemptsText } from './attempt-ended.js';

/** How a check did on one tree: it passed, it failed, or it could not be run there. */
export type Verdict = 'passes' | 'fails' | 'unknown';

/** A task a check verifies, as the check-failed policy sees it. */
export interface Verified {
  readonly id: string;
  /** Fixes routed back to it so far. */
  readonly fixes: number;
  /** Its `fixAttempts`, if set. */
  readonly fixAttempts: number | undefined;
}

/** A check that failed on the tree holding every task it verifies. */
export interface FailedCheck {
  readonly check: string;
  readonly verified: readonly Verified[];
  /** How the check did on the tree before them plus each one's merges alone (blame); may be empty. */
  readonly alone: ReadonlyMap<string, Verdict>;
  /** The end of what the check printed, for the feedback and the reason. */
  readonly output: string;
  /** The run's integration branch, for the feedback. */
  readonly branch: string;
}

/** What a failed check leads to: fixes routed to the culprits, or the end of trying. */
export type CheckDecision =
  | {
      readonly kind: 'route';
      /** The tasks that get the failure back, in the order given. */
      readonly to: readonly string[];
      /** One line for the journal, the live lines and the report: `check build: broken by backend; frontend passes on its own`. */
      readonly summary: string;
      /** What each of them is told. */
      readonly feedback: string;
    }
  | {
      readonly kind: 'fail';
      readonly summary: string;
      /** The reason the check and the culprits fail with; it holds the check's output. */
      readonly reason: string;
      /** The culprits whose fixes ran out: they fail too. */
      readonly culprits: readonly string[];
    };

/**
 * Which of the verified tasks to run the check with on their own before routing a failure:
 * every one of them when there are two or more and the workspace can make such trees; none for one
 * (it is the culprit).
 */
export function blameTrials(verified: readonly string[], canCheckAlone: boolean): readonly string[] {
  return canCheckAlone && verified.length > 1 ? verified : [];
}

/**
 * Whom a failed check goes back to. The culprits are the tasks that break it on their own; when
 * none does (only their combination breaks it, or blame could not be run), all of them are told.
 * A culprit whose `fixAttempts` are used up ends the trying: the check and the culprits fail with
 * the check's output in the reason.
 *
 * @example
 * checkFailed({ check: 'build', verified: [backend, frontend], alone: new Map([['backend', 'fails'], ['frontend', 'passes']]), … })
 * // → { kind: 'route', to: ['backend'], summary: 'check build: broken by backend; frontend passes on its own', … }
 */
export function checkFailed(f: FailedCheck): CheckDecision {
  const ids = f.verified.map((v) => v.id);
  const broke = ids.filter((id) => f.alone.get(id) === 'fails');
  const passed = ids.filter((id) => f.alone.get(id) === 'passes');
  const combination = broke.length === 0 && passed.length === ids.length && ids.length > 1;
  const to = broke.length > 0 ? broke : ids;
  const summary = summaryOf(f.check, ids, broke, passed, combination);
  const spent = f.verified.filter((v) => to.includes(v.id) && v.fixes >= (v.fixAttempts ?? DEFAULT_FIX_ATTEMPTS));
  const tail = f.output === '' ? '(no output)' : f.output;
  if (spent.length > 0) {
    const allowed = spent
      .map((v) => `${v.id} after ${fixAttemptsText(v.fixAttempts ?? DEFAULT_FIX_ATTEMPTS)}`)
      .join(', ');
    return { kind: 'fail', summary, culprits: to, reason: `${summary} (${allowed}); its output:\n${tail}` };
  }
  const why = combination
    ? `Each of ${list(ids)} passes it on its own; together they break it, so all of you are told.`
    : broke.length === 0 && ids.length > 1
      ? 'Which of you broke it could not be told, so all of you are told.'
      : passed.length > 0
        ? `It fails with your work alone on the tree before them, while ${list(passed)} pass${passed.length === 1 ? 'es' : ''} on its own.`
        : '';
  const feedback = [
    `The check "${f.check}", which verifies ${list(ids)}, failed on the merged result in ${f.branch}. ${summary}.`,
    why,
    'Your fix attempt continues in your worktree with the merged result brought in. Make the check pass; weft merges your fix and runs the check again.',
    '',
    `Output of the check "${f.check}" (end):`,
    tail,
  ]
    .filter((line, k) => k !== 1 || line !== '')
    .join('\n');
  return { kind: 'route', to, summary, feedback };
}

/**
 * The verdict in one line. "broken by" names only tasks shown to break the check on their own (or
 * the one task it verifies); when none was, and some could not be checked alone (blame could not
 * run: a repository with no commit, a tree that could not be made), it says so rather than
 * blaming every task.
 */
function summaryOf(
  check: string,
  ids: readonly string[],
  broke: readonly string[],
  passed: readonly string[],
  combination: boolean,
): string {
  if (combination) return `check ${check}: broken only by ${list(ids)} together; each passes on its own`;
  const own = (n: number): string => (n === 1 ? 'its' : 'their');
  const passes =
    passed.length === 0 ? '' : `; ${list(passed)} pass${passed.length === 1 ? 'es' : ''} on ${own(passed.length)} own`;
  if (broke.length > 0 || ids.length === 1)
    return `check ${check}: broken by ${list(broke.length > 0 ? broke : ids)}${passes}`;
  const unknown = ids.filter((id) => !passed.includes(id));
  return `check ${check}: failed; ${list(unknown)} could not be checked on ${own(unknown.length)} own${passes}, so ${list(ids)} are told`;
}

/**
 * How a flaky check's failed run ended, in one line for the result, the live lines and the report:
 * its message and the last line it wrote. A check that fails on a tree and passes when run again on
 * the same tree is flaky: its failure says nothing about the tasks it verifies, so none is told.
 *
 * @example
 * flakyLine({ message: 'exited with code 1 after 0.2s', stderrTail: 'connecting…\nFLAKE: connection reset' })
 * // → 'exited with code 1 after 0.2s: FLAKE: connection reset'
 */
export function flakyLine(failure: TaskFailure): string {
  const last = (failure.stderrTail ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .at(-1);
  const message = failure.message.split('\n')[0] ?? '';
  return (last === undefined || message.includes(last) ? message : `${message}: ${last}`).slice(0, 300);
}

/** The verdict line of a flaky check, as the report's checks and the live line say it. */
export function flakySummary(check: string, flaky: string): string {
  return `check ${check}: flaky — failed (${flaky}), then passed when run again on the same tree; no task is told`;
}

/**
 * What a failed check does while the tasks it blamed fix their work, as the live line says it.
 * @example waitsForFixes(['backend']) // → 'waits for the fix of backend'
 */
export function waitsForFixes(culprits: readonly string[]): string {
  return `waits for the fix${culprits.length === 1 ? '' : 'es'} of ${list(culprits)}`;
}

function list(ids: readonly string[]): string {
  return ids.length <= 1 ? (ids[0] ?? '') : `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`;
}

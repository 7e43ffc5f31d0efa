import type { TaskFailure } from '../errors.js';
import type { Executor, TaskOutcome } from '../ports/executor.js';
import type { CheckAt, Workspace } from '../ports/workspace.js';
import type { ResolvedTask } from '../plan/graph.js';
import { AttemptContext, type AttemptHost, type Running } from './attempt.js';
import { blameTrials, checkFailed, flakyLine, type Verdict } from './policies/check-failed.js';

/** What a check's attempt needs from its run beyond an ordinary attempt's (see check-routing.ts). */
export interface CheckRoutes {
  /** Verdicts of checks by `<check>\0<tree>`: a check never runs twice on the same tree. */
  readonly checkVerdicts: Map<string, TaskOutcome>;
  /** Fixes routed back to task `i` so far. */
  fixesOf(i: number): number;
  /**
   * Records that the check's attempt failed with `error` (the blame) and waits for the fixes of
   * `culprits`, and numbers its next attempt (on the same worker); returns that number.
   */
  againCheck(i: number, worker: number, slot: Running, error: TaskFailure, culprits: readonly string[]): number;
  /**
   * Records that the check's next attempt starts: once the fixes it waited for have run, so the
   * journal (and the live lines) say the fix, then the check again — not the check, then the fix.
   */
  startAgain(i: number, worker: number, slot: Running): void;
  /**
   * Runs a fix of verified task `i` with `feedback` as an attempt of its own (journaled, merged
   * like any), on the check's worker, aborted with the check.
   */
  fixVerified(i: number, worker: number, check: Running, feedback: string, error: TaskFailure): Promise<TaskOutcome>;
  /** Records that verified task `i` fails with `reason` (its fixes for a check ran out). */
  failVerified(i: number, reason: string): void;
}

/** What the check printed: the end of its stdout and stderr, and why it failed. */
function outputOf(outcome: TaskOutcome): string {
  if (outcome.ok) return '';
  const parts = [outcome.result?.text, outcome.failure.stderrTail, outcome.failure.message].filter(
    (s): s is string => s !== undefined && s !== '',
  );
  return parts.join('\n').slice(-4000);
}

/**
 * One attempt of a check (a task with `verifies`) as the engine sees it: the check runs on the
 * integration branch at the commit that holds what it verifies (a worktree of it, never the
 * user's checkout). When it fails, it runs once more on the same tree: a failure that does not
 * repeat is flaky — the check passes, its result says so (`flaky`), and no task is told. A failure
 * that repeats goes to the tasks that broke it (each one's merges alone, see
 * `policies/check-failed.ts`), which get the check's output back as a fix (journaled as their own
 * attempts, merged), and the check runs again — until it passes or their `fixAttempts` run out.
 */
export async function runCheckAttempt(
  host: AttemptHost,
  routes: CheckRoutes,
  i: number,
  worker: number,
  slot: Running,
  executor: Executor,
): Promise<TaskOutcome> {
  const check = host.graph.tasks[i] as ResolvedTask;
  const verified = (check.verifies ?? [])
    .map((id) => host.graph.index.get(id))
    .filter((v): v is number => v !== undefined);
  const ids = verified.map((v) => (host.graph.tasks[v] as ResolvedTask).id);
  const workspace = host.options.workspace;
  const canCheckAlone = workspace?.checkout !== undefined;
  for (;;) {
    const tip = await checkOn(host, routes, i, worker, slot, executor, { kind: 'tip' });
    const outcome = tip.outcome;
    if (outcome.ok || slot.aborted !== undefined || outcome.failure.transient === true || verified.length === 0)
      return outcome;
    if (!tip.known) {
      // A failure counts once it repeats on the same tree (`<attempt>.again`): one that does not
      // says nothing about the tasks verified, and routing it would fail an innocent one.
      const again = await checkOn(host, routes, i, worker, slot, executor, { kind: 'tip' }, 'again');
      if (slot.aborted !== undefined) return outcome;
      if (again.outcome.ok)
        return again.tree === tip.tree
          ? { ...again.outcome, result: { ...again.outcome.result, flaky: flakyLine(outcome.failure) } }
          : again.outcome; // the tip moved on (unrelated work merged): its verdict is that tree's
      if (again.outcome.failure.transient === true) return again.outcome;
    }
    const alone = new Map<string, Verdict>();
    for (const id of blameTrials(ids, canCheckAlone)) {
      const at: CheckAt = { kind: 'alone', task: id, among: ids };
      const run = (name: string) => checkOn(host, routes, i, worker, slot, executor, at, name).catch(() => undefined);
      let trial = await run(`alone-${id}`);
      if (slot.aborted !== undefined) return outcome;
      // A trial's failure blames the task once it repeats on the same tree, as the check's own
      // failure counts (`<attempt>.alone-<task>.again`): a flaky one must not send an innocent task a fix.
      if (trial?.known === false && !trial.outcome.ok && trial.outcome.failure.transient !== true) {
        trial = await run(`alone-${id}.again`);
        if (slot.aborted !== undefined) return outcome;
      }
      alone.set(id, trial === undefined ? 'unknown' : trial.outcome.ok ? 'passes' : 'fails');
    }
    const d = checkFailed({
      check: check.id,
      verified: verified.map((v) => ({
        id: (host.graph.tasks[v] as ResolvedTask).id,
        fixes: routes.fixesOf(v),
        fixAttempts: (host.graph.tasks[v] as ResolvedTask).fixAttempts,
      })),
      alone,
      output: outputOf(outcome),
      branch: workspace?.resultBranch ?? `weft/${host.options.runId}`,
    });
    if (d.kind === 'fail') {
      for (const id of d.culprits) routes.failVerified(host.graph.index.get(id) as number, d.reason);
      const failure = outcome.ok ? {} : outcome.failure;
      return {
        ...outcome,
        ok: false,
        failure: { ...failure, message: d.reason, code: 'WEFT_CHECK_FAILED' },
      } as TaskOutcome;
    }
    const error: TaskFailure = { message: d.summary, code: 'WEFT_CHECK_FAILED' };
    routes.againCheck(i, worker, slot, error, d.to);
    for (const id of d.to) {
      await routes.fixVerified(host.graph.index.get(id) as number, worker, slot, d.feedback, error);
      if (slot.aborted !== undefined)
        return { ok: false, failure: { message: 'cancelled while a fix ran', code: 'WEFT_CHECK_FAILED' } };
    }
    routes.startAgain(i, worker, slot);
  }
}

/** A check's verdict on one tree: `known` when it was kept from an earlier run on that tree. */
interface Checked {
  readonly outcome: TaskOutcome;
  /** The tree it ran on; none without a workspace that makes checkouts. */
  readonly tree?: string;
  readonly known: boolean;
}

/**
 * Runs the check once on the tree `at` names (or where the task works, without a workspace that
 * can). `trial` names a run beyond the attempt's first (see TaskContext.trial); one that runs
 * `again` (`again`, `alone-<task>.again`) runs even where a verdict is kept, and its verdict replaces it.
 */
async function checkOn(
  host: AttemptHost,
  routes: CheckRoutes,
  i: number,
  worker: number,
  slot: Running,
  executor: Executor,
  at: CheckAt,
  trial?: string,
): Promise<Checked> {
  const check = host.graph.tasks[i] as ResolvedTask;
  const workspace: Workspace | undefined = host.options.workspace;
  if (workspace?.checkout === undefined) {
    const workdir = host.options.workdirFor?.(check) ?? host.options.baseDir;
    const outcome = await executor.run(new AttemptContext(host, i, slot, check, worker, workdir, undefined, trial));
    return { outcome, known: false };
  }
  const checkout = await workspace.checkout(check, at);
  try {
    const key = `${check.id}\0${checkout.tree}`;
    const known = trial === 'again' || trial?.endsWith('.again') === true ? undefined : routes.checkVerdicts.get(key);
    if (known !== undefined) return { outcome: known, tree: checkout.tree, known: true };
    const ran = await executor.run(new AttemptContext(host, i, slot, check, worker, checkout.dir, undefined, trial));
    // The summary's "where it ran" names a check's place as it names a task's.
    const where = checkout.where;
    const outcome = ran.ok && where !== undefined ? { ...ran, result: { ...ran.result, where } } : ran;
    if (slot.aborted === undefined && (outcome.ok || outcome.failure.transient !== true))
      routes.checkVerdicts.set(key, outcome);
    return { outcome, tree: checkout.tree, known: false };
  } finally {
    await checkout.release();
  }
}

import { join } from 'node:path';
import { WeftError } from '../core/errors.js';
import type { CheckAt, CheckCheckout } from '../core/ports/workspace.js';
import { git, gitText, lines } from './git.js';
import type { Serial } from './serial.js';
import type { WorktreePool } from './worktree-pool.js';
import { clearStaleDir, removeWorktree } from './worktrees.js';

/** Where {@link checkCheckout} works: the repository, the run's folder and branch, the repository lock. */
export interface CheckCheckoutsOptions {
  readonly root: string;
  readonly runId: string;
  /** `weft/<run-id>`. */
  readonly branch: string;
  /** The run's worktree folder; checkouts go in `_check-<task>-<n>` under it. */
  readonly runDir: string;
  readonly lock: Serial;
  /** Parked worktrees to take instead of checking out the whole repository, and to park again after. */
  readonly pool?: WorktreePool;
}

let made = 0;

/**
 * A detached worktree of the integration branch for a check: at its tip, or (for blame) at the
 * commit before the first merge of any task in `among`, with only `task`'s merges applied on it
 * (`git cherry-pick -m 1 --no-commit`: each merge's own change), in that worktree — never the
 * user's checkout.
 * @throws WeftError `WEFT_INTERNAL` when `task` has no merge on the branch or its change does not apply alone
 */
export async function checkCheckout(o: CheckCheckoutsOptions, checkId: string, at: CheckAt): Promise<CheckCheckout> {
  const tip = await gitText(o.root, ['rev-parse', `refs/heads/${o.branch}^{commit}`]);
  const own = at.kind === 'tip' ? undefined : await mergesOf(o, tip, at.task, at.among);
  const dir = join(o.runDir, `_check-${checkId}-${++made}`);
  const at0 = own?.base ?? tip;
  const reused = await o.lock.run(async () => {
    await clearStaleDir(o.root, dir);
    if ((await o.pool?.take(dir)) === true) return true;
    await git(o.root, ['worktree', 'add', '-q', '--no-checkout', '--detach', dir, at0]);
    return false;
  });
  // A taken worktree is switched (only the files that differ are written); a new one filled outside the lock.
  const release = async (): Promise<void> => {
    const pool = o.pool;
    if (pool === undefined) return o.lock.run(() => removeWorktree(o.root, dir));
    // What the check staged or wrote goes: the slot is parked as a plain checkout.
    const reset = await git(dir, ['reset', '-q', '--hard'], { okCodes: [0, 128] }).catch(() => undefined);
    return o.lock.run(() => (reset?.exitCode === 0 ? pool.park(dir) : removeWorktree(o.root, dir)));
  };
  try {
    if (reused) await o.pool?.switchTo(dir, at0);
    else await git(dir, ['reset', '-q', '--hard']);
    for (const merge of own?.merges ?? []) {
      const r = await git(dir, ['cherry-pick', '-m', '1', '--no-commit', merge], { okCodes: [0, 1] });
      if (r.exitCode !== 0)
        throw new WeftError(
          'WEFT_INTERNAL',
          `task "${at.kind === 'alone' ? at.task : ''}"'s change does not apply on its own: ${(r.stderr || r.stdout).trim()}`,
        );
    }
    const tree = await gitText(dir, ['write-tree']);
    return at.kind === 'tip'
      ? { dir, tree, release, where: `merged result @${tip.slice(0, 7)}` }
      : { dir, tree, release };
  } catch (error) {
    await release();
    throw error;
  }
}

/** The commit before the first merge of any task in `among`, and `task`'s own merges, oldest first. */
async function mergesOf(
  o: CheckCheckoutsOptions,
  tip: string,
  task: string,
  among: readonly string[],
): Promise<{ base: string; merges: string[] }> {
  const log = lines(await gitText(o.root, ['log', '--first-parent', '--reverse', '--format=%H %s', tip]));
  const wanted = new Set(among);
  let first: string | undefined;
  const merges: string[] = [];
  for (const line of log) {
    const m = /^([0-9a-f]+) weft: merge task (\S+) \(run (\S+)\)$/.exec(line);
    if (m === null || m[3] !== o.runId || !wanted.has(m[2] as string)) continue;
    first ??= m[1] as string;
    if (m[2] === task) merges.push(m[1] as string);
  }
  if (first === undefined || merges.length === 0)
    throw new WeftError('WEFT_INTERNAL', `task "${task}" has no merge on ${o.branch} to check on its own`);
  return { base: await gitText(o.root, ['rev-parse', `${first}^1`]), merges };
}

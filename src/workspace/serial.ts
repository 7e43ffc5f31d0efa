/**
 * Runs async jobs one at a time, in the order they were handed in (a FIFO mutex). A job that
 * fails does not stop the ones queued after it.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const byRepository = new Map<string, Serial>();

/**
 * The lock for operations on a repository's shared metadata (`git worktree add/remove`, branch
 * creation, rename and deletion), shared by every workspace of this process on that repository.
 * Keyed by the repository's common git dir, so all its worktrees share one lock.
 */
export function repositoryLock(commonDir: string): Serial {
  let lock = byRepository.get(commonDir);
  if (lock === undefined) {
    lock = new Serial();
    byRepository.set(commonDir, lock);
  }
  return lock;
}

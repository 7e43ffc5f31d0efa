import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git, GitError } from './git.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

describe('git', () => {
  it('waits for a lock another git process holds instead of failing', async () => {
    repo = tempRepo();
    const lock = join(repo.dir, '.git', 'index.lock');
    writeFileSync(lock, '');
    setTimeout(() => rmSync(lock), 150);
    repo.write('new.txt', 'x\n');
    await git(repo.dir, ['add', 'new.txt']);
    expect(repo.git('diff', '--cached', '--name-only')).toBe('new.txt');
  });

  it('commits as weft on a machine without git configuration', async () => {
    repo = tempRepo();
    await git(repo.dir, ['commit', '-q', '--allow-empty', '-m', 'x']);
    expect(repo.git('log', '-1', '--format=%an <%ae> / %cn')).toBe('weft <weft@localhost> / weft');
  });

  it('throws a GitError that says what ran, where, and what git said', async () => {
    repo = tempRepo();
    const error = await git(repo.dir, ['rev-parse', '--verify', 'no-such-branch']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toMatch(
      /^git rev-parse --verify no-such-branch failed in .* \(exit 128\): fatal: Needed a single revision$/,
    );
  });

  it('passes its input on stdin and keeps the final newline of the output', async () => {
    repo = tempRepo();
    const r = await git(repo.dir, ['hash-object', '--stdin'], { input: 'x\n' });
    expect(r.stdout).toBe('587be6b4c3f93f93c489c0111bba5596147a26cb\n');
  });

  it('throws a GitError without an exit code when git cannot start there', async () => {
    repo = tempRepo();
    const error = await git(join(repo.dir, 'no-such-folder'), ['status']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).exitCode).toBeUndefined();
    expect((error as GitError).message).toMatch(/^git status failed in .*no-such-folder: could not run git: .*ENOENT/);
  });
});

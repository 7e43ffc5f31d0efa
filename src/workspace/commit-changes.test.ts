import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commitChanges } from './commit-changes.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

function repo(files: Record<string, string>): TempRepo {
  const r = tempRepo(files);
  repos.push(r);
  return r;
}

describe('commitChanges', () => {
  it('commits new, changed and deleted files as weft, and says the worktree is clean after', async () => {
    const r = repo({ 'README.md': '# p\n', 'lib/a.ts': 'a\n', 'lib/gone.ts': 'x\n', 'bin/run': '#!/bin/sh\n' });
    r.write('lib/a.ts', 'a2\n');
    r.write('docs/new dir/ünï code.md', 'new\n');
    rmSync(join(r.dir, 'lib/gone.ts'));
    chmodSync(join(r.dir, 'bin/run'), 0o755);
    const before = r.git('rev-parse', 'HEAD');
    const made = await commitChanges(r.dir, 'weft: task a');
    expect(made).toEqual({ committed: true, clean: true, commit: r.git('rev-parse', 'HEAD') });
    expect(r.git('rev-parse', 'HEAD~1')).toBe(before);
    expect((await commitChanges(r.dir, 'again')).commit).toBeUndefined(); // nothing left to commit
    expect(r.git('log', '-1', '--format=%an <%ae>|%s')).toBe('weft <weft@localhost>|weft: task a');
    expect(r.git('symbolic-ref', 'HEAD')).toBe('refs/heads/main'); // the branch moved, not a detached HEAD
    expect(
      r.git('-c', 'core.quotePath=false', 'show', '--name-status', '--format=', 'HEAD').split('\n').sort(),
    ).toEqual(['A\tdocs/new dir/ünï code.md', 'D\tlib/gone.ts', 'M\tbin/run', 'M\tlib/a.ts']);
    expect(r.git('status', '--porcelain', '--ignored')).toBe('');
    expect(r.git('reflog', '-1', '--format=%gs', 'main')).toBe('commit: weft: task a');
  });

  it('commits nothing when nothing changed, or a staged change was undone in the file', async () => {
    const r = repo({ 'README.md': '# p\n' });
    const head = r.git('rev-parse', 'HEAD');
    expect(await commitChanges(r.dir, 'nothing')).toEqual({ committed: false, clean: true });
    r.write('README.md', 'staged\n');
    r.git('add', 'README.md');
    r.write('README.md', '# p\n');
    expect(await commitChanges(r.dir, 'undone')).toEqual({ committed: false, clean: true });
    expect(r.git('rev-parse', 'HEAD')).toBe(head);
    expect(r.git('status', '--porcelain')).toBe('');
  });

  it('leaves out ignored files and the excluded paths, and says the worktree is not clean', async () => {
    const r = repo({ 'README.md': '# p\n', '.gitignore': '*.log\nbuild/\n' });
    r.write('out.txt', 'work\n');
    r.write('debug.log', 'ignored\n');
    r.write('build/x.js', 'ignored folder\n');
    r.write('.env', 'SECRET=1\n');
    symlinkSync(join(r.dir, 'build'), join(r.dir, 'node_modules')); // a shared set-up folder, linked in
    expect(await commitChanges(r.dir, 'work', ['node_modules', '.env'])).toMatchObject({
      committed: true,
      clean: false,
    });
    expect(r.git('show', '--name-only', '--format=', 'HEAD')).toBe('out.txt');
    // Ignored things alone also make it unclean (the next task must not find them).
    rmSync(join(r.dir, '.env'));
    rmSync(join(r.dir, 'node_modules'));
    expect(await commitChanges(r.dir, 'again')).toEqual({ committed: false, clean: false });
    rmSync(join(r.dir, 'debug.log'));
    rmSync(join(r.dir, 'build'), { recursive: true });
    expect(await commitChanges(r.dir, 'again')).toEqual({ committed: false, clean: true });
  });

  it('goes through git add for a nested repository', async () => {
    const r = repo({ 'README.md': '# p\n' });
    // A nested repository: git add records it as a gitlink (with its warning), as commitAll always did.
    const nested = join(r.dir, 'vendor/lib');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(nested, 'f'), 'f\n');
    const git = ['-c', 'user.name=u', '-c', 'user.email=u@x'];
    execFileSync('git', ['init', '-q'], { cwd: nested });
    execFileSync('git', [...git, 'add', '-A'], { cwd: nested });
    execFileSync('git', [...git, 'commit', '-qm', 'n'], { cwd: nested });
    expect(await commitChanges(r.dir, 'nested')).toEqual({ committed: true, clean: false });
    expect(r.git('ls-tree', 'HEAD', 'vendor/lib')).toMatch(/^160000 commit /);
  });

  it('concludes a merge in progress with both parents', async () => {
    const r = repo({ 'README.md': '# p\n', 'x.txt': 'base\n' });
    r.git('checkout', '-q', '-b', 'side');
    r.write('x.txt', 'side\n');
    r.commit('side');
    r.git('checkout', '-q', 'main');
    r.write('x.txt', 'main\n');
    r.commit('main');
    expect(() => r.git('merge', '-q', 'side')).toThrow();
    r.write('x.txt', 'resolved\n');
    expect((await commitChanges(r.dir, 'merged')).committed).toBe(true);
    expect(r.git('log', '-1', '--format=%P').split(' ')).toHaveLength(2);
    expect(r.git('show', 'HEAD:x.txt')).toBe('resolved');
  });
});

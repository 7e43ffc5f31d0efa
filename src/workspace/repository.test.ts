import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { excludeFromWorkTree } from './repository.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const repo = (files?: Record<string, string>): TempRepo => {
  const r = tempRepo(files);
  cleanups.push(r.cleanup);
  return r;
};

/** `<project>/.weft` with a journal and a log in it, as a run leaves it. */
const weftIn = (project: string): string => {
  const dir = join(project, '.weft');
  mkdirSync(join(dir, 'runs', 'r1', 'tasks'), { recursive: true });
  writeFileSync(join(dir, 'weft.db'), 'journal');
  writeFileSync(join(dir, 'runs', 'r1', 'tasks', 'a.log'), 'output');
  return dir;
};

const excludeLines = (r: TempRepo): string[] =>
  readFileSync(join(r.dir, '.git', 'info', 'exclude'), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('excludeFromWorkTree', () => {
  it("keeps a project's .weft/ out of git status once, after the user's own lines", async () => {
    const r = repo();
    writeFileSync(join(r.dir, '.git', 'info', 'exclude'), '# mine\n*.bak'); // no newline at the end
    const dir = weftIn(r.dir);
    await excludeFromWorkTree(dir);
    await excludeFromWorkTree(dir);
    expect(excludeLines(r)).toEqual(['*.bak', '/.weft/']);
    expect(r.git('status', '--porcelain')).toBe('');
  });

  it('in a repository without a commit yet (the first `git add -A` must not take the journal)', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'weft-nocommit-')));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('git', ['init', '-q'], { cwd: dir });
    await excludeFromWorkTree(weftIn(dir));
    execFileSync('git', ['add', '-A'], { cwd: dir });
    expect(execFileSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8' })).toBe('');
  });

  it('a project in a subfolder of the repository: that subfolder’s .weft/ only', async () => {
    const r = repo({ 'app/README.md': 'app\n' });
    await excludeFromWorkTree(weftIn(join(r.dir, 'app')));
    expect(excludeLines(r)).toEqual(['/app/.weft/']);
    expect(r.git('status', '--porcelain')).toBe('');
  });

  it('a linked worktree (.git is a file): the exclude file all its worktrees share', async () => {
    const r = repo();
    const linked = join(realpathSync(tmpdir()), `weft-linked-${process.pid}-${Date.now()}`);
    r.git('worktree', 'add', '-q', '-b', 'side', linked);
    cleanups.push(() => rmSync(linked, { recursive: true, force: true }));
    await excludeFromWorkTree(weftIn(linked));
    expect(excludeLines(r)).toEqual(['/.weft/']);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: linked, encoding: 'utf8' })).toBe('');
  });

  it('writes nothing when something ignores .weft/ already, or outside a repository', async () => {
    const r = repo({ '.gitignore': '.weft/\n' });
    await excludeFromWorkTree(weftIn(r.dir));
    expect(excludeLines(r)).toEqual([]);

    const plain = realpathSync(mkdtempSync(join(tmpdir(), 'weft-plain-')));
    cleanups.push(() => rmSync(plain, { recursive: true, force: true }));
    await excludeFromWorkTree(weftIn(plain));
    expect(existsSync(join(plain, '.git'))).toBe(false);
  });

  it('a folder whose name has glob characters is excluded as itself', async () => {
    const r = repo({ 'a[1]/README.md': 'x\n', 'a1/README.md': 'y\n' });
    await excludeFromWorkTree(weftIn(join(r.dir, 'a[1]')));
    weftIn(join(r.dir, 'a1'));
    expect(r.git('status', '--porcelain')).toBe('?? a1/.weft/');
  });
});

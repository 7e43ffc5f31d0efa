import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedTask } from '../core/plan/graph.js';
import { GitWorkspace } from './git-workspace.js';
import { resolvedTasks, tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

function task(tasks: Map<string, ResolvedTask>, id: string): ResolvedTask {
  const t = tasks.get(id);
  if (t === undefined) throw new Error(`no task ${id}`);
  return t;
}

const inode = (path: string): number => statSync(path).ino;
const inWorktree = (dir: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
const worktrees = (repo: TempRepo): string[] =>
  repo
    .git('worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '));

describe('worktree reuse', () => {
  it('hands a finished task’s worktree to the next task, which finds exactly a fresh checkout of the tip', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', '.gitignore': '*.log\n', 'lib/util.ts': 'export {};\n' });
    repos.push(repo);
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const tasks = resolvedTasks([{ id: 'a' }, { id: 'b' }]);
    const aDir = await ws.prepare(task(tasks, 'a'), 1, false);
    const unchanged = inode(join(aDir, 'lib/util.ts'));
    writeFileSync(join(aDir, 'a.txt'), 'from a\n');
    writeFileSync(join(aDir, 'build.log'), 'ignored, so not committed\n');
    expect(await ws.integrate(task(tasks, 'a'), 1, {})).toMatchObject({ ok: true, files: { changed: 1 } });
    expect(existsSync(aDir)).toBe(false);
    expect(worktrees(repo).filter((w) => w.includes('/_pool/'))).toHaveLength(1);

    const bDir = await ws.prepare(task(tasks, 'b'), 1, false);
    // The same files on disk (nothing rewritten that did not change)…
    expect(inode(join(bDir, 'lib/util.ts'))).toBe(unchanged);
    expect(worktrees(repo).filter((w) => w.includes('/_pool/'))).toHaveLength(0);
    // …yet exactly what a fresh worktree on b's branch at the tip would hold.
    expect(inWorktree(bDir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/weft/r1--b');
    expect(inWorktree(bDir, 'rev-parse', 'HEAD')).toBe(repo.git('rev-parse', 'weft/r1'));
    expect(inWorktree(bDir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(existsSync(join(bDir, 'build.log'))).toBe(false);
    expect(existsSync(join(bDir, 'a.txt'))).toBe(true);
    writeFileSync(join(bDir, 'b.txt'), 'from b\n');
    expect(await ws.integrate(task(tasks, 'b'), 1, {})).toMatchObject({ ok: true, files: { changed: 1 } });
    expect(repo.git('show', 'weft/r1:b.txt')).toBe('from b');
    expect(repo.git('branch', '--format=%(refname:short)').split('\n').sort()).toEqual(['main', 'weft/r1']);

    await ws.close();
    // One worktree stays parked for the next run: detached, clean, in the pool shared by the runs.
    const parked = worktrees(repo).filter((w) => w.includes('/.weft/worktrees/_pool/r1-'));
    expect(parked).toHaveLength(1);
    expect(worktrees(repo)).toHaveLength(2);
    const slot = (parked[0] as string).slice('worktree '.length);
    expect(inWorktree(slot, 'status', '--porcelain', '--ignored')).toBe('');
    expect(() => inWorktree(slot, 'symbolic-ref', '-q', 'HEAD')).toThrow();
    expect(existsSync(join(repo.dir, '.weft/worktrees/r1/_pool'))).toBe(false);
  });

  it('switches a worktree parked clean by the files that differ only, and still gives the exact tip', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'lib/util.ts': 'export {};\n', 'lib/old.ts': 'old\n' });
    repos.push(repo);
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const tasks = resolvedTasks([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const aDir = await ws.prepare(task(tasks, 'a'), 1, false);
    const bDir = await ws.prepare(task(tasks, 'b'), 1, false); // a second worktree, started before a merges
    const readme = inode(join(bDir, 'README.md'));
    writeFileSync(join(aDir, 'lib/util.ts'), 'export const a = 1;\n');
    rmSync(join(aDir, 'lib/old.ts'));
    expect(await ws.integrate(task(tasks, 'a'), 1, {})).toMatchObject({ ok: true, files: { changed: 2 } });
    writeFileSync(join(bDir, 'b.txt'), 'b\n');
    expect(await ws.integrate(task(tasks, 'b'), 1, {})).toMatchObject({ ok: true, files: { changed: 1 } });
    // c takes b's worktree (parked last, clean): it must get a's changes too, which b never saw.
    const cDir = await ws.prepare(task(tasks, 'c'), 1, false);
    expect(cDir).toBe(join(repo.dir, '.weft/worktrees/r1/c'));
    expect(inWorktree(cDir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/weft/r1--c');
    expect(inWorktree(cDir, 'rev-parse', 'HEAD')).toBe(repo.git('rev-parse', 'weft/r1'));
    expect(inWorktree(cDir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(readFileSync(join(cDir, 'lib/util.ts'), 'utf8')).toBe('export const a = 1;\n');
    expect(existsSync(join(cDir, 'lib/old.ts'))).toBe(false);
    expect(existsSync(join(cDir, 'b.txt'))).toBe(true);
    expect(inode(join(cDir, 'README.md'))).toBe(readme); // nothing rewritten that did not change
    writeFileSync(join(cDir, 'c.txt'), 'c\n');
    expect(await ws.integrate(task(tasks, 'c'), 1, {})).toMatchObject({ ok: true, files: { changed: 1 } });
    expect(repo.git('ls-tree', '--name-only', '-r', 'weft/r1').split('\n').sort()).toEqual([
      'README.md',
      'b.txt',
      'c.txt',
      'lib/util.ts',
    ]);
    expect(repo.git('branch', '--format=%(refname:short)').split('\n').sort()).toEqual(['main', 'weft/r1']);
    await ws.close();
  });

  it('the next run takes up a worktree the last one parked; keepWorktrees: 0 leaves none', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'lib/util.ts': 'export {};\n' });
    repos.push(repo);
    const tasks = resolvedTasks([{ id: 'a' }, { id: 'b' }]);
    const first = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const aDir = await first.prepare(task(tasks, 'a'), 1, false);
    const unchanged = inode(join(aDir, 'lib/util.ts'));
    writeFileSync(join(aDir, 'a.txt'), 'a\n');
    expect(await first.integrate(task(tasks, 'a'), 1, {})).toMatchObject({ ok: true });
    await first.close();
    // Parked clean (a's work committed, nothing else there): marked so in its git folder, at its commit.
    const slot = (worktrees(repo).find((w) => w.includes('/_pool/')) ?? '').slice('worktree '.length);
    const mark = join(inWorktree(slot, 'rev-parse', '--absolute-git-dir'), 'weft-parked-clean');
    expect(readFileSync(mark, 'utf8')).toBe(inWorktree(slot, 'rev-parse', 'HEAD'));
    // The user's branch moved on meanwhile: the next run starts from it, in the parked worktree.
    writeFileSync(join(repo.dir, 'lib/new.ts'), 'export const n = 1;\n');
    repo.git('add', 'lib/new.ts');
    repo.git('commit', '-q', '-m', 'new');
    const second = await GitWorkspace.open({ runId: 'r2', projectDir: repo.dir, keepWorktrees: 0 });
    const bDir = await second.prepare(task(tasks, 'b'), 1, false);
    expect(inode(join(bDir, 'lib/util.ts'))).toBe(unchanged);
    expect(inWorktree(bDir, 'rev-parse', 'HEAD')).toBe(repo.git('rev-parse', 'main'));
    expect(inWorktree(bDir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(existsSync(join(bDir, 'a.txt'))).toBe(false); // r1's work is not on main
    expect(existsSync(join(bDir, 'lib/new.ts'))).toBe(true);
    expect(existsSync(mark)).toBe(false); // taken: whatever b writes there is not known
    writeFileSync(join(bDir, 'b.txt'), 'b\n');
    expect(await second.integrate(task(tasks, 'b'), 1, {})).toMatchObject({ ok: true });
    await second.close();
    expect(worktrees(repo)).toHaveLength(1);
    expect(existsSync(join(repo.dir, '.weft/worktrees/_pool'))).toBe(false);
    await expect(GitWorkspace.open({ runId: 'r3', projectDir: repo.dir, keepWorktrees: -1 })).rejects.toThrow(
      'GitWorkspace: expected `keepWorktrees` to be a non-negative integer, got `-1`',
    );
  });

  it("a check's checkout is a parked worktree switched to the tree it checks, parked again after", async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'lib/util.ts': 'export {};\n' });
    repos.push(repo);
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const tasks = resolvedTasks([{ id: 'a' }, { id: 'b' }, { id: 'check', verifies: ['a', 'b'] }]);
    for (const id of ['a', 'b']) {
      const dir = await ws.prepare(task(tasks, id), 1, false);
      writeFileSync(join(dir, `${id}.txt`), `${id}\n`);
      expect(await ws.integrate(task(tasks, id), 1, {})).toMatchObject({ ok: true });
    }
    const parked = () => worktrees(repo).filter((w) => w.includes('/_pool/')).length;
    expect(parked()).toBe(1);
    const tip = await ws.checkout(task(tasks, 'check'), { kind: 'tip' });
    expect(parked()).toBe(0); // taken, not added
    const util = inode(join(tip.dir, 'lib/util.ts'));
    expect(tip.tree).toBe(repo.git('rev-parse', 'weft/r1^{tree}'));
    writeFileSync(join(tip.dir, 'check.log'), 'what the check wrote\n');
    await tip.release();
    expect(parked()).toBe(1);
    // b's merge alone on the tree before a and b: the same worktree, switched, b's change staged.
    const alone = await ws.checkout(task(tasks, 'check'), { kind: 'alone', task: 'b', among: ['a', 'b'] });
    expect(inode(join(alone.dir, 'lib/util.ts'))).toBe(util);
    expect(existsSync(join(alone.dir, 'a.txt'))).toBe(false);
    expect(existsSync(join(alone.dir, 'check.log'))).toBe(false);
    expect(inWorktree(alone.dir, 'status', '--porcelain')).toBe('A  b.txt');
    await alone.release();
    expect(parked()).toBe(1);
    await ws.close();
  });

  it('a resumed run takes up the worktrees parked before the crash', async () => {
    const repo = tempRepo({ 'README.md': '# project\n' });
    repos.push(repo);
    const tasks = resolvedTasks([{ id: 'a' }, { id: 'b' }]);
    const first = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const aDir = await first.prepare(task(tasks, 'a'), 1, false);
    const readme = inode(join(aDir, 'README.md'));
    writeFileSync(join(aDir, 'a.txt'), 'a\n');
    expect(await first.integrate(task(tasks, 'a'), 1, {})).toMatchObject({ ok: true });
    // The process dies here: no close(). weft resume opens the run again.
    const resumed = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
    const bDir = await resumed.prepare(task(tasks, 'b'), 1, false);
    expect(inode(join(bDir, 'README.md'))).toBe(readme);
    expect(inWorktree(bDir, 'status', '--porcelain', '--ignored')).toBe('');
    expect(existsSync(join(bDir, 'a.txt'))).toBe(true);
    await resumed.close();
    expect(worktrees(repo).filter((w) => !w.includes('/.weft/worktrees/_pool/'))).toHaveLength(1);
    expect(repo.git('show', 'weft/r1:a.txt')).toBe('a');
  });
});

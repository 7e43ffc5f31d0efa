import { beforeAll, afterEach, describe, expect, it } from 'vitest';
import { mergeTrees, parseMergeTree } from './merge-tree.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

describe('parseMergeTree', () => {
  it('reads the tree and names each unmerged path with the status git status would show', () => {
    const entries = ['100644 a 1\tboth.txt', '100644 b 2\tboth.txt', '100644 c 3\tboth.txt', '100644 d 1\tgone.txt'];
    entries.push('100644 e 2\tgone.txt', '100644 f 2\tnew.txt', '100644 g 3\tnew.txt');
    const out = ['t1', ...entries, '', '1', 'both.txt', 'CONFLICT (contents)', 'msg', ''].join('\0');
    expect(parseMergeTree(out, false)).toEqual({
      tree: 't1',
      clean: false,
      conflicts: [
        { path: 'both.txt', status: 'UU' },
        { path: 'gone.txt', status: 'UD' },
        { path: 'new.txt', status: 'AA' },
      ],
    });
    expect(parseMergeTree('t2\0\0', true)).toEqual({ tree: 't2', clean: true, conflicts: [] });
  });
});

describe('mergeTrees', () => {
  function branches(): TempRepo {
    const repo = tempRepo({ 'x.txt': 'port = 80\n', 'keep.txt': 'k\n' });
    repos.push(repo);
    repo.git('checkout', '-q', '-b', 'task');
    repo.write('x.txt', 'port = 9090\n');
    repo.write('task.txt', 'task\n');
    repo.write('keep.txt', 'k, changed by the task\n');
    repo.commit('task');
    repo.git('checkout', '-q', 'main');
    return repo;
  }

  it('merges without touching the checkout: the tree holds both sides', async () => {
    const repo = branches();
    repo.write('main.txt', 'main\n');
    repo.commit('main');
    const merged = await mergeTrees(repo.dir, 'main', 'task');
    expect(merged).toMatchObject({ clean: true, conflicts: [] });
    const names = repo.git('ls-tree', '--name-only', merged.tree).split('\n');
    expect(names).toEqual(['keep.txt', 'main.txt', 'task.txt', 'x.txt']);
    expect(repo.git('status', '--porcelain')).toBe('');
  });

  it('reports a text conflict (diff3 markers in the tree) and a modify/delete conflict', async () => {
    const repo = branches();
    repo.write('x.txt', 'port = 8080\n');
    repo.git('rm', '-q', 'keep.txt');
    repo.commit('main');
    const merged = await mergeTrees(repo.dir, 'main', 'task');
    expect(merged.clean).toBe(false);
    expect(merged.conflicts).toEqual([
      { path: 'keep.txt', status: 'DU' },
      { path: 'x.txt', status: 'UU' },
    ]);
    const marked = repo.git('cat-file', 'blob', `${merged.tree}:x.txt`);
    expect(marked).toMatch(/^<<<<<<< main\nport = 8080\n\|{7} \w+\nport = 80\n=======\nport = 9090\n>>>>>>> task$/);
  });
});

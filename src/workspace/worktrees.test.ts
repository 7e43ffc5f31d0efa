import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';
import { diffStats } from './worktrees.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

describe('diffStats', () => {
  it('counts a renamed file once, with the lines its edit changed, as git diff --stat shows it', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`);
    const repo = tempRepo({ 'old.txt': `${lines.join('\n')}\n` });
    repos.push(repo);
    const before = repo.git('rev-parse', 'HEAD').trim();
    repo.git('mv', 'old.txt', 'new.txt');
    repo.write('new.txt', `${['line zero', ...lines.slice(1)].join('\n')}\n`);
    repo.write('added.txt', 'one\ntwo\n');
    const after = repo.commit('rename, edit, add');
    expect(await diffStats(repo.dir, before, after)).toEqual({ changed: 2, added: 3, removed: 1 });
  });
});

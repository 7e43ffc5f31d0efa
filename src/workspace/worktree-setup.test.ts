import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitWorkspace } from './git-workspace.js';
import { resolvedTasks, tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

const SETUP =
  "require('fs').mkdirSync('deps/lib', { recursive: true }); " +
  "require('fs').writeFileSync('deps/lib/index.js', 'module.exports = 42')";

const CHECK = "process.exit(require('./deps/lib') === 42 && require('fs').existsSync('.env') ? 0 : 1)";

describe('GitWorkspace with a workspace set-up', () => {
  it('links the shared folder and copies the files into task worktrees and where the checks run', async () => {
    const repo = tempRepo({ '.gitignore': '.env\n', 'lock.txt': '1\n' });
    repos.push(repo);
    repo.write('.env', 'A=1\n');
    const setupDir = mkdtempSync(join(tmpdir(), 'weft-setup-cache-'));
    const ws = await GitWorkspace.open({
      runId: 'r1',
      projectDir: repo.dir,
      setupDir,
      workspace: { setup: { run: ['node', '-e', SETUP], key: ['lock.txt'], share: ['deps'] }, copy: ['.env'] },
      // The check fails unless the shared folder and the copied file are there.
      checks: [['node', '-e', CHECK]],
    });
    await ws.setUp();
    const task = resolvedTasks([{ id: 'a', executor: 'shell', run: 'true', writes: ['a.txt'] }]).get('a');
    if (task === undefined) throw new Error('no task');
    const dir = await ws.prepare(task, 1, false);
    expect(lstatSync(join(dir, 'deps')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'deps/lib/index.js'), 'utf8')).toBe('module.exports = 42');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('A=1\n');
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    const merged = await ws.integrate(task, 1, {});
    expect(merged).toMatchObject({ ok: true, where: 'worktree' });
    const committed = repo.git('ls-tree', '-r', '--name-only', 'weft/r1').split('\n').sort();
    expect(committed).toEqual(['.gitignore', 'a.txt', 'lock.txt']);
    await ws.close();
    expect(existsSync(join(repo.dir, 'deps'))).toBe(false);
  }, 60_000);
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const PLAN = 'tasks:\n  - { id: w, run: [sh, -c, "echo made > out.txt"], writes: [out.txt] }\n';

describe("a git failure the user's repository causes is theirs to fix, not a bug", () => {
  it('weft apply with an untracked file in the way: one line naming the cause, the fix, exit 2 (not 70)', async () => {
    const repo = tempRepo({ 'plan.yaml': PLAN, '.gitignore': '.weft/\n' });
    expect((await weft(['run', 'plan.yaml'], { cwd: repo.dir })).code).toBe(0);
    repo.write('out.txt', 'mine\n'); // untracked, and the run's branch adds out.txt
    const r = await weft(['apply'], { cwd: repo.dir });
    expect(r.code).toBe(2);
    const [message, hint, ...rest] = r.stderr.trimEnd().split('\n');
    expect(message).toMatch(/^weft: untracked files in the checkout are in the way: git merge .*out\.txt/);
    expect(hint).toBe('  move or commit the files git names, then try again');
    expect(rest).toEqual([]);
    expect(r.stderr).not.toContain('internal error');
    expect(repo.read('out.txt')).toBe('mine\n');
  });

  it('weft apply while another git process holds the index lock: says so, exit 2', async () => {
    const repo = tempRepo({ 'plan.yaml': PLAN, '.gitignore': '.weft/\n' });
    expect((await weft(['run', 'plan.yaml'], { cwd: repo.dir })).code).toBe(0);
    writeFileSync(join(repo.dir, '.git', 'index.lock'), '');
    const r = await weft(['apply', '--json'], { cwd: repo.dir });
    expect(r.code).toBe(2);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('WEFT_USAGE');
    expect(error.message).toMatch(/^another git process holds a lock in the repository: git /);
    expect(error.hint).toBe('wait for it to finish; if none is running, remove the stale .lock file git names');
  });
});

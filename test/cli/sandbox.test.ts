import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';

beforeAll(ensureBuilt);

const PLAN = `workers: 2
tasks:
  - id: inside
    sandbox: true
    writes: [made.txt]
    shell: true
    run: 'echo made > made.txt && ls "$HOME" | wc -l > /dev/stderr'
  - id: outside
    sandbox: true
    writes: [other.txt]
    shell: true
    run: 'echo sneaky > "$REPO/escaped.txt"'
`;

describe('sandbox: true runs a task under bubblewrap', () => {
  it('lets a task write in its worktree and refuses (and reports) a write to the repository root', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'plan.yaml': PLAN });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, env: { REPO: repo.dir }, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✓ inside/);
    expect(r.stdout).toMatch(
      /✗ outside exited with code \d+ after [\d.]+s; the sandbox refused a write outside the task's folder: .*escaped\.txt: Read-only file system/,
    );
    expect(existsSync(join(repo.dir, 'escaped.txt'))).toBe(false);
    // The write in its own folder was merged into the run's branch.
    const runId = readdirSync(join(repo.dir, '.weft', 'runs'))[0] as string;
    expect(repo.git('show', `weft/${runId}:made.txt`)).toBe('made');
    // The home folder was empty inside.
    expect(readFileSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'inside', '1.stderr.log'), 'utf8').trim()).toBe(
      '0',
    );
  });

  it('refuses the plan before it runs where bubblewrap is missing, with the fix (exit 2)', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", sandbox: true }\n');
    for (const command of ['validate', 'run']) {
      const r = await weft([command, 'plan.yaml'], { cwd: project, env: { WEFT_BWRAP: '/nonexistent/bwrap' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /plan\.yaml:2:\d+ task "a" sandbox: needs bubblewrap \(bwrap\), which is not installed — fix: install bubblewrap \(apt-get install bubblewrap\)/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

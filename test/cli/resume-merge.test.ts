import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { CLI, ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const PLAN = `defaults: { shell: true }
tasks:
  - { id: t1, run: 'echo X >> log.txt', writes: [log.txt] }
  - { id: t2, needs: [t1], run: 'echo Y >> log.txt', writes: [log.txt] }
`;

describe('a stop between a merge and its journal entry', () => {
  it("resume takes the merge the journal never recorded off the run's branch: the task's change lands once", async () => {
    const repo = tempRepo({ 'plan.yaml': PLAN, 'log.txt': '' });
    // git, slowed down right after it moves the run's branch for a merge: weft is stopped in that gap.
    const bin = tempProject('weft-gitwrap-');
    const gate = join(bin, 'slow');
    const moved = join(bin, 'moved');
    const git = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const slow = `case "$*" in *"update-ref -m weft: merge task"*) if [ -e ${gate} ]; then touch ${moved}; sleep 3; fi;; esac`;
    writeFileSync(join(bin, 'git'), `#!/bin/sh\n${git} "$@"; rc=$?\n${slow}\nexit $rc\n`);
    chmodSync(join(bin, 'git'), 0o755);
    writeFileSync(gate, '');
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NO_COLOR: '1', WEFT_DATABASE_URL: '' };
    const first = spawn(process.execPath, [CLI, 'run', 'plan.yaml', '--no-progress'], {
      cwd: repo.dir,
      env,
      stdio: 'ignore',
    });
    for (let i = 0; i < 400 && !existsSync(moved); i++) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(moved)).toBe(true);
    first.kill('SIGINT');
    await new Promise((r) => first.once('close', r));
    rmSync(gate);

    const resumed = await weft(['resume', '--no-progress'], { cwd: repo.dir, env: { WEFT_DATABASE_URL: undefined } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /took off the merge of t1, made just before weft stopped but never journaled; it runs again/,
    );
    const runId = /Run (\S+) succeeded/.exec(resumed.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:log.txt`)).toBe('X\nY');
    const merges = repo
      .git('log', '--format=%s', `weft/${runId}`)
      .split('\n')
      .filter((s) => s.startsWith('weft: merge task t1'));
    expect(merges).toHaveLength(1);
  }, 60_000);
});

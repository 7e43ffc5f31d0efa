import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('a coordinator SIGKILLed mid-attempt', () => {
  it('resume keeps the cut-off work until the task is redone and merged, then deletes it: no attempt branch left, the change merged once', async () => {
    const plan = `tasks:
  - id: gen
    run: [sh, -c, 'echo made >> out.txt; if [ "$WEFT_ATTEMPT" -lt 3 ]; then sleep 60; fi']
    writes: [out.txt]
`;
    const repo = tempRepo({ 'plan.yaml': plan });
    const env = { ...process.env, NO_COLOR: '1', WEFT_DATABASE_URL: '' };
    const refs = () => repo.git('branch', '--list', 'weft/*', '--format=%(refname:short)').split('\n');
    const runIdOf = () => refs().flatMap((b) => /^weft\/(\S+)--gen$/.exec(b)?.[1] ?? [])[0];
    /** Starts `weft <args>` and SIGKILLs it once attempt `attempt` has written in its worktree, on the task's branch. */
    const killDuring = async (args: string[], attempt: number, kept: number[]): Promise<void> => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: repo.dir, env, stdio: 'ignore' });
      const written = () => {
        const runId = runIdOf();
        if (runId === undefined || !kept.every((k) => refs().includes(`weft/${runId}--gen--attempt-${k}`)))
          return false;
        const out = join(repo.dir, '.weft', 'worktrees', runId, 'gen', 'out.txt');
        return existsSync(out) && readFileSync(out, 'utf8') === 'made\n';
      };
      for (let i = 0; i < 600 && !written(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(written(), `attempt ${attempt} never wrote`).toBe(true);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
    };
    await killDuring(['run', 'plan.yaml', '--json'], 1, []);
    const runId = runIdOf() ?? '';
    // The resume puts attempt 1's work aside (kept: its redo has not merged yet), and is killed too.
    await killDuring(['resume', '--json'], 2, [1]);

    const resumed = await weft(['resume', '--no-progress'], { cwd: repo.dir, env: { WEFT_DATABASE_URL: undefined } });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`Run ${runId} succeeded`);
    expect(repo.git('branch', '--list', 'weft/*--attempt-*')).toBe('');
    expect(refs()).toEqual([`weft/${runId}`]);
    expect(repo.git('show', `weft/${runId}:out.txt`)).toBe('made'); // attempts 1 and 2 left no line in it
    expect(repo.git('worktree', 'list')).not.toContain(join('.weft', 'worktrees', runId));
    expect(repo.git('status', '--porcelain')).toBe('');
  }, 90_000);
});

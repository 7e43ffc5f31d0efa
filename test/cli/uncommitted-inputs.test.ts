import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A task in its own worktree (it writes a file) that prints the inputs it was told about. */
const reader = (id: string, inputs: string[]): string =>
  `  - { id: ${id}, run: [sh, -c, 'cat ${inputs.join(' ')} > out-${id}.txt 2>&1; true'], writes: [out-${id}.txt], inputs: [${inputs.map((i) => `"${i}"`).join(', ')}] }\n`;

describe('an inputs file a worktree task names that is not committed', () => {
  it('is refused before anything runs (validate and run, exit 2, one line); listed in workspace.copy it is there', async () => {
    const repo = tempRepo({ '.gitignore': 'local.cfg\n', 'README.md': '# p\n' });
    repo.write('local.cfg', 'mine\n');
    repo.write('plan.yaml', `tasks:\n${reader('t', ['local.cfg'])}`);
    repo.commit('plan');
    const line = `task "t" inputs[0]: local.cfg is not committed, so the task's worktree will not have it — fix: commit it, or list it in workspace.copy`;
    for (const args of [
      ['validate', 'plan.yaml'],
      ['run', 'plan.yaml', '--no-progress'],
    ]) {
      const r = await weft(args, { cwd: repo.dir });
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toContain(line);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(repo.dir, '.weft', 'runs'))).toBe(false);
    // A file the run makes itself is there when the task reads it: not asked about.
    repo.write(
      'plan.yaml',
      `tasks:\n${reader('t', ['local.cfg'])}  - { id: gen, run: [touch, local.cfg], writes: [local.cfg] }\n`,
    );
    expect((await weft(['validate', 'plan.yaml'], { cwd: repo.dir })).code).toBe(0);
    repo.write('plan.yaml', `workspace: { copy: [local.cfg] }\ntasks:\n${reader('t', ['local.cfg'])}`);
    repo.commit('copy it');
    const run = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(run.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:out-t.txt`)).toBe('mine');
  }, 60_000);

  it('with uncommitted changes, or taken in by a glob, is said in one line; the run goes on with the committed files', async () => {
    const repo = tempRepo({ 'README.md': '# p\n', 'cfg/a.cfg': 'committed\n' });
    repo.write(
      'plan.yaml',
      `tasks:\n${reader('t', ['cfg/*.cfg'])}  - { id: here, run: [cat, cfg/b.cfg], inputs: [cfg/b.cfg] }\n`,
    );
    repo.commit('plan');
    repo.write('cfg/a.cfg', 'edited\n');
    repo.write('cfg/b.cfg', 'untracked\n');
    const validate = await weft(['validate', 'plan.yaml'], { cwd: repo.dir });
    expect(validate.code).toBe(0);
    const said = [
      "weft: task t: inputs cfg/*.cfg: cfg/b.cfg is not committed, so the task's worktree will not have it (commit it, or list it in workspace.copy)",
      "weft: task t: inputs cfg/*.cfg: cfg/a.cfg has uncommitted changes; the task's worktree has it as committed (commit it for the task to see the changes)",
    ];
    // `here` runs in the checkout itself (it writes nothing): it sees cfg/b.cfg, and nothing is said of it.
    expect(validate.stderr.split('\n').filter(Boolean)).toEqual(said);
    const run = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(run.code, run.stderr).toBe(0);
    for (const line of said) expect(run.stderr).toContain(line);
    const runId = /Run (\S+) succeeded/.exec(run.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:out-t.txt`)).toBe('committed');
  }, 60_000);
});

describe('the inputs check of a resume', () => {
  it('asks about the commit the run started from, not HEAD now: a file untracked since is there; one edited since is said', async () => {
    const repo = tempRepo({ 'README.md': '# p\n', 'local.cfg': 'v1\n', 'shared.cfg': 'v1\n' });
    const flag = join(repo.dir, '.git', 'second-life'); // outside the worktrees: the task fails until it is there
    const run = `cat local.cfg shared.cfg > out.txt; test -e ${flag}`;
    // `first` merges its work: the run's branch stays, and a resume goes on from the commit it started from.
    repo.write(
      'plan.yaml',
      `tasks:\n  - { id: first, run: [touch, first.txt], writes: [first.txt] }\n  - { id: t, run: [sh, -c, '${run}'], writes: [out.txt], inputs: [local.cfg, shared.cfg], needs: [first] }\n`,
    );
    repo.commit('plan');
    const first = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(first.code, first.stderr).toBe(1);
    const runId = /Run (\S+) failed/.exec(first.stdout)?.[1] ?? '';
    const base = repo.git('rev-parse', 'HEAD').slice(0, 10);
    // Since then: local.cfg is no longer tracked (kept, ignored), shared.cfg was edited and committed.
    repo.git('rm', '-q', '--cached', 'local.cfg');
    repo.write('.gitignore', 'local.cfg\n');
    repo.write('shared.cfg', 'v2\n');
    repo.commit('untrack local.cfg, edit shared.cfg');
    writeFileSync(flag, '');
    const resume = await weft(['resume', runId, '--no-progress'], { cwd: repo.dir });
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stderr).toBe(
      `weft: task t: inputs shared.cfg: shared.cfg differs from commit ${base} that run ${runId} started from; the task's worktree has it as in that commit (a resume keeps that commit; \`weft run\` starts a new run from yours)\n`,
    );
    expect(repo.git('show', `weft/${runId}:out.txt`)).toBe('v1\nv1');
  }, 60_000);
});

describe('the inputs check on a large plan', () => {
  it('walks each glob once, not once per task: 1,000 worktree tasks naming src/**/*.ts validate in seconds', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`src/f${i}.ts`] = `${i}\n`;
    const tasks = Array.from({ length: 1000 }, (_, i) => ({
      id: `t${i}`,
      run: ['true'],
      writes: [`out/${i}`],
      inputs: ['src/**/*.ts'],
    }));
    const repo = tempRepo({ ...files, 'plan.yaml': JSON.stringify({ tasks }) });
    const started = Date.now();
    const r = await weft(['validate', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 170_000 });
    expect(r.code, r.stderr).toBe(0);
    // ~10 s on a busy machine (most of it the plan's write scopes); a walk per task took minutes.
    expect(Date.now() - started).toBeLessThan(90_000);
  }, 180_000);
});

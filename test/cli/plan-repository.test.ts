import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A plan whose one isolated task writes out.txt (argv, no shell: the file is made by node). */
const WRITES_OUT = `tasks:
  - id: gen
    run: [node, -e, "require('fs').writeFileSync('out.txt', 'made by gen\\\\n')"]
    writes: [out.txt]
`;

const runIdOf = (stdout: string): string => /Run (\S+) succeeded/.exec(stdout)?.[1] ?? 'no run id in the output';

describe("the plan's folder decides the repository isolated tasks work in", () => {
  it("a plan in another repository than the current folder: tasks work in worktrees of the plan's repository, the result branch is there, and weft apply brings it into that repository", async () => {
    const here = tempRepo();
    const there = tempRepo({ 'plan.yaml': WRITES_OUT });
    const r = await weft(['run', join(there.dir, 'plan.yaml')], { cwd: here.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runId = runIdOf(r.stdout);
    expect(r.stdout).toContain(
      `result       branch weft/${runId} in ${realpathSync(there.dir)} · \`weft apply\` brings it into the branch checked out there`,
    );
    // The work is on the plan's repository's branch, not in its checkout, and nothing happened to the current one.
    expect(there.git('show', `weft/${runId}:out.txt`)).toBe('made by gen');
    expect(existsSync(join(there.dir, 'out.txt'))).toBe(false);
    expect(here.git('branch', '--list', 'weft/*')).toBe('');
    expect(there.git('status', '--porcelain')).toBe(''); // its worktrees folder is ignored there
    const applied = await weft(['apply'], { cwd: here.dir });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(new RegExp(`^applied weft/${runId} to main \\(fast-forward\\)`));
    expect(there.read('out.txt')).toBe('made by gen\n');
    expect(existsSync(join(here.dir, 'out.txt'))).toBe(false);
  });

  it('weft apply refuses a run still going, and warns of a run that did not succeed: its branch holds part of the work', async () => {
    const plan = `tasks:
  - { id: quick, run: [node, -e, "require('fs').writeFileSync('a.txt', 'a')"], writes: [a.txt] }
  - { id: slow, run: [sleep, '60'], writes: [b.txt] }
`;
    const repo = tempRepo({ 'plan.yaml': plan });
    const running = startWeft(['run', 'plan.yaml', '--json'], repo.dir);
    // quick's work is merged (the branch exists) while slow still runs.
    for (let i = 0; i < 400 && !/"type":"task.succeeded"[^\n]*"task":"quick"/.test(running.output()); i++)
      await new Promise((r) => setTimeout(r, 25));
    const early = await weft(['apply'], { cwd: repo.dir });
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/^weft: run \S+ is still running\n {2}apply it once it ends/);
    expect(repo.git('log', '--oneline').split('\n')).toHaveLength(1); // nothing applied
    running.child.kill('SIGINT');
    expect((await running.done).code).toBe(130);
    const late = await weft(['apply'], { cwd: repo.dir });
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).toMatch(/^weft: run \S+ ended cancelled: its branch holds only the work merged before that\n$/);
    expect(repo.read('a.txt')).toBe('a');
  });

  it('in the repository it runs in, all of .weft/ (journal, logs, worktrees) is ignored: git add -A picks none of it up', async () => {
    const repo = tempRepo({ 'plan.yaml': WRITES_OUT });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(repo.dir, '.weft', 'weft.db'))).toBe(true);
    expect(repo.git('status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(repo.git('add', '-A', '--dry-run')).toBe('');
  });

  it('a run whose tasks all run in place (no worktree) keeps .weft/ out of git too, in the repository or a subfolder of it, once', async () => {
    const plan = `tasks:\n  - { id: hello, run: [node, -e, "console.log('hi')"] }\n`;
    const repo = tempRepo({ 'plan.yaml': plan, 'app/plan.yaml': plan });
    repo.write('.git/info/exclude', '*.bak\n');
    for (let i = 0; i < 2; i++) {
      const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
      expect(r.code, r.stderr).toBe(0);
    }
    const inApp = await weft(['run', 'plan.yaml'], { cwd: join(repo.dir, 'app') });
    expect(inApp.code, inApp.stderr).toBe(0);
    expect(existsSync(join(repo.dir, 'app', '.weft', 'weft.db'))).toBe(true);
    expect(repo.git('status', '--porcelain', '--untracked-files=all')).toBe('');
    expect(repo.read('.git/info/exclude')).toBe(
      "*.bak\n# weft's journal, logs and task worktrees\n/.weft/\n# weft's journal, logs and task worktrees\n/app/.weft/\n",
    );
  });

  it('a plan in a plain folder (no git) while the current folder is a repository: runs without isolation and says so', async () => {
    const here = tempRepo();
    const plain = tempProject('weft-plain-');
    writeFileSync(join(plain, 'plan.yaml'), WRITES_OUT);
    const r = await weft(['run', join(plain, 'plan.yaml')], { cwd: here.dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `weft: the plan's folder ${plain} is not inside a git repository, so tasks cannot get their own worktrees; 1 task(s) that write files run in place, without isolation\n`,
    );
    expect(readFileSync(join(plain, 'out.txt'), 'utf8')).toBe('made by gen\n');
    expect(r.stdout).not.toContain('result ');
    expect(here.git('branch', '--list', 'weft/*')).toBe('');
    expect(here.git('status', '--porcelain', '--untracked-files=all')).toBe(''); // its .weft/ (the journal) is ignored
  });

  it("an isolated task whose cwd leaves the plan's repository is refused before any task runs: one line, exit 2", async () => {
    const here = tempRepo();
    const there = tempRepo();
    mkdirSync(join(there.dir, 'sub'));
    const plan = `tasks:
  - { id: first, run: [node, -e, "require('fs').writeFileSync('ran.txt', '')"] }
  - { id: far, needs: [first], run: "true", writes: [x.txt], cwd: ../.. }
`;
    writeFileSync(join(there.dir, 'sub', 'plan.yaml'), plan);
    const r = await weft(['run', join(there.dir, 'sub', 'plan.yaml')], { cwd: here.dir });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${join(there.dir, 'sub', 'plan.yaml')} task "far" cwd: works in .+, outside the repository ${realpathSync(there.dir)} that holds the plan, so it cannot have a worktree of it — fix: set cwd to a folder inside that repository, or run with --no-isolation$`,
        ),
      ),
    ]);
    expect(r.stdout).toBe('');
    expect(existsSync(join(there.dir, 'sub', 'ran.txt'))).toBe(false);
    expect(existsSync(join(here.dir, '.weft', 'runs')) ? readdirSync(join(here.dir, '.weft', 'runs')) : []).toEqual([]);
    expect(there.git('branch', '--list', 'weft/*')).toBe('');
    // The way out the line names works.
    const inPlace = await weft(['run', join(there.dir, 'sub', 'plan.yaml'), '--no-isolation'], { cwd: here.dir });
    expect(inPlace.code).toBe(0);
    expect(existsSync(join(there.dir, 'sub', 'ran.txt'))).toBe(true);
  });
});

describe('the summary names a result branch only when there is one', () => {
  it('isolated tasks that change nothing: no "result" line, no branch, and weft apply says there is nothing to apply in one line', async () => {
    const repo = tempRepo({
      'plan.yaml':
        'tasks:\n  - { id: look, run: "true", writes: [notes.txt] }\n  - { id: read, run: [cat, plan.yaml], writes: [x/**] }\n',
    });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tasks +2 succeeded/);
    expect(r.stdout).not.toContain('result ');
    const runId = runIdOf(r.stdout);
    expect(repo.git('branch', '--list', 'weft/*')).toBe('');
    const applied = await weft(['apply'], { cwd: repo.dir });
    expect(applied.code).toBe(0);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe(
      `nothing to apply: run ${runId} has no branch weft/${runId} (none of its tasks changed a file in a worktree)\n`,
    );
    const json = await weft(['apply', '--json'], { cwd: repo.dir });
    expect(JSON.parse(json.stdout)).toEqual({
      runId,
      from: `weft/${runId}`,
      how: 'nothing',
      files: { changed: 0, added: 0, removed: 0 },
    });
  });

  it('a failed run with no branch: weft apply says only that there is nothing to apply, not that its branch holds part of the work', async () => {
    const repo = tempRepo({
      'plan.yaml': 'tasks:\n  - { id: look, run: "true", writes: [notes.txt] }\n  - { id: bad, run: "false" }\n',
    });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    const runId = /Run (\S+) failed/.exec(r.stdout)?.[1] ?? 'no run id in the output';
    const applied = await weft(['apply'], { cwd: repo.dir });
    expect(applied.code).toBe(0);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toBe(
      `nothing to apply: run ${runId} has no branch weft/${runId} (none of its tasks changed a file in a worktree)\n`,
    );
  });

  it('a task that changes a file: the "result" line names the branch, which exists', async () => {
    const repo = tempRepo({ 'plan.yaml': WRITES_OUT });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    const runId = runIdOf(r.stdout);
    expect(r.stdout).toContain(`result       branch weft/${runId} · \`weft apply\` brings it into your branch`);
    expect(repo.git('branch', '--list', `weft/${runId}`)).toBe(`weft/${runId}`);
  });

  it('on a detached HEAD the "result" line says to switch to a branch first, as `weft apply` asks', async () => {
    const repo = tempRepo({ 'plan.yaml': WRITES_OUT });
    repo.git('switch', '-q', '--detach');
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    const runId = runIdOf(r.stdout);
    expect(r.stdout).toContain(
      `result       branch weft/${runId} · HEAD is detached: switch to a branch (\`git switch <branch>\`), then \`weft apply\` brings it in\n`,
    );
    const refused = await weft(['apply', runId], { cwd: repo.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is detached');
    repo.git('switch', '-q', 'main');
    expect((await weft(['apply', runId], { cwd: repo.dir })).code).toBe(0);
  });
});

describe('what a run leaves under .weft/worktrees', () => {
  it('a succeeded run leaves only the parked worktrees (no folder of its own per run); a failed one keeps the base its resume reads', async () => {
    const repo = tempRepo({ 'plan.yaml': WRITES_OUT });
    for (let k = 0; k < 2; k++) expect((await weft(['run', 'plan.yaml'], { cwd: repo.dir })).code).toBe(0);
    expect(readdirSync(join(repo.dir, '.weft', 'worktrees'))).toEqual(['_pool']);
    writeFileSync(join(repo.dir, 'fails.yaml'), `${WRITES_OUT}  - { id: bad, run: "false" }\n`);
    const failed = await weft(['run', 'fails.yaml'], { cwd: repo.dir });
    expect(failed.code).toBe(1);
    const runId = /Run (\S+) failed/.exec(failed.stdout)?.[1] ?? 'no run id in the output';
    expect(readdirSync(join(repo.dir, '.weft', 'worktrees')).sort()).toEqual([runId, '_pool'].sort());
    expect(JSON.parse(readFileSync(join(repo.dir, '.weft', 'worktrees', runId, '_run.json'), 'utf8'))).toMatchObject({
      runId,
      base: repo.git('rev-parse', 'HEAD'),
    });
  });
});

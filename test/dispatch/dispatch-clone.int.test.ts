import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { fakeClaude } from '../support/fake-agent.js';
import { tempProject, weft } from '../support/weft-cli.js';
import { bareRemote, farWorker, gitIn, logRefUpdates, project, sh } from './clone-kit.js';
import { events, REDIS, startWorker, uniquePrefix, workerProcs } from './dispatch-kit.js';

/**
 * Clone mode: `weft worker --clone <dir>` keeps its own clone of a git remote the coordinator
 * shares (`weft run --git-remote`), and never sees the coordinator's folders (its `--root` is
 * elsewhere). Tasks in worktrees go out as refs on the remote and their work comes back the same way.
 */
const procs = workerProcs();

const SECRET = 's3cret-tok-4711';

/** An empty bare repository, and a `file://` URL for it with a password in it. */
function remoteWithPassword(): { path: string; url: string } {
  const path = bareRemote();
  return { path, url: `file://ci:${SECRET}@localhost${path}` };
}

/** Every file under `dir` (the journal, logs, plan.json, summaries), as text. */
function everything(dir: string): string {
  let all = '';
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const s = statSync(path);
    if (s.isDirectory()) all += everything(path);
    else if (s.isFile() && s.size < 50_000_000) all += readFileSync(path, 'latin1');
  }
  return all;
}

describe('weft worker --clone', () => {
  it("runs tasks in worktrees of its own clone; their work is merged into the coordinator's weft/<run>, through the shared remote", async () => {
    const prefix = uniquePrefix();
    const where = join(tempProject('weft-clone-marks-'), 'where.txt');
    const gen = (id: string, text: string) => ({
      id,
      writes: [`${id}.txt`],
      run: sh(`echo ${text} > ${id}.txt; echo "${id} $WHO $PWD" >> ${where}`),
    });
    const p = project({
      name: 'clone',
      tasks: [
        gen('a', 'A'),
        gen('b', 'B'),
        // On the merged result; its declared output, written on the worker, is checked on the coordinator.
        {
          id: 'both',
          needs: ['a', 'b'],
          outputs: ['report.txt'],
          run: sh(`cat a.txt b.txt; cat a.txt b.txt > report.txt; echo "both $WHO $PWD" >> ${where}`),
        },
      ],
    });
    const remote = remoteWithPassword();
    const log = logRefUpdates(remote.path);
    const clone = tempProject('weft-clone-dir-');
    const worker = await farWorker(prefix, clone);
    procs.push(worker);
    const r = await weft(
      ['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote.url, '--json'],
      { cwd: p.dir, timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`through file://ci:***@localhost${remote.path}`);
    // Every task ran on the worker, in a worktree of its own clone.
    const ran = readFileSync(where, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(ran.map(([task, who]) => `${task} ${who}`).sort()).toEqual(['a far', 'b far', 'both far']);
    for (const [, , dir] of ran) expect(dir).toContain(`${join(realpathSync(clone), 'worktrees')}/`);
    // Its clone folder holds its own (bare) clone of the remote beside those worktrees.
    expect(readdirSync(clone).sort()).toEqual([expect.stringMatching(/^shared-[0-9a-f]{8}\.git$/), 'worktrees']);
    // The third task saw both files.
    const both = events(r.stdout).find((e) => e.type === 'task.succeeded' && e.task === 'both');
    expect((both?.result as { text: string }).text.trim()).toBe('A\nB');
    // Their work is on the run's branch in the coordinator's repository; the user's checkout is as it was.
    const runId = (events(r.stdout).find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } })
      .summary.runId;
    expect(p.git('show', `weft/${runId}:a.txt`).stdout).toBe('A\n');
    expect(p.git('show', `weft/${runId}:b.txt`).stdout).toBe('B\n');
    expect(p.git('rev-parse', '--abbrev-ref', 'HEAD').stdout.trim()).toBe('main');
    expect(existsSync(join(p.dir, 'a.txt'))).toBe(false);
    expect(p.git('status', '--porcelain', '--untracked-files=no').stdout).toBe('');
    // The attempts went through the remote as refs, base and result, each pushed once; the run
    // succeeded, so at its end weft deleted them: none is left on the remote.
    for (const ref of ['a/1/base', 'a/1/result', 'b/1/base', 'b/1/result', 'both/1/base']) {
      expect(log.sent(`refs/weft/${runId}/${ref}`), ref).toHaveLength(1);
      expect(log.deleted(`refs/weft/${runId}/${ref}`), ref).toBe(true);
    }
    expect(gitIn(p.dir)('ls-remote', remote.path, 'refs/weft/*').stdout).toBe('');
    // The password in the remote's URL is in no message, journal, log, report input or the worker's clone.
    expect(r.stdout + r.stderr + worker.stdout() + worker.stderr()).not.toContain(SECRET);
    expect(everything(join(p.dir, '.weft'))).not.toContain(SECRET);
    expect(everything(clone)).not.toContain(SECRET);
    // Nor in Redis: the jobs name the remote without it.
    const redis = new Redis(REDIS);
    try {
      let stored = '';
      for (const k of await redis.keys(`${prefix}:*`))
        if ((await redis.type(k)) === 'hash') stored += JSON.stringify(await redis.hgetall(k));
      expect(stored).toContain(`file://ci@localhost${remote.path}`);
      expect(stored).not.toContain(SECRET);
    } finally {
      redis.disconnect();
    }
  }, 400_000);

  it('a fix after a merge conflict starts on the worker from its previous work with the conflicts marked; resolved there, it merges', async () => {
    const prefix = uniquePrefix();
    // Both start from the same commit and change shared.txt: "early" an agent (no `writes`: it may
    // change any file, so nothing keeps them apart), "late" a script that may write shared.txt.
    // "late" ends second, so its merge conflicts. Its fix finds the markers and keeps both lines.
    const fix = `if grep -q '<<<<<<<' shared.txt; then printf 'early\\nlate\\n' > shared.txt; echo fixed > fixed.txt; else sleep 2; echo late > shared.txt; fi`;
    const agent = `executors:\n  claude: { bin: "${fakeClaude()}" }\n`;
    const p = project({
      name: 'conflict',
      workers: 2,
      tasks: [
        { id: 'early', executor: 'claude', prompt: 'write shared.txt', env: { FAKE_WORK: 'echo early > shared.txt' } },
        { id: 'late', writes: ['shared.txt', 'fixed.txt'], run: sh(fix) },
      ],
    });
    writeFileSync(join(p.dir, 'weft.config.yaml'), agent);
    writeFileSync(join(p.dir, 'shared.txt'), 'base\n');
    p.git('add', '-A');
    p.git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'shared');
    const remote = remoteWithPassword();
    const log = logRefUpdates(remote.path);
    procs.push(await farWorker(prefix, tempProject('weft-clone-dir-'), 'far', [], agent));
    const r = await weft(
      ['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote.url, '--json'],
      { cwd: p.dir, timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const all = events(r.stdout);
    const runId = (all.find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } }).summary
      .runId;
    const retried = all.find((e) => e.type === 'task.retrying' && e.task === 'late');
    expect(retried?.error).toMatchObject({ code: 'WEFT_MERGE_CONFLICT' });
    expect(all.filter((e) => e.type === 'task.started' && e.task === 'late').map((e) => e.attempt)).toEqual([1, 2]);
    // The fix started from the first attempt's work with the integration tip merged in, markers and all.
    // (Its ref is deleted at the end of the run; the commit it named stays in the remote until git's gc.)
    const [base = 'none'] = log.sent(`refs/weft/${runId}/late/2/base`);
    const shared = gitIn(remote.path);
    expect(shared('rev-list', '--parents', '-n', '1', base).stdout.trim().split(' ')).toHaveLength(3);
    expect(shared('show', `${base}:shared.txt`).stdout).toMatch(/<<<<<<<[^]*late[^]*=======[^]*early[^]*>>>>>>>/);
    // Its resolution is on the run's branch, merged as a local fix is: the fix's merge concluded here,
    // by the commit of the fix (two parents: the first attempt's work and the tip it conflicted with).
    expect(p.git('show', `weft/${runId}:shared.txt`).stdout).toBe('early\nlate\n');
    expect(p.git('show', `weft/${runId}:fixed.txt`).stdout).toBe('fixed\n');
    const commits = p.git('log', '--format=%P|%s', `weft/${runId}`).stdout.trim().split('\n');
    const fixCommit = commits.find((c) => c.endsWith(`weft: task late (run ${runId}, attempt 2)`));
    expect(fixCommit?.split('|')[0]?.split(' ')).toHaveLength(2);
  }, 400_000);
});

describe('clone mode: settings and kept work', () => {
  it('`dispatch.gitRemote` in weft.config.yaml, a path relative to the project folder, works as --git-remote', async () => {
    const prefix = uniquePrefix();
    const where = join(tempProject('weft-clone-marks-'), 'where.txt');
    const p = project({
      name: 'cfg',
      tasks: [{ id: 'gen', writes: ['gen.txt'], run: sh(`echo G > gen.txt; echo "$PWD" >> ${where}`) }],
    });
    spawnSync('git', ['init', '-q', '--bare', join(p.dir, 'shared.git')]);
    writeFileSync(
      join(p.dir, 'weft.config.yaml'),
      `dispatch: { redis: ${REDIS}, prefix: ${prefix}, gitRemote: shared.git }\n`,
    );
    const clone = tempProject('weft-clone-dir-');
    procs.push(await farWorker(prefix, clone));
    const r = await weft(['run', p.plan, '--json'], { cwd: p.dir, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(where, 'utf8')).toContain(`${join(realpathSync(clone), 'worktrees')}/`);
    const runId = (events(r.stdout).find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } })
      .summary.runId;
    expect(p.git('show', `weft/${runId}:gen.txt`).stdout).toBe('G\n');
  }, 400_000);

  it("a failed attempt's work comes back too, kept on its attempt branch as a local one's", async () => {
    const prefix = uniquePrefix();
    const p = project({
      name: 'failing',
      tasks: [{ id: 'half', writes: ['half.txt'], run: sh('echo half-done > half.txt; exit 3') }],
    });
    const remote = remoteWithPassword();
    procs.push(await farWorker(prefix, tempProject('weft-clone-dir-')));
    const r = await weft(
      ['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote.path, '--json'],
      { cwd: p.dir, timeoutMs: 300_000 },
    );
    expect(r.code).toBe(1);
    const runId = (events(r.stdout).find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } })
      .summary.runId;
    expect(p.git('show', `weft/${runId}--half--attempt-1:half.txt`).stdout).toBe('half-done\n');
    // The run failed: its refs stay on the remote, for a resume and for a person to look at.
    const refs = gitIn(p.dir)('ls-remote', remote.path, `refs/weft/${runId}/*`).stdout;
    expect(refs).toContain(`refs/weft/${runId}/half/1/base`);
    expect(refs).toContain(`refs/weft/${runId}/half/1/result`);
  }, 400_000);
});

describe('clone mode beside workers that share the folders', () => {
  it('with a shared remote set, a worker without --clone still works in the worktree by path', async () => {
    const prefix = uniquePrefix();
    const p = project({ name: 'mixed', tasks: [{ id: 'gen', writes: ['gen.txt'], run: sh('echo G > gen.txt') }] });
    const remote = remoteWithPassword();
    const log = logRefUpdates(remote.path);
    procs.push(await startWorker(p.dir, 'near', prefix, ['--root', p.dir]));
    const r = await weft(
      ['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote.path, '--json'],
      { cwd: p.dir, timeoutMs: 300_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const runId = (events(r.stdout).find((e) => e.type === 'run.summary') as unknown as { summary: { runId: string } })
      .summary.runId;
    expect(p.git('show', `weft/${runId}:gen.txt`).stdout).toBe('G\n');
    // It pushed nothing back: the work was in the coordinator's worktree already.
    expect(log.sent(`refs/weft/${runId}/gen/1/base`)).toHaveLength(1);
    expect(log.sent(`refs/weft/${runId}/gen/1/result`)).toEqual([]);
  }, 400_000);
});

describe('clone mode: bad input, one line, exit 2', () => {
  it('an isolated task would go to a worker with its own clone, and no shared remote is set', async () => {
    const prefix = uniquePrefix();
    const p = project({ name: 'no-remote', tasks: [{ id: 'gen', writes: ['out.txt'], run: sh('echo x > out.txt') }] });
    procs.push(await farWorker(prefix, tempProject('weft-clone-dir-')));
    const r = await weft(['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix], { cwd: p.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^weft: --git-remote: task "gen" works in a git worktree and worker \S+ works in its own clone \(--clone\), but no shared git remote is set; give --git-remote/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 300_000);

  it('a remote that does not answer is named, its password masked', async () => {
    const p = project({ name: 'far', tasks: [{ id: 'gen', writes: ['out.txt'], run: sh('echo x > out.txt') }] });
    const url = `file://ci:${SECRET}@localhost/nowhere/missing.git`;
    const r = await weft(['run', p.plan, '--dispatch', REDIS, '--queue-prefix', uniquePrefix(), '--git-remote', url], {
      cwd: p.dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(
      'weft: --git-remote: cannot reach the git remote file://ci:***@localhost/nowhere/missing.git',
    );
    expect(r.stderr + r.stdout).not.toContain(SECRET);
  });

  it('a --clone folder that cannot be made', async () => {
    const file = join(tempProject('weft-clone-bad-'), 'a-file');
    writeFileSync(file, '');
    const r = await weft(['worker', '--redis', REDIS, '--clone', join(file, 'clones')]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(
      `weft: --clone: cannot use ${join(file, 'clones')} as the worker's clone folder (ENOTDIR`,
    );
  });

  it('--git-remote without --dispatch', async () => {
    const p = project({ name: 'x', tasks: [{ id: 'a', run: ['true'] }] });
    const r = await weft(['run', p.plan, '--git-remote', '/tmp/x.git'], { cwd: p.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain('weft: --git-remote needs --dispatch');
  });
});

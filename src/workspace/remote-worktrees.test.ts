import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedTask } from '../core/plan/graph.js';
import { GitWorkspace } from './git-workspace.js';
import { RemoteWorktrees } from './remote-worktrees.js';
import { resolvedTasks, tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';
import { WorkerClone } from './worker-clone.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

function bare(): string {
  const path = join(realpathSync(mkdtempSync(join(tmpdir(), 'weft-remote-'))), 'shared.git');
  execFileSync('git', ['init', '-q', '--bare', path]);
  return path;
}

const task = (id: string): ResolvedTask =>
  resolvedTasks([{ id, executor: 'shell', run: 'true', writes: ['*.txt'] }]).get(id) as ResolvedTask;

describe('an attempt through a shared remote', () => {
  it("starts in the worker's own worktree at the coordinator's, and its pushed work merges into weft/<run> as a local attempt's", async () => {
    const repo = tempRepo();
    repos.push(repo);
    const remote = bare();
    const a = task('a');
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir, tasks: [a] });
    const workdir = await ws.prepare(a, 1, false);
    const sender = new RemoteWorktrees(remote, 'r1', ws);
    const at = { task: a, attempt: 1, workdir };
    const spec = await sender.send(at);
    expect(spec).toMatchObject({ remote, base: 'refs/weft/r1/a/1/base', result: 'refs/weft/r1/a/1/result', cwd: '' });
    if (spec === undefined) throw new Error('no spec');

    const clones = new WorkerClone(mkdtempSync(join(tmpdir(), 'weft-clones-')));
    const own = await clones.open(spec, { runId: 'r1', taskId: 'a', attempt: 1 });
    expect(own.workdir).toBe(join(clones.dir, 'worktrees', 'r1', 'a'));
    expect(readFileSync(join(own.workdir, 'README.md'), 'utf8')).toBe('# project\n');
    writeFileSync(join(own.workdir, 'a.txt'), 'from the worker\n');
    const commit = await own.finish();
    expect(existsSync(own.workdir)).toBe(false); // its worktree goes once the work is pushed
    expect(
      execFileSync('git', ['rev-parse', 'refs/weft/r1/a/1/result'], { cwd: remote, encoding: 'utf8' }).trim(),
    ).toBe(commit);

    await sender.receive(at, spec, commit);
    const merged = await ws.integrate(a, 1, {});
    expect(merged.ok).toBe(true);
    expect(repo.git('show', 'weft/r1:a.txt')).toBe('from the worker');
    expect(repo.git('log', '-1', '--format=%s', 'weft/r1^2')).toBe('weft: task a (run r1, attempt 1)');
    expect(existsSync(join(repo.dir, 'a.txt'))).toBe(false);
    await ws.close();
  });

  it('a remote that refuses the push fails the attempt with the remote named, its password masked', async () => {
    const repo = tempRepo();
    repos.push(repo);
    const a = task('a');
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir, tasks: [a] });
    const workdir = await ws.prepare(a, 1, false);
    const url = 'file://ci:tok-secret-99@localhost/nowhere/shared.git';
    const error = await new RemoteWorktrees(url, 'r1', ws)
      .send({ task: a, attempt: 1, workdir })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('file://ci@localhost/nowhere/shared.git'); // the password never on git's command line
    expect((error as Error).message).not.toContain('tok-secret-99');
    await ws.close();
  });
});

describe('pruning a run that succeeded', () => {
  it("deletes every ref of that run's attempts from the shared remote, in slices, and leaves other runs' refs", async () => {
    const repo = tempRepo();
    repos.push(repo);
    const remote = bare();
    const head = repo.git('rev-parse', 'HEAD');
    // 450 refs of run r1 (more than one push's slice), and two of run r10, whose id r1 begins.
    const mine = Array.from({ length: 225 }, (_, k) => [
      `refs/weft/r1/t${k}/1/base`,
      `refs/weft/r1/t${k}/1/result`,
    ]).flat();
    const other = ['refs/weft/r10/a/1/base', 'refs/weft/r10/a/1/result'];
    repo.git('push', '-q', remote, 'HEAD:refs/heads/main');
    const input = [...mine, ...other].map((ref) => `create ${ref} ${head}\n`).join('');
    execFileSync('git', ['update-ref', '--stdin'], { cwd: remote, input });
    const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir, tasks: [task('a')] });
    expect(await new RemoteWorktrees(remote, 'r1', ws).prune(repo.dir)).toBe(450);
    const left = execFileSync('git', ['for-each-ref', '--format=%(refname)', 'refs/weft'], {
      cwd: remote,
      encoding: 'utf8',
    });
    expect(left.trim().split('\n')).toEqual(other);
    expect(await new RemoteWorktrees(remote, 'r1', ws).prune(repo.dir)).toBe(0); // nothing left: nothing to do
    await ws.close();
  });
});

describe('a remote over http with a password in its URL', () => {
  it('sends the password as an Authorization header from git’s environment, and masks it in the refusal', async () => {
    const { createServer } = await import('node:http');
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(403).end('no');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    try {
      const url = `http://ci:s3cr%40t@127.0.0.1:${port}/app.git`;
      const refused = await RemoteWorktrees.check(url, '--git-remote', tmpdir()).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(refused).toMatch(
        /^--git-remote: cannot reach the git remote http:\/\/ci:\*\*\*@127\.0\.0\.1:\d+\/app\.git/,
      );
      expect(refused).not.toContain('s3cr');
      // A path that is no repository: git's reason, not its closing advice.
      const missing = join(tmpdir(), 'no-such-remote.git');
      const gone = await RemoteWorktrees.check(missing, '--git-remote', tmpdir()).then(
        () => undefined,
        (e: Error) => e.message,
      );
      expect(gone).toBe(
        `--git-remote: cannot reach the git remote ${missing} ('${missing}' does not appear to be a git repository)`,
      );
      // The server got the credentials (decoded), though the command line carried none.
      expect(seen).toContain(`Basic ${Buffer.from('ci:s3cr@t').toString('base64')}`);
    } finally {
      server.close();
    }
  });
});

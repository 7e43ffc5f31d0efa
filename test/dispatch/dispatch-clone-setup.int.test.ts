import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { tempProject, weft } from '../support/weft-cli.js';
import { bareRemote, farWorker, project, runIdOf, sh } from './clone-kit.js';
import { events, REDIS, uniquePrefix, workerProcs } from './dispatch-kit.js';

/**
 * Clone mode and the plan's `workspace:`: a worker with its own clone makes its worktrees ready as
 * the coordinator does — the set-up run in its clone folder, once per lockfile content — and takes
 * the files git does not track from its own `<clone>/files/`, never from the job.
 */
const procs = workerProcs();

const COORDINATOR_SECRET = 'coordinator-only-9931';

/** A plan whose set-up makes `deps/marker` from the lockfile; its tasks read it (and `.env`) into their output. */
function setupProject(marks: string, copy: boolean) {
  const read = (id: string) => ({
    id,
    writes: [`${id}.txt`],
    run: sh(`cat deps/marker ${copy ? '.env' : ''} > ${id}.txt; echo "${id} $PWD" >> ${marks}`),
  });
  const p = project(
    {
      name: 'setup',
      workspace: {
        setup: {
          run: sh(`mkdir deps && cp lock.txt deps/marker; echo "setup $PWD" >> ${marks}`),
          key: ['lock.txt'],
          share: ['deps'],
        },
        ...(copy ? { copy: ['.env'] } : {}),
      },
      tasks: [read('a'), read('b')],
    },
    { 'lock.txt': 'lock-v1\n', '.gitignore': '.env\n' },
  );
  if (copy) writeFileSync(join(p.dir, '.env'), `TOKEN=${COORDINATOR_SECRET}\n`);
  return p;
}

async function runOn(p: { dir: string; plan: string }, prefix: string, remote: string) {
  return weft(['run', p.plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--git-remote', remote, '--json'], {
    cwd: p.dir,
    timeoutMs: 300_000,
  });
}

describe('weft worker --clone and workspace:', () => {
  it("runs the plan's set-up in its own clone folder, once for its tasks; they see its result, which is not committed", async () => {
    const prefix = uniquePrefix();
    const marks = join(tempProject('weft-clone-marks-'), 'marks.txt');
    const p = setupProject(marks, false);
    const clone = realpathSync(tempProject('weft-clone-dir-'));
    procs.push(await farWorker(prefix, clone));
    const r = await runOn(p, prefix, bareRemote());
    expect(r.code, r.stderr).toBe(0);
    const runId = runIdOf(events(r.stdout));
    for (const id of ['a', 'b']) expect(p.git('show', `weft/${runId}:${id}.txt`).stdout).toBe('lock-v1\n');
    // The set-up's folder is linked into worktrees, never part of the work.
    expect(p.git('ls-tree', '-r', '--name-only', `weft/${runId}`).stdout).not.toContain('deps');
    const lines = readFileSync(marks, 'utf8').trim().split('\n');
    // The tasks ran on the worker; the set-up ran once there (and once on the coordinator, for its own worktrees).
    for (const id of ['a', 'b']) expect(lines.find((l) => l.startsWith(`${id} `))).toContain(`${clone}/worktrees/`);
    const setups = lines.filter((l) => l.startsWith('setup '));
    expect(setups.filter((l) => l.includes(`${clone}/`))).toHaveLength(1);
    expect(setups).toHaveLength(2);
    // Its result is cached in the worker's clone folder.
    const cached = readdirSync(join(clone, 'setup')).filter((f) => !f.endsWith('.log'));
    expect(cached).toHaveLength(1);
    expect(readFileSync(join(clone, 'setup', cached[0] as string, 'deps', 'marker'), 'utf8')).toBe('lock-v1\n');
  }, 400_000);

  it("copies `workspace.copy` files from the worker's own <clone>/files/, never the coordinator's through Redis", async () => {
    const prefix = uniquePrefix();
    const marks = join(tempProject('weft-clone-marks-'), 'marks.txt');
    const p = setupProject(marks, true);
    const clone = realpathSync(tempProject('weft-clone-dir-'));
    mkdirSync(join(clone, 'files'));
    writeFileSync(join(clone, 'files', '.env'), 'TOKEN=worker-own\n');
    procs.push(await farWorker(prefix, clone));
    const r = await runOn(p, prefix, bareRemote());
    expect(r.code, r.stderr).toBe(0);
    const runId = runIdOf(events(r.stdout));
    expect(p.git('show', `weft/${runId}:a.txt`).stdout).toBe('lock-v1\nTOKEN=worker-own\n');
    expect(p.git('ls-tree', '-r', '--name-only', `weft/${runId}`).stdout).not.toContain('.env');
    const redis = new Redis(REDIS);
    try {
      let stored = '';
      for (const k of await redis.keys(`${prefix}:*`))
        if ((await redis.type(k)) === 'hash') stored += JSON.stringify(await redis.hgetall(k));
      expect(stored).toContain('\\"copy\\":[\\".env\\"]');
      expect(stored).not.toContain(COORDINATOR_SECRET);
    } finally {
      redis.disconnect();
    }
  }, 400_000);

  it("masks the secrets of the worker's own .env in what its tasks print, on the worker and on the coordinator", async () => {
    const prefix = uniquePrefix();
    const p = project(
      {
        name: 'leaky-env',
        workspace: { copy: ['.env'] },
        tasks: [{ id: 'a', writes: ['a.txt'], run: sh('cat .env; touch a.txt') }],
      },
      { '.gitignore': '.env\n' },
    );
    writeFileSync(join(p.dir, '.env'), `API_TOKEN=${COORDINATOR_SECRET}\n`);
    const clone = realpathSync(tempProject('weft-clone-dir-'));
    mkdirSync(join(clone, 'files'));
    writeFileSync(join(clone, 'files', '.env'), 'API_TOKEN=worker-own-secret-4417\nPLAIN=kept\n');
    procs.push(await farWorker(prefix, clone));
    const r = await runOn(p, prefix, bareRemote());
    expect(r.code, r.stderr).toBe(0);
    const runId = runIdOf(events(r.stdout));
    const logs = await weft(['logs', runId, 'a'], { cwd: p.dir });
    expect(logs.stdout).toBe('API_TOKEN=***\nPLAIN=kept\n');
    expect(r.stdout).not.toContain('worker-own-secret-4417');
    const weftDir = join(p.dir, '.weft');
    const holding = readdirSync(weftDir, { recursive: true, encoding: 'utf8' }).filter((f) => {
      const path = join(weftDir, f);
      return (
        !f.endsWith('.env') &&
        existsSync(path) &&
        !statSync(path).isDirectory() &&
        readFileSync(path).includes('worker-own-secret-4417')
      );
    });
    expect(holding).toEqual([]);
  }, 400_000);

  it('refuses an attempt whose `workspace.copy` file the worker does not have, naming where to put it', async () => {
    const prefix = uniquePrefix();
    const p = setupProject(join(tempProject('weft-clone-marks-'), 'marks.txt'), true);
    const clone = realpathSync(tempProject('weft-clone-dir-'));
    procs.push(await farWorker(prefix, clone));
    const r = await runOn(p, prefix, bareRemote());
    expect(r.code).toBe(1);
    const failed = events(r.stdout).find((e) => e.type === 'task.failed');
    expect(JSON.stringify(failed)).toContain(`workspace.copy: .env is not in ${join(clone, 'files')}`);
    // Its worktree went.
    expect(existsSync(join(clone, 'worktrees', runIdOf(events(r.stdout)), 'a'))).toBe(false);
  }, 400_000);
});

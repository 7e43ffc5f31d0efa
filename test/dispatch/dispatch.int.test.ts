import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needService } from '../support/need-service.js';
import { TEST_DATABASE_URL } from '../support/services.js';
import { tempProject, weft } from '../support/weft-cli.js';
import { isRunning } from '../../src/executors/testing/task-like-process.js';
import {
  events,
  killMachine,
  MARK,
  marks,
  REDIS,
  sleep,
  start,
  startWorker,
  uniquePrefix,
  until,
  workerProcs,
} from './dispatch-kit.js';

/**
 * `weft worker` and `weft run --dispatch` as real processes on the real Redis (and PostgreSQL for
 * the journal of the resume test): tasks append "task attempt worker phase" to lines.txt in the
 * project folder, which every worker shares (tasks run in place).
 */
const procs = workerProcs();

const sh = (script: string): string[] => ['sh', '-c', script];

function writePlan(project: string, plan: unknown): string {
  const file = join(project, 'plan.json');
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

describe('weft worker + weft run --dispatch', () => {
  it('200 tasks on 3 workers, one SIGKILLed mid-run: every task done, re-runs only of what the dead worker was running', async () => {
    const project = tempProject('weft-dispatch-');
    const prefix = uniquePrefix();
    const tasks = Array.from({ length: 200 }, (_, i) => ({
      id: `t${i}`,
      run: sh(`${MARK('start')}; sleep 0.2; ${MARK('end')}`),
    }));
    const plan = writePlan(project, {
      name: 'two-hundred',
      workers: 12,
      defaults: { backoff: { initial: '20ms', jitter: false } },
      tasks,
    });
    const args = ['--concurrency', '4', '--lock-ms', '10000'];
    const workers = await Promise.all(['w1', 'w2', 'w3'].map((who) => startWorker(project, who, prefix, args)));
    procs.push(...workers);
    const run = start(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], project);
    procs.push(run);
    // Kill w1 once it has started a few tasks and is running some.
    await until(() => marks(project).filter((m) => m.who === 'w1' && m.phase === 'start').length >= 8, 'w1 to work');
    expect(killMachine(`${prefix}-w1`)).toBeGreaterThan(1);
    await sleep(500); // a line being written as the signals landed
    const killedAt = marks(project);
    const { code } = await run.done;
    const journal = events(run.stdout());
    // Should it fail: which task failed, and why (the run's own account, on its --json stdout).
    const failures = journal.filter((e) => e.type === 'task.failed' || e.type === 'run.finished');
    expect(code, `${run.stderr()}${JSON.stringify(failures)}`).toBe(0);
    const all = marks(project);
    const succeeded = journal.filter((e) => e.type === 'task.succeeded');
    // None lost: every task succeeded once.
    expect(new Set(succeeded.map((e) => e.task)).size).toBe(200);
    expect(succeeded.length).toBe(200);
    // What ran again: only attempts w1 had taken and whose result never came back — its process
    // may have ended just before the kill, but a job still active on a dead worker is in flight.
    const retried = journal.filter((e) => e.type === 'task.retrying');
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.length).toBeLessThanOrEqual(4); // w1's --concurrency
    for (const e of retried) {
      expect(e.attempt).toBe(1);
      expect(e.error).toMatchObject({ code: 'WEFT_WORKER_LOST', transient: true });
      // Its first attempt was w1's: started there, or taken by w1 and killed before its first line
      // (w1's slots run in step, so the kill often lands as one takes its next job) — never another worker's.
      const firstBy = all.filter((m) => m.task === e.task && m.attempt === 1).map((m) => m.who);
      expect(
        firstBy.every((who) => who === 'w1'),
        `${e.task}'s first attempt ran on ${firstBy.join(', ')}`,
      ).toBe(true);
      expect(succeeded.find((s) => s.task === e.task)?.attempt).toBe(2);
      // Its second attempt ran on a live worker.
      expect(all.filter((m) => m.task === e.task && m.attempt === 2).map((m) => m.who)).not.toContain('w1');
    }
    const rerun = new Set(retried.map((e) => e.task));
    for (const m of all) if (!rerun.has(m.task)) expect(m.attempt, `${m.task} ran twice`).toBe(1);
    // Every task's work ended; only a re-run one may have ended twice (once on w1, its result lost).
    const ends = (t: string): number => all.filter((m) => m.task === t && m.phase === 'end').length;
    for (const t of tasks) expect(ends(t.id), t.id).toBe(rerun.has(t.id) ? ends(t.id) : 1);
    // Nothing ran on w1 after the kill.
    expect(all.filter((m) => m.who === 'w1')).toEqual(killedAt.filter((m) => m.who === 'w1'));
  }, 600_000);

  it('a worker SIGKILLed on its own takes its task processes with it (its orphan reaper stops them)', async () => {
    const project = tempProject('weft-dispatch-');
    const prefix = uniquePrefix();
    const plan = writePlan(project, {
      name: 'reaped',
      tasks: [{ id: 'long', run: sh('sleep 60 & echo $! > long.pid; wait') }],
    });
    const worker = await startWorker(project, 'w1', prefix);
    procs.push(worker);
    const run = start(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix], project);
    procs.push(run);
    const pidFile = join(project, 'long.pid');
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the task to start');
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    worker.child.kill('SIGKILL');
    await worker.done;
    await until(() => !isRunning(sleeper), 'the task process to be stopped', 10_000);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(130);
  }, 300_000);

  it('coordinator SIGKILLed, then `weft resume --dispatch` (PostgreSQL journal): no attempt starts twice', async () => {
    needService('postgres');
    const project = tempProject('weft-dispatch-resume-');
    const prefix = uniquePrefix();
    const database = `${TEST_DATABASE_URL}?schema=${prefix.replaceAll('-', '_')}`;
    const tasks = Array.from({ length: 24 }, (_, i) => ({
      id: `t${i}`,
      run: sh(`${MARK('start')}; sleep 1; ${MARK('end')}`),
      ...(i >= 12 ? { needs: [`t${i - 12}`] } : {}),
    }));
    const plan = writePlan(project, { name: 'adopt', workers: 6, tasks });
    const workers = await Promise.all(
      ['w1', 'w2'].map((who) => startWorker(project, who, prefix, ['--concurrency', '3', '--lock-ms', '10000'])),
    );
    procs.push(...workers);
    const env = { WEFT_DATABASE_URL: database };
    const run = start(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], project, env);
    procs.push(run);
    // Killed while attempts run on the workers (and some have finished).
    await until(() => marks(project).filter((m) => m.phase === 'end').length >= 3, 'tasks to end');
    await until(() => events(run.stdout()).filter((e) => e.type === 'task.started').length >= 9, 'more to start');
    run.child.kill('SIGKILL');
    await run.done;
    const resumed = await weft(['resume', '--dispatch', REDIS, '--json'], { cwd: project, env, timeoutMs: 300_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/adopting \d+ attempt\(s\) still queued or running on workers/);
    const all = marks(project);
    // Every task started once and ended once: adopted attempts were waited for, not started again.
    for (const t of tasks) {
      expect(all.filter((m) => m.task === t.id && m.phase === 'start').length, t.id).toBe(1);
      expect(all.filter((m) => m.task === t.id && m.phase === 'end').length, t.id).toBe(1);
    }
    // An attempt 2 only where attempt 1 never started anywhere: the coordinator was killed after it
    // journaled the start and before the job reached Redis, so there was nothing to adopt.
    for (const m of all.filter((x) => x.attempt !== 1))
      expect(
        all.filter((x) => x.task === m.task && x.attempt === 1),
        m.task,
      ).toEqual([]);
    const summary = events(resumed.stdout).find((e) => e.type === 'run.summary') as unknown as {
      summary: { status: string };
    };
    expect(summary.summary.status).toBe('succeeded');
  }, 600_000);

  it('a task only one worker can run (labels) goes to that worker', async () => {
    const project = tempProject('weft-dispatch-label-');
    const prefix = uniquePrefix();
    const tasks = [
      { id: 'train', labels: ['gpu'], run: sh(`${MARK('start')}; ${MARK('end')}`) },
      ...Array.from({ length: 6 }, (_, i) => ({ id: `cpu${i}`, run: sh(`${MARK('start')}; ${MARK('end')}`) })),
    ];
    const plan = writePlan(project, { name: 'labels', workers: 4, tasks });
    procs.push(await startWorker(project, 'plain', prefix, ['--concurrency', '4']));
    procs.push(await startWorker(project, 'gpu', prefix, ['--label', 'gpu']));
    const run = await weft(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      timeoutMs: 300_000,
    });
    expect(run.code, run.stderr).toBe(0);
    const who = marks(project).filter((m) => m.task === 'train');
    expect(who.map((m) => m.who)).toEqual(['gpu', 'gpu']);
  }, 400_000);

  it('says which tasks no connected worker can run', async () => {
    const project = tempProject('weft-dispatch-unmet-');
    const prefix = uniquePrefix();
    const plan = writePlan(project, { name: 'unmet', tasks: [{ id: 'render', labels: ['gpu'], run: ['true'] }] });
    const run = start(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix], project);
    procs.push(run);
    await until(() => run.stderr().includes('no worker'), 'the notice');
    expect(run.stderr()).toContain(
      'weft: no worker connected runs shell with label gpu (task render); they wait for one (`weft worker --redis … --label gpu`)',
    );
    // A worker that comes later takes it.
    procs.push(await startWorker(project, 'late', prefix, ['--label', 'gpu']));
    expect((await run.done).code).toBe(0);
  }, 400_000);
});

describe('a task waiting in the queue for a worker', () => {
  it('is not timed out or called stalled before a worker takes it: both count from then', async () => {
    const project = tempProject('weft-dispatch-queued-');
    const prefix = uniquePrefix();
    const plan = writePlan(project, {
      name: 'queued',
      tasks: [
        { id: 'render', labels: ['gpu'], timeout: '3s', stallAfter: '2s', run: sh(`${MARK('start')}; ${MARK('end')}`) },
      ],
    });
    const run = start(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], project);
    procs.push(run);
    await until(() => run.stderr().includes('no worker'), 'the notice');
    await sleep(4500); // past both the timeout and the watchdog, counted from when it was sent
    expect(marks(project)).toEqual([]);
    procs.push(await startWorker(project, 'late', prefix, ['--label', 'gpu']));
    const done = await run.done;
    expect(done.code, run.stderr()).toBe(0);
    expect(marks(project).map((m) => `${m.task} ${m.attempt} ${m.phase}`)).toEqual(['render 1 start', 'render 1 end']);
    expect(events(run.stdout()).filter((e) => e.type === 'task.failed')).toEqual([]);
    // Sent, not started: the first line says it waits in the queue; its progress says when a worker took it.
    expect(events(run.stdout()).find((e) => e.type === 'task.started')).toMatchObject({ task: 'render', queued: true });
    expect(events(run.stdout()).find((e) => e.type === 'task.progress')).toMatchObject({
      task: 'render',
      progress: { kind: 'status', message: 'a worker took it' },
    });
  }, 400_000);
});

describe('settings', () => {
  it('`dispatch:` in weft.config.yaml sends the run to the workers without a flag', async () => {
    const project = tempProject('weft-dispatch-config-');
    const prefix = uniquePrefix();
    writeFileSync(join(project, 'weft.config.yaml'), `dispatch: { redis: ${REDIS}, prefix: ${prefix} }\n`);
    const plan = writePlan(project, { name: 'cfg', tasks: [{ id: 'a', run: sh(`${MARK('start')}`) }] });
    procs.push(await startWorker(project, 'remote', prefix));
    const r = await weft(['run', plan], { cwd: project, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(marks(project).map((m) => m.who)).toEqual(['remote']);
  }, 400_000);

  it('a worker with --root refuses a task whose folder is outside it, saying why', async () => {
    const project = tempProject('weft-dispatch-root-');
    const prefix = uniquePrefix();
    const plan = writePlan(project, { name: 'root', tasks: [{ id: 'a', run: ['true'] }] });
    procs.push(await startWorker(project, 'rooted', prefix, ['--root', tempProject('weft-elsewhere-')]));
    const r = await weft(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      timeoutMs: 300_000,
    });
    expect(r.code).toBe(1);
    const failed = events(r.stdout).find((e) => e.type === 'task.failed');
    expect((failed?.error as { message: string }).message).toMatch(/the task's folder .* is outside its --root/);
  }, 400_000);

  it("a task that works in its own git worktree runs on a worker there, and its work is merged into the run's branch", async () => {
    const project = tempProject('weft-dispatch-iso-');
    const prefix = uniquePrefix();
    const git = (...args: string[]) => spawnSync('git', args, { cwd: project, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(project, 'README'), 'hello\n');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
    const where = join(tempProject('weft-dispatch-iso-marks-'), 'where.txt');
    const gen = (id: string, text: string) => ({
      id,
      writes: [`${id}.txt`],
      run: sh(`echo ${text} > ${id}.txt; echo "${id} $WHO $PWD" >> ${where}`),
    });
    const plan = writePlan(project, {
      name: 'iso',
      tasks: [
        gen('a', 'A'),
        gen('b', 'B'),
        // Needs isolated tasks, so it runs on their merged result.
        { id: 'both', needs: ['a', 'b'], run: sh(`cat a.txt b.txt; echo "both $WHO $PWD" >> ${where}`) },
      ],
    });
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'plan');
    procs.push(await startWorker(project, 'remote', prefix, ['--concurrency', '2', '--root', project]));
    const r = await weft(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const ran = readFileSync(where, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    // Every task ran on the worker, in a worktree under the run's folder — not in the user's checkout.
    expect(ran.map(([task, who]) => `${task} ${who}`).sort()).toEqual(['a remote', 'b remote', 'both remote']);
    for (const [, , dir] of ran) expect(dir).toContain(`${join(project, '.weft', 'worktrees')}/`);
    const both = events(r.stdout).find((e) => e.type === 'task.succeeded' && e.task === 'both');
    expect((both?.result as { text: string }).text.trim()).toBe('A\nB');
    // Their work is on the run's branch; the user's checkout is as it was.
    const branch = git('for-each-ref', '--format=%(refname:short)', 'refs/heads/weft/').stdout.trim();
    expect(branch).toMatch(/^weft\//);
    expect(git('show', `${branch}:a.txt`).stdout).toBe('A\n');
    expect(git('show', `${branch}:b.txt`).stdout).toBe('B\n');
    expect(existsSync(join(project, 'a.txt'))).toBe(false);
    expect(git('status', '--porcelain', '--untracked-files=no').stdout).toBe('');
  }, 400_000);

  it('a worker that does not see the worktree says so: the task fails with its folder named', async () => {
    const project = tempProject('weft-dispatch-iso-far-');
    const prefix = uniquePrefix();
    const git = (...args: string[]) => spawnSync('git', args, { cwd: project });
    git('init', '-q');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init');
    const plan = writePlan(project, { name: 'far', tasks: [{ id: 'gen', run: ['true'], writes: ['out/**'] }] });
    // --root elsewhere: as a worker on another machine, it cannot work in the coordinator's worktree.
    procs.push(await startWorker(project, 'far', prefix, ['--root', tempProject('weft-elsewhere-')]));
    const r = await weft(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      timeoutMs: 300_000,
    });
    expect(r.code).toBe(1);
    const failed = events(r.stdout).find((e) => e.type === 'task.failed');
    expect((failed?.error as { message: string }).message).toMatch(
      /the task's folder .*\.weft\/worktrees\/.*gen is outside its --root/,
    );
  }, 400_000);
});

describe('secrets', () => {
  it("a worker's key printed by a task is masked before it leaves the worker; the coordinator's keys never enter Redis", async () => {
    const project = tempProject('weft-dispatch-secret-');
    const prefix = uniquePrefix();
    const plan = writePlan(project, {
      name: 'secret',
      tasks: [{ id: 'leak', run: sh('echo "key=$WORKER_API_KEY"'), env: { DB_PASSWORD: 'plan-pass-123' } }],
    });
    procs.push(await startWorker(project, 'keyed', prefix, [], { WORKER_API_KEY: 'worker-key-98765' }));
    const r = await weft(['run', plan, '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      env: { COORDINATOR_API_KEY: 'coordinator-key-4242' },
      timeoutMs: 300_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const done = events(r.stdout).find((e) => e.type === 'task.succeeded');
    expect((done?.result as { text: string }).text).toBe('key=***');
    expect(r.stdout).not.toContain('worker-key-98765');
    const redis = new Redis(REDIS);
    try {
      const keys = await redis.keys(`${prefix}:*`);
      let stored = '';
      for (const k of keys) if ((await redis.type(k)) === 'hash') stored += JSON.stringify(await redis.hgetall(k));
      expect(stored).toContain('leak'); // the job is there
      expect(stored).not.toContain('coordinator-key-4242');
      expect(stored).not.toContain('worker-key-98765');
    } finally {
      redis.disconnect();
    }
  }, 400_000);
});

describe('bad input: one line naming the flag and the fix, exit 2', () => {
  const project = tempProject('weft-dispatch-bad-');
  const plan = writePlan(project, { name: 'bad', tasks: [{ id: 'a', run: ['true'] }] });

  it.each([
    [['run', plan, '--dispatch', 'http://x'], 'weft: --dispatch: "http://x" is not a Redis URL'],
    [['run', plan, '--dispatch', 'redis://127.0.0.1:1'], 'weft: --dispatch: cannot reach Redis at redis://127.0.0.1:1'],
    [['worker', '--redis', 'nope'], 'weft: --redis: "nope" is not a Redis URL'],
    [['worker', '--redis', 'redis://127.0.0.1:1'], 'weft: --redis: cannot reach Redis at redis://127.0.0.1:1'],
    [['worker', '--redis', REDIS, '--concurrency', '0'], 'weft: --concurrency expects a whole number from 1'],
    [['worker', '--redis', REDIS, '--lock-ms', '5'], 'weft: --lock-ms expects a whole number from 1000'],
    [['worker', '--redis', REDIS, '--label', 'a b'], 'weft: --label: "a b" is not a label'],
    [
      ['worker', '--redis', REDIS, '--root', join(project, 'nope')],
      `weft: --root ${join(project, 'nope')}: no such folder`,
    ],
    [['worker', '--redis', `${REDIS}/abc`], `weft: --redis: "abc" in "${REDIS}/abc" is not a database number`],
    [['run', plan, '--dispatch', `${REDIS}/x1`], `weft: --dispatch: "x1" in "${REDIS}/x1" is not a database number`],
    [['run', plan, '--queue-prefix', 'x'], 'weft: --queue-prefix needs --dispatch'],
    [['run', plan, '--dispatch', REDIS, '--queue-prefix', 'a:b'], 'weft: --queue-prefix: "a:b" is not a prefix'],
  ])('weft %j', async (args, line) => {
    const r = await weft(args, { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(line);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a bad `dispatch.redis` in weft.config.yaml is named as such', async () => {
    const dir = tempProject('weft-dispatch-badcfg-');
    writeFileSync(join(dir, 'weft.config.yaml'), 'dispatch: { redis: "redis://127.0.0.1:1" }\n');
    const p = writePlan(dir, { name: 'bad', tasks: [{ id: 'a', run: ['true'] }] });
    const r = await weft(['run', p], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(
      'weft: dispatch.redis (weft.config.yaml): cannot reach Redis at redis://127.0.0.1:1',
    );
  });

  it('a password in the URL is not shown', async () => {
    const r = await weft(['run', plan, '--dispatch', 'redis://:hunter2@127.0.0.1:1'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('redis://:***@127.0.0.1:1');
    expect(r.stderr).not.toContain('hunter2');
  });
});

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';
import { isRunning } from '../../src/executors/testing/task-like-process.js';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';

beforeAll(ensureBuilt);

describe('Ctrl-C', () => {
  it('stops running tasks (their whole process groups), records it, and exits 130', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      [
        'workers: 2',
        'tasks:',
        ...['one', 'two'].map((id) => `  - { id: ${id}, run: [sh, -c, 'sleep 60 & echo $! > ${id}.pid; wait'] }`),
        '  - { id: after, run: "true", needs: [one] }',
      ].join('\n'),
    );
    const { child, done } = startWeft(['run', 'plan.yaml'], project);
    for (let i = 0; i < 200 && !(existsSync(join(project, 'one.pid')) && existsSync(join(project, 'two.pid'))); i++)
      await new Promise((r) => setTimeout(r, 25));
    const pids = ['one', 'two'].map((id) => Number(readFileSync(join(project, `${id}.pid`), 'utf8')));
    expect(pids.every(isRunning)).toBe(true);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('stopping — cancelling running tasks');
    for (let i = 0; i < 40 && pids.some(isRunning); i++) await new Promise((res) => setTimeout(res, 25));
    expect(pids.some(isRunning)).toBe(false);
    const runDir = join(project, '.weft', 'runs', readdirSync(join(project, '.weft', 'runs'))[0] as string);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toMatchObject({
      status: 'cancelled',
      reason: 'interrupted (Ctrl-C)',
      counts: { cancelled: 3 },
    });
    // The journal says the same, and the run can be resumed.
    const status = await weft(['status', '--json'], { cwd: project });
    const summary = JSON.parse(status.stdout);
    expect(summary.tasks.map((t: { id: string; state: string }) => `${t.id}:${t.state}`)).toEqual([
      'one:cancelled',
      'two:cancelled',
      'after:cancelled',
    ]);
    const runs = JSON.parse((await weft(['runs', '--json'], { cwd: project })).stdout);
    expect(runs).toMatchObject([{ status: 'cancelled', tasks: 3 }]);
  });

  it('stops a long run of gates, which end as they start and so never wait for the event loop', async () => {
    const project = tempProject();
    const n = 50_000;
    const gates = Array.from(
      { length: n - 1 },
      (_, i) => `  - { id: g${i + 1}, needs: [g${i}], gate: tasks.g${i}.succeeded }`,
    );
    writeFileSync(
      join(project, 'plan.yaml'),
      ['workers: 1', 'tasks:', '  - { id: g0, run: "true" }', ...gates].join('\n'),
    );
    const { child, done, output } = startWeft(['run', 'plan.yaml', '--no-progress'], project);
    for (let i = 0; i < 2400 && !output().includes('✓ g2 '); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const runs = JSON.parse((await weft(['runs', '--json'], { cwd: project })).stdout);
    expect(runs).toMatchObject([{ status: 'cancelled', tasks: n }]);
    const status = JSON.parse((await weft(['status', '--json'], { cwd: project })).stdout);
    const succeeded = status.tasks.filter((t: { state: string }) => t.state === 'succeeded').length;
    expect(succeeded).toBeGreaterThan(2);
    expect(succeeded).toBeLessThan(n);
  }, 120_000);

  for (const [signal, reason] of [
    ['SIGHUP', 'the terminal closed (SIGHUP)'],
    ['SIGTERM', 'stopped (SIGTERM)'],
  ] as const)
    it(`${signal} stops running tasks like Ctrl-C, records why ("${reason}"), and exits 130`, async () => {
      const project = tempProject();
      writeFileSync(
        join(project, 'plan.yaml'),
        ['tasks:', "  - { id: one, run: [sh, -c, 'sleep 60 & echo $! > one.pid; wait'] }"].join('\n'),
      );
      const { child, done } = startWeft(['run', 'plan.yaml'], project);
      const pid = await pidFrom(join(project, 'one.pid'));
      child.kill(signal);
      const r = await done;
      expect([r.code, r.signal]).toEqual([130, null]);
      await until(() => !isRunning(pid));
      expect(isRunning(pid)).toBe(false);
      const status = JSON.parse((await weft(['status', '--json'], { cwd: project })).stdout);
      expect(status.tasks.map((t: { id: string; state: string }) => `${t.id}:${t.state}`)).toEqual(['one:cancelled']);
      expect(status.reason).toBe(reason);
    });

  it('a terminal that closes under a live run (its output fails with EIO, then SIGHUP): stopped and recorded, no stack trace', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({
        tasks: [
          { id: 'one', run: ['sh', '-c', 'sleep 60 & echo $! > one.pid; wait'] },
          { id: 'talk', run: ['sh', '-c', 'while true; do echo line; sleep 0.1; done'] },
        ],
      }),
    );
    // A real terminal (script's pty), taken away as a closed window takes it: its owner killed.
    const command = `node ${JSON.stringify(CLI)} run plan.yaml 2> err.txt`;
    const terminal = spawn('script', ['-qfc', command, '/dev/null'], { cwd: project, detached: true, stdio: 'ignore' });
    const pid = await pidFrom(join(project, 'one.pid'));
    await new Promise((r) => setTimeout(r, 500));
    process.kill(terminal.pid as number, 'SIGKILL');
    await until(() => !isRunning(pid), 20_000);
    await until(
      () =>
        JSON.parse(execFileSync('node', [CLI, 'runs', '--json'], { cwd: project, encoding: 'utf8' }))[0]?.status !==
        'running',
      20_000,
    );
    const err = readFileSync(join(project, 'err.txt'), 'utf8');
    expect(err).not.toMatch(/Error: write EIO|\n\s+at /);
    const status = JSON.parse((await weft(['status', '--json'], { cwd: project })).stdout);
    expect(status).toMatchObject({ status: 'cancelled', reason: 'the terminal closed (SIGHUP)' });
  });

  /** `weft run` of a plan whose workspace set-up (an npm ci) starts a sleep of a minute, once that sleep runs. */
  async function duringSetup(): Promise<{ repo: string; pid: number } & ReturnType<typeof startWeft>> {
    const repo = tempRepo({
      'package-lock.json': 'v1\n',
      'plan.yaml': [
        'workspace:',
        "  setup: { run: [sh, -c, 'sleep 60 & echo $! > ../setup.pid; wait; mkdir node_modules'], key: [package-lock.json], share: [node_modules] }",
        'tasks:',
        '  - { id: a, run: [sh, -c, "echo a > a.txt"], writes: [a.txt] }',
      ].join('\n'),
    });
    const started = startWeft(['run', 'plan.yaml'], repo.dir);
    const pidFile = (): string | undefined => {
      const runs = join(repo.dir, '.weft', 'worktrees');
      for (const run of existsSync(runs) ? readdirSync(runs) : [])
        if (existsSync(join(runs, run, 'setup.pid'))) return join(runs, run, 'setup.pid');
      return undefined;
    };
    for (let i = 0; i < 400 && pidFile() === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    const pid = Number(readFileSync(pidFile() as string, 'utf8'));
    expect(isRunning(pid)).toBe(true);
    return { repo: repo.dir, pid, ...started };
  }

  it('SIGTERM during the workspace set-up (an npm ci) stops it and what it started, at once: cancelled, exit 130', async () => {
    const { repo, pid, child, done } = await duringSetup();
    const sent = Date.now();
    child.kill('SIGTERM');
    const r = await done;
    expect(Date.now() - sent).toBeLessThan(15_000); // not the minute the set-up would take
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('■ a cancelled: interrupted before start');
    for (let i = 0; i < 40 && isRunning(pid); i++) await new Promise((res) => setTimeout(res, 25));
    expect(isRunning(pid)).toBe(false);
    const runs = JSON.parse((await weft(['runs', '--json'], { cwd: repo })).stdout);
    expect(runs).toMatchObject([{ status: 'cancelled', tasks: 1 }]);
  });

  it('SIGKILL during the workspace set-up leaves nothing of it running (the orphan reaper stops it)', async () => {
    const { pid, child, done } = await duringSetup();
    // The set-up writes its pid as weft records its group with the reaper: the kill comes after that.
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    await until(() => !isRunning(pid), 10_000);
    expect(isRunning(pid)).toBe(false);
  });

  it('a second Ctrl-C kills a task that ignores SIGTERM (its whole process group) and quits at once', async () => {
    const project = tempProject();
    const stubborn = 'trap "" TERM; echo $$ > sh.pid; sleep 60 & echo $! > sleep.pid; wait; sleep 60';
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 'stubborn', run: ['sh', '-c', stubborn] }] }),
    );
    const { child, done } = startWeft(['run', 'plan.yaml'], project);
    const pids = [await pidFrom(join(project, 'sh.pid')), await pidFrom(join(project, 'sleep.pid'))];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.kill('SIGINT');
    await until(() => stderr.includes('stopping'));
    expect(pids.every(isRunning)).toBe(true); // SIGTERM did nothing to it
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('quitting — killed 1 task process group(s)');
    // weft is gone, and with it the 3 s SIGTERM→SIGKILL grace timer: only the second Ctrl-C can have killed them.
    await until(() => !pids.some(isRunning));
    expect(pids.filter(isRunning)).toEqual([]);
  });
});

async function pidFrom(file: string): Promise<number> {
  await until(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '');
  return Number(readFileSync(file, 'utf8'));
}

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms && !ok(); waited += 25) await new Promise((r) => setTimeout(r, 25));
}

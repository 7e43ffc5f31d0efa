import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const PLAN = `tasks:
  - { id: build, run: "true" }
  - id: deploy
    needs: [build]
    approval: required
    run: [node, -e, 'require("fs").writeFileSync("deployed", "yes")']
  - { id: announce, needs: [deploy], run: "true" }
`;

function project(): string {
  const dir = tempProject('weft-approve-');
  mkdirSync(join(dir, 'plans'));
  writeFileSync(join(dir, 'plans', 'deploy.yaml'), PLAN);
  return dir;
}

/** Waits (generously: a loaded machine) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startWaiting(dir: string) {
  const run = startWeft(['run', 'plans/deploy.yaml', '--no-isolation'], dir);
  await until(() => run.output().includes('deploy waits for approval'), 'the wait');
  const runId = /weft approve (\S+) deploy/.exec(run.output())?.[1] ?? '';
  expect(runId).not.toBe('');
  return { ...run, runId };
}

describe('weft approve / weft reject', () => {
  it('a running weft waits, status lists it with since when, and `weft approve` lets it go on', async () => {
    const dir = project();
    const run = await startWaiting(dir);
    const status = await weft(['status', run.runId], { cwd: dir });
    expect(status.stdout).toMatch(/⏸ deploy waits for approval since \d{4}-\d\d-\d\dT/);

    // Mistakes: one line, exit 2.
    const typo = await weft(['approve', run.runId, 'deplyo'], { cwd: dir });
    expect(typo.code).toBe(2);
    // The error, then its hint (as every weft error prints), no stack trace.
    expect(typo.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^weft: run \S+ has no task "deplyo"$/),
      '  did you mean "deploy"?',
    ]);
    const notWaiting = await weft(['approve', run.runId, 'build'], { cwd: dir });
    expect(notWaiting.code).toBe(2);
    expect(notWaiting.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^weft: task "build" of run \S+ is not waiting for approval \(it is succeeded\)$/),
      '  waiting: deploy',
    ]);
    const noRun = await weft(['approve', 'no-such-run', 'deploy'], { cwd: dir });
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain('no run "no-such-run"');
    expect(noRun.stderr).not.toContain('    at ');
    const noReason = await weft(['reject', run.runId, 'deploy'], { cwd: dir });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('weft reject needs a reason');

    const ok = await weft(['approve', run.runId, 'deploy'], { cwd: dir });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`approved deploy in run ${run.runId}; the running weft goes on`);
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/✓ deploy approved by \S+@\S+/);
    // The summary says how long the run waited for the person: its critical path counts task time only.
    expect(done.stdout).toMatch(/\n {2}approvals {4}deploy approved after \d[\dhms.]*s? \(waits for a person\)\n/);
    expect(existsSync(join(dir, 'plans', 'deployed'))).toBe(true);
    const again = await weft(['approve', run.runId, 'deploy'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a person already approved it');
  }, 240_000);

  it('`weft reject --reason` blocks the task with the reason: exit 4, the reason in the summary', async () => {
    const dir = project();
    const run = await startWaiting(dir);
    const no = await weft(['reject', run.runId, 'deploy', '--reason', 'not on a Friday'], { cwd: dir });
    expect(no.code).toBe(0);
    const done = await run.done;
    expect(done.code).toBe(4);
    expect(done.stdout).toMatch(/⊘ deploy blocked: rejected by \S+: not on a Friday/);
    expect(done.stdout).toMatch(/\n {2}approvals {4}deploy rejected after \S+ \(waits for a person\)\n/);
    expect(done.stdout).toContain('announce skipped: dependency "deploy" was blocked');
    expect(existsSync(join(dir, 'plans', 'deployed'))).toBe(false);
  }, 240_000);

  it('Ctrl-C while waiting, approve while no weft runs, then `weft resume` goes on', async () => {
    const dir = project();
    const run = await startWaiting(dir);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    const status = await weft(['status', run.runId], { cwd: dir });
    expect(status.stdout).toMatch(/⏸ deploy waits for approval since/);
    const ok = await weft(['approve', run.runId, 'deploy'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`\`weft resume ${run.runId}\` goes on`);
    const resumed = await weft(['resume', run.runId], { cwd: dir, timeoutMs: 120_000 });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(existsSync(join(dir, 'plans', 'deployed'))).toBe(true);
  }, 240_000);

  it('resumed without a decision it keeps waiting (from the same since)', async () => {
    const dir = project();
    const run = await startWaiting(dir);
    const since = /since (\S+)/.exec((await weft(['status', run.runId], { cwd: dir })).stdout)?.[1];
    run.child.kill('SIGINT');
    await run.done;
    const resumed = startWeft(['resume', run.runId], dir);
    // The resume says again what to type (it had said only `weft ▸ resuming`).
    await until(
      () => resumed.output().includes(`⏸ deploy waits for approval: weft approve ${run.runId} deploy`),
      'the wait',
    );
    const status = await weft(['status', run.runId], { cwd: dir });
    expect(status.stdout).toContain(`deploy waits for approval since ${since}`);
    // Its row says where it stands now, not why the last life stopped it (it had said
    // `ready  interrupted (Ctrl-C)`); so does --json.
    const row = status.stdout.split('\n').find((l) => l.startsWith('  · deploy '));
    expect(row?.trim().split(/ {2,}/)).toEqual(['· deploy', 'ready', 'waits for approval']);
    const json = await weft(['status', run.runId, '--json'], { cwd: dir });
    const deploy = (JSON.parse(json.stdout) as { tasks: { id: string }[] }).tasks.find((t) => t.id === 'deploy');
    expect(deploy).toMatchObject({ state: 'ready', approval: { state: 'waiting' } });
    expect(deploy).not.toHaveProperty('reason');
    const ok = await weft(['approve', run.runId, 'deploy'], { cwd: dir });
    expect(ok.stdout).toContain('the running weft goes on');
    expect((await resumed.done).code).toBe(0);
  }, 240_000);

  it('SIGKILL while waiting: approve names `weft resume`, and the resume runs the task once', async () => {
    const dir = project();
    const run = await startWaiting(dir);
    run.child.kill('SIGKILL');
    await run.done;
    const ok = await weft(['approve', run.runId, 'deploy'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`\`weft resume ${run.runId}\` goes on`);
    const resumed = await weft(['resume', run.runId], { cwd: dir, timeoutMs: 120_000 });
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).not.toContain('waits for approval');
    expect(existsSync(join(dir, 'plans', 'deployed'))).toBe(true);
    const status = await weft(['status', run.runId, '--json'], { cwd: dir });
    const summary = JSON.parse(status.stdout) as {
      tasks: { id: string; attempts: number; approval?: { state: string } }[];
    };
    expect(summary.tasks.find((t) => t.id === 'deploy')).toMatchObject({
      attempts: 1,
      approval: { state: 'approved' },
    });
  }, 240_000);
});

import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

describe('weft logs on a log larger than memory should hold', () => {
  it('streams it: 400 MB of log, all of it shown, under 300 MB of peak memory', async () => {
    const project = tempProject('weft-biglog-');
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ tasks: [{ id: 't', run: ['true'] }] }));
    expect((await weft(['run', 'plan.yaml'], { cwd: project, env: { WEFT_DATABASE_URL: '' } })).code).toBe(0);
    const runId = (JSON.parse((await weft(['runs', '--json'], { cwd: project })).stdout) as { id: string }[])[0]
      ?.id as string;
    // A sparse file: 400 MB to read, no disk used; the NUL bytes in between are control characters weft does not show.
    const log = join(project, '.weft', 'runs', runId, 'tasks', 't', '1.stdout.log');
    writeFileSync(log, 'first line\n');
    truncateSync(log, 400 * 1024 * 1024);
    appendFileSync(log, 'last line\n');
    // GNU time's %M: the peak resident set of `weft logs`, in kB, on its last line of stderr.
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, CLI, 'logs', runId, 't'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('first line\nlast line\n');
    const peakMb = Number(r.stderr.trim().split('\n').at(-1)) / 1024;
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(300);
  }, 150_000);
});

describe('weft logs into a pipe that closes early', () => {
  // `weft logs … | head -1` closed the pipe after one line, and weft died with "internal error", exit 70.
  it('stops quietly when the reader has what it wanted (`| head -1`), exit 0, with or without -f', async () => {
    const project = tempProject('weft-epipe-');
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ tasks: [{ id: 't', run: ['true'] }] }));
    expect((await weft(['run', 'plan.yaml'], { cwd: project, env: { WEFT_DATABASE_URL: '' } })).code).toBe(0);
    const runs = JSON.parse((await weft(['runs', '--json'], { cwd: project })).stdout) as { id: string }[];
    const runId = runs[0]?.id as string;
    // 2 MB of lines: far more than a pipe holds, so weft is still writing when head goes.
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`).join('\n');
    writeFileSync(join(project, '.weft', 'runs', runId, 'tasks', 't', '1.stdout.log'), `${lines}\n`);
    for (const follow of [[], ['-f']]) {
      const weftLogs = [process.execPath, CLI, 'logs', runId, 't', ...follow].map((a) => `'${a}'`).join(' ');
      const script = `${weftLogs} | head -1; echo "weft exit $\{PIPESTATUS[0]}" >&2`;
      const r = spawnSync('bash', ['-c', script], { cwd: project, encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toBe('line 0\n');
      expect(r.stderr).toBe('weft exit 0\n');
    }
  }, 60_000);
});

describe('weft logs -f of a task that is retried', () => {
  it("goes on with the retry's log, under a line on stderr naming the attempt, and ends with the task", async () => {
    const project = tempProject('weft-follow-retry-');
    const go = join(project, 'go');
    const flaky = `echo "attempt $WEFT_ATTEMPT"; while [ ! -f ${go} ]; do sleep 0.05; done; test "$WEFT_ATTEMPT" -ge 2`;
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 't', run: ['sh', '-c', flaky], retries: 1, backoff: { initial: '10ms' } }] }),
    );
    const run = startWeft(['run', 'plan.yaml'], project);
    let runId = '';
    for (let i = 0; i < 400 && !existsSync(join(project, '.weft', 'runs')); i++) await sleep(50);
    for (let i = 0; i < 400 && runId === ''; i++) {
      const dirs = existsSync(join(project, '.weft', 'runs')) ? readdirSync(join(project, '.weft', 'runs')) : [];
      runId = dirs[0] ?? '';
      if (runId === '' || !existsSync(join(project, '.weft', 'runs', runId, 'tasks', 't', '1.stdout.log'))) {
        runId = '';
        await sleep(50);
      }
    }
    const logs = startWeft(['logs', runId, 't', '-f'], project);
    for (let i = 0; i < 400 && !logs.output().includes('attempt 1'); i++) await sleep(50);
    writeFileSync(go, '');
    const r = await logs.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('attempt 1\nattempt 2\n');
    expect(r.stderr).toBe('── attempt 2 ──\n');
    expect((await run.done).code).toBe(0);
  }, 90_000);
});

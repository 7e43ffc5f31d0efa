import { spawnSync } from 'node:child_process';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

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

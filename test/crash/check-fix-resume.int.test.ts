import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';
import { sleep, startCli } from './crash-kit.js';

beforeAll(ensureBuilt);

/** backend writes a broken file; given feedback it marks that its fix runs, takes 4 s, and writes ok. */
const worker = `const fs = require('fs');
const e = process.env;
if (e.WEFT_FEEDBACK !== undefined) {
  fs.writeFileSync(e.MARK, '');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);
}
fs.writeFileSync(e.WEFT_TASK_ID + '.txt', e.WEFT_FEEDBACK === undefined && e.WEFT_TASK_ID === 'backend' ? 'broken\\n' : 'ok\\n');
`;
const check = `const fs = require('fs');
if (fs.readFileSync('backend.txt', 'utf8').trim() !== 'ok') { console.error('BUILD ERROR: backend.txt is broken'); process.exit(1); }
`;

describe('SIGKILL while a check routed a fix back: resume ends the run, and the fix is merged once', () => {
  it('resumes to success; backend has its first merge and one fix merge on the integration branch', async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'weft-fix-mark-')), 'fixing');
    const plan = `tasks:
  - { id: backend, run: [node, worker.js], writes: [backend.txt], env: { MARK: ${mark} } }
  - { id: frontend, run: [node, worker.js], writes: [frontend.txt], env: { MARK: ${mark} } }
  - { id: build, verifies: [backend, frontend], run: [node, check.js] }
`;
    const repo = tempRepo({ 'plan.yaml': plan, 'worker.js': worker, 'check.js': check });
    const cli = startCli(['run', 'plan.yaml'], repo.dir, 120_000);
    while (!existsSync(mark) && cli.child.exitCode === null) await sleep(50);
    expect(existsSync(mark)).toBe(true);
    cli.child.kill('SIGKILL');
    const killed = await cli.done;
    expect(killed.signal).toBe('SIGKILL');
    const r = await weft(['resume'], { cwd: repo.dir, timeoutMs: 120_000 });
    // The fix attempt's process outlived the killed weft: resume stops it and says so; nothing else.
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^weft: stopped \d+ task process/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:backend.txt`)).toBe('ok');
    const merges = repo
      .git('log', '--first-parent', '--format=%s', `weft/${runId}`)
      .split('\n')
      .filter((s) => s.startsWith('weft: merge task backend '));
    expect(merges).toHaveLength(2);
  }, 200_000);
});

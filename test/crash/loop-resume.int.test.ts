import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { readJournal, sleep, startCli } from './crash-kit.js';

beforeAll(ensureBuilt);

/**
 * Every task appends `<task> <iteration> <attempt> <feedback?>` to lines.txt. security vetoes in
 * iteration 1; in iteration 2 its first attempt marks that it runs and takes 4 s (the kill lands then).
 */
const worker = `const fs = require('fs');
const e = process.env;
const n = Number(e.WEFT_ITERATION ?? 0);
fs.appendFileSync('lines.txt', e.WEFT_TASK_ID + ' ' + n + ' ' + e.WEFT_ATTEMPT + ' ' + (e.WEFT_FEEDBACK ? 'feedback' : '-') + '\\n');
if (e.WEFT_FEEDBACK) fs.copyFileSync(e.WEFT_FEEDBACK, 'feedback-' + e.WEFT_TASK_ID + '-' + e.WEFT_ATTEMPT + '.txt');
if (e.WEFT_TASK_ID === 'security') {
  if (n === 2 && !fs.existsSync(e.MARK)) {
    fs.writeFileSync(e.MARK, '');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 4000);
  }
  fs.writeFileSync(e.WEFT_OUTPUT, JSON.stringify({ veto: n === 1 ? 'veto in iteration 1' : '' }));
}
`;

describe('SIGKILL mid-iteration of a loop: resume goes on with the same iteration', () => {
  it('no new iteration starts, what iteration 2 finished stays, the cut-off task still gets its feedback, deploy runs once', async () => {
    const mark = join(mkdtempSync(join(tmpdir(), 'weft-loop-mark-')), 'running');
    const dir = tempProject('weft-loop-crash-');
    writeFileSync(join(dir, 'worker.js'), worker);
    writeFileSync(
      join(dir, 'weft.yaml'),
      `defaults: { env: { MARK: ${mark} } }
tasks:
  - { id: code, run: [node, worker.js] }
  - id: security
    needs: [code]
    run: [node, worker.js]
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - { id: approve, gate: '!tasks.security.output.veto' }
  - { id: deploy, needs: [approve], run: [node, worker.js] }
loop: { repeat: [code, security, approve], until: tasks.approve.passed, max: 3, feedback: [security] }
`,
    );
    const cli = startCli(['run', 'weft.yaml', '--no-isolation'], dir, 120_000);
    while (!existsSync(mark) && cli.child.exitCode === null) await sleep(50);
    expect(existsSync(mark)).toBe(true);
    cli.child.kill('SIGKILL');
    expect((await cli.done).signal).toBe('SIGKILL');
    const before = readJournal(dir);
    expect(before?.state.loop?.iterations.map((i) => [i.iteration, i.outcome ?? 'open'])).toEqual([
      [1, 'repeat'],
      [2, 'open'],
    ]);

    const r = await weft(['resume'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^weft: stopped \d+ task process/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ loop iteration 2 passed/);

    const after = readJournal(dir);
    const loopEvents = (after?.events ?? []).filter((e) => e.type.startsWith('loop.'));
    expect(
      loopEvents.map((e) => [e.type, 'iteration' in e ? e.iteration : 0, 'outcome' in e ? e.outcome : '']),
    ).toEqual([
      ['loop.iteration.started', 1, ''],
      ['loop.iteration.ended', 1, 'repeat'],
      ['loop.iteration.started', 2, ''],
      ['loop.iteration.ended', 2, 'passed'],
    ]);
    const lines = readFileSync(join(dir, 'lines.txt'), 'utf8').trim().split('\n');
    // code finished iteration 2 before the kill: not run again. security was cut off and ran again in
    // the same iteration, with the feedback; deploy ran once, outside the loop.
    expect(lines).toEqual([
      'code 1 1 -',
      'security 1 1 -',
      'code 2 2 feedback',
      'security 2 2 feedback',
      'security 2 3 feedback',
      'deploy 0 1 -',
    ]);
    expect(readFileSync(join(dir, 'feedback-security-3.txt'), 'utf8')).toContain(
      "- approve blocked: tasks.security.output.veto = 'veto in iteration 1'",
    );
  }, 200_000);
});

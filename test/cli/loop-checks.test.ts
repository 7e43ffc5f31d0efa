import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/**
 * `code` writes `code.txt` (isolated: `writes`): `v<iteration>`, and in iteration 1 ` broken` too
 * until the check's failure comes back to it (with ALWAYS=1, in every iteration). Every script appends what it did to LOG, outside the repo.
 */
const SCRIPTS = {
  'code.js': `const fs = require('fs');
const e = process.env;
const fb = e.WEFT_FEEDBACK === undefined ? '' : fs.readFileSync(e.WEFT_FEEDBACK, 'utf8');
const fix = fb.includes('BUILD ERROR');
const text = 'v' + e.WEFT_ITERATION + ((e.ALWAYS === '1' || e.WEFT_ITERATION === '1') && !fix ? ' broken' : '');
fs.writeFileSync('code.txt', text + '\\n');
fs.appendFileSync(e.LOG, 'code ' + e.WEFT_ITERATION + ' attempt ' + e.WEFT_ATTEMPT + (fix ? ' fix' : '') + ': ' + text + '\\n');
`,
  'check.js': `const fs = require('fs');
const text = fs.readFileSync('code.txt', 'utf8').trim();
fs.appendFileSync(process.env.LOG, 'check ' + process.env.WEFT_ITERATION + ': ' + text + '\\n');
if (text.includes('broken')) { console.error('BUILD ERROR: code.txt is broken'); process.exit(1); }
`,
  'review.js': `const fs = require('fs');
const n = Number(process.env.WEFT_ITERATION);
fs.appendFileSync(process.env.LOG, 'review ' + n + '\\n');
fs.writeFileSync(process.env.WEFT_OUTPUT, JSON.stringify({ veto: n >= 2 ? '' : 'not yet' }));
`,
  'deploy.js': `const fs = require('fs');
const head = require('child_process').execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
fs.appendFileSync(process.env.LOG, 'deploy ' + (process.env.WEFT_ITERATION ?? '-') + ': ' + fs.readFileSync('code.txt', 'utf8').trim() + ' at ' + head + '\\n');
`,
};

/**
 * Runs, in a fresh repository, code → its check (build) → review → a gate, repeated until the gate
 * passes (max 3), then deploy; each script appends what it saw to a log. `code`, `loop` and
 * `codeEnv` add fields to code's task, the loop and code's env. Expects the run to succeed.
 */
async function runLoop(code: string, loop: string, codeEnv = '') {
  const log = join(mkdtempSync(join(tmpdir(), 'weft-loop-check-log-')), 'log.txt');
  const plan = `tasks:
  - { id: code, run: [node, code.js], writes: [code.txt]${code}, env: { LOG: ${log}${codeEnv} } }
  - { id: build, verifies: [code], run: [node, check.js], env: { LOG: ${log} } }
  - id: review
    needs: [build]
    run: [node, review.js]
    env: { LOG: ${log} }
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - { id: approve, gate: '!tasks.review.output.veto' }
  - { id: deploy, needs: [approve], run: [node, deploy.js], env: { LOG: ${log} } }
loop: { repeat: [code, build, review, approve], until: tasks.approve.passed, max: 3${loop} }
`;
  const repo = tempRepo({ 'plan.yaml': plan, ...SCRIPTS });
  const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.code, r.stdout).toBe(0);
  const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
  return { log, r, repo, runId, tip: repo.git('rev-parse', `weft/${runId}`) };
}

describe('loop: with a check inside the repeated group, in git with isolated tasks', () => {
  it("iteration 1's check failure goes back to code as a fix; until then repeats; iteration 2 runs code and the check on the new work; deploy runs once on the final work", async () => {
    const { log, r, repo, runId, tip } = await runLoop('', ', feedback: [review]');
    expect(readFileSync(log, 'utf8')).toBe(
      [
        'code 1 attempt 1: v1 broken',
        'check 1: v1 broken',
        'check 1: v1 broken', // run again on the same tree: the failure repeats, so it is code's
        'code 1 attempt 2 fix: v1',
        'check 1: v1',
        'review 1',
        'code 2 attempt 3: v2',
        'check 2: v2',
        'review 2',
        `deploy -: v2 at ${tip}`,
        '',
      ].join('\n'),
    );
    expect(r.stdout).toMatch(
      /loop iteration 1 did not pass, repeating \S+: approve blocked: tasks\.review\.output\.veto = 'not yet'\n/,
    );
    expect(r.stdout).toMatch(/✓ loop iteration 2 passed \S+\n/);
    expect(repo.git('show', `weft/${runId}:code.txt`)).toBe('v2');
  }, 150_000);
});

describe('loop: a check that fails in every iteration', () => {
  it('fixes count afresh per iteration: with fixAttempts 1, each iteration fixes code once and the check runs again on the fix', async () => {
    const { log, tip } = await runLoop(', fixAttempts: 1', '', ", ALWAYS: '1'");
    expect(readFileSync(log, 'utf8')).toBe(
      [
        'code 1 attempt 1: v1 broken',
        'check 1: v1 broken',
        'check 1: v1 broken', // run again on the same tree: the failure repeats, so it is code's
        'code 1 attempt 2 fix: v1',
        'check 1: v1',
        'review 1',
        'code 2 attempt 3: v2 broken',
        'check 2: v2 broken',
        'check 2: v2 broken',
        'code 2 attempt 4 fix: v2',
        'check 2: v2',
        'review 2',
        `deploy -: v2 at ${tip}`,
        '',
      ].join('\n'),
    );
  }, 150_000);
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempProject } from '../support/weft-cli.js';
import { REDIS, start, startWorker, uniquePrefix, workerProcs } from './dispatch-kit.js';

/**
 * A plan's `loop:` under `weft run --dispatch` with a real `weft worker`: the repeated scripts run on
 * the worker (WHO is set only in its environment) and see WEFT_ITERATION and, from iteration 2 on, the
 * combined feedback in the file WEFT_FEEDBACK names.
 */
const procs = workerProcs();

const SCRIPTS = {
  'review.js': `const fs = require('fs');
const n = Number(process.env.WEFT_ITERATION);
fs.writeFileSync(process.env.WEFT_OUTPUT, JSON.stringify({ veto: n >= 2 ? '' : 'veto in iteration ' + n }));
`,
  'log.js': `const fs = require('fs');
const e = process.env;
const n = e.WEFT_ITERATION ?? '-';
if (e.WEFT_FEEDBACK) fs.copyFileSync(e.WEFT_FEEDBACK, 'feedback-' + e.WEFT_TASK_ID + '-' + n + '.txt');
fs.appendFileSync('ran.log', e.WEFT_TASK_ID + ' ' + n + ' on ' + (e.WHO ?? 'the coordinator') + '\\n');
`,
};

const PLAN = `tasks:
  - { id: code, run: [node, log.js] }
  - id: security
    needs: [code]
    run: [node, review.js]
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - { id: approve, gate: '!tasks.security.output.veto' }
  - { id: deploy, needs: [approve], run: [node, log.js] }
loop: { repeat: [code, security, approve], until: tasks.approve.passed, max: 3, feedback: [security] }
`;

describe('loop: under --dispatch with a weft worker', () => {
  it("iteration 2's repeated script runs on the worker with WEFT_ITERATION=2 and the loop's feedback; deploy once after", async () => {
    const project = tempProject('weft-dispatch-loop-');
    for (const [file, text] of Object.entries(SCRIPTS)) writeFileSync(join(project, file), text);
    writeFileSync(join(project, 'weft.yaml'), PLAN);
    const prefix = uniquePrefix();
    procs.push(await startWorker(project, 'w1', prefix));
    const run = start(['run', 'weft.yaml', '--dispatch', REDIS, '--queue-prefix', prefix], project);
    procs.push(run);
    const { code } = await run.done;
    expect(code, run.stdout() + run.stderr()).toBe(0);
    const read = (f: string): string => readFileSync(join(project, f), 'utf8');
    expect(read('ran.log')).toBe('code 1 on w1\ncode 2 on w1\ndeploy - on w1\n');
    expect(existsSync(join(project, 'feedback-code-1.txt'))).toBe(false);
    const feedback = read('feedback-code-2.txt');
    expect(feedback).toContain(
      'Iteration 1 of the loop did not pass (until: tasks.approve.passed); this is iteration 2 of at most 3.',
    );
    expect(feedback).toContain("- approve blocked: tasks.security.output.veto = 'veto in iteration 1'");
    expect(feedback).toContain('--- security ---\n{\n  "veto": "veto in iteration 1"\n}');
    expect(run.stdout()).toMatch(/✓ loop iteration 2 passed \S+\n/);
  }, 240_000);
});

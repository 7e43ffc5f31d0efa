import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/**
 * A reviewer script: it copies what it was given in WEFT_FEEDBACK to `feedback-<task>-<iteration>.txt`
 * and vetoes until iteration `passAt` (WEFT_ITERATION). `code` and `deploy` append a line to a log.
 */
const SCRIPTS = {
  'review.js': `const fs = require('fs');
const n = Number(process.env.WEFT_ITERATION);
const task = process.env.WEFT_TASK_ID;
if (process.env.WEFT_FEEDBACK) fs.copyFileSync(process.env.WEFT_FEEDBACK, 'feedback-' + task + '-' + n + '.txt');
fs.writeFileSync(process.env.WEFT_OUTPUT, JSON.stringify({ veto: n >= Number(process.argv[2]) ? '' : 'veto in iteration ' + n }));
`,
  'log.js': `const fs = require('fs');
const n = process.env.WEFT_ITERATION;
if (process.env.WEFT_FEEDBACK) fs.copyFileSync(process.env.WEFT_FEEDBACK, 'feedback-' + process.env.WEFT_TASK_ID + '-' + n + '.txt');
fs.appendFileSync('ran.log', process.env.WEFT_TASK_ID + ' ' + (n ?? '-') + '\\n');
`,
};

function loopPlan(passAt: number, max: number, extra = ''): string {
  return `tasks:
  - { id: code, run: [node, log.js] }
  - id: security
    needs: [code]
    run: [node, review.js, '${passAt}']
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - { id: approve, gate: '!tasks.security.output.veto' }
  - { id: deploy, needs: [approve], run: [node, log.js] }
loop: { repeat: [code, security, approve], until: tasks.approve.passed, max: ${max}, feedback: [security] }
${extra}`;
}

/** code, then a gate a person must approve, repeated; deploy after the loop. */
const APPROVAL_PLAN = `tasks:
  - { id: code, run: [node, log.js] }
  - { id: approve, gate: tasks.code.succeeded, approval: required }
  - { id: deploy, needs: [approve], run: [node, log.js] }
loop: { repeat: [code, approve], until: tasks.approve.passed, max: 3 }
`;

function project(plan: string): string {
  const dir = tempProject('weft-loops-');
  for (const [file, text] of Object.entries(SCRIPTS)) writeFileSync(join(dir, file), text);
  writeFileSync(join(dir, 'weft.yaml'), plan);
  return dir;
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

function summaryOf(
  dir: string,
  runId: string,
): { loop?: { iteration: number; outcome?: string; reasons: string[] }[] } {
  return JSON.parse(read(dir, join('.weft', 'runs', runId, 'summary.json')));
}

describe('loop: on the CLI', () => {
  it('vetoed in iteration 1, approved in 2: scripts get WEFT_ITERATION and WEFT_FEEDBACK, deploy runs once, the summary lists the iterations', async () => {
    const dir = project(loopPlan(2, 5));
    const r = await weft(['run', 'weft.yaml', '--no-isolation'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(read(dir, 'ran.log')).toBe('code 1\ncode 2\ndeploy -\n');
    expect(r.stdout).toContain(
      '⟳ loop iteration 1 did not pass, repeating', // then its time and reasons
    );
    expect(r.stdout).toMatch(
      /loop iteration 1 did not pass, repeating \S+: approve blocked: tasks\.security\.output\.veto = 'veto in iteration 1'\n/,
    );
    expect(r.stdout).toContain('⟳ loop iteration 2: code, security, approve again');
    expect(r.stdout).toMatch(/✓ loop iteration 2 passed \S+\n/);
    // The first iteration gets no feedback; the second gets why the first did not pass and what security said.
    expect(existsSync(join(dir, 'feedback-code-1.txt'))).toBe(false);
    const feedback = read(dir, 'feedback-code-2.txt');
    expect(feedback).toContain(
      'Iteration 1 of the loop did not pass (until: tasks.approve.passed); this is iteration 2 of at most 5.',
    );
    expect(feedback).toContain("- approve blocked: tasks.security.output.veto = 'veto in iteration 1'");
    expect(feedback).toContain('--- security ---\n{\n  "veto": "veto in iteration 1"\n}');
    expect(read(dir, 'feedback-security-2.txt')).toBe(feedback);
    // The summary: per iteration, how it ended and why; a new iteration is not a retry.
    expect(r.stdout).toMatch(
      / {2}loop {9}2 iterations\n {4}1\. repeat \(\S+\): approve blocked: tasks\.security\.output\.veto = 'veto in iteration 1'\n {4}2\. passed \(\S+\)\n/,
    );
    expect(r.stdout).not.toMatch(/retries/);
    // The critical path spans the whole run: each repeated task once per iteration, named with it
    // (iteration 1's 0 ms gate may tie with security's end), then what waited for the loop.
    expect(r.stdout).toMatch(
      /critical path code#1 → security#1 → (approve#1 → )?code#2 → security#2 → approve#2 → deploy \(\S+\)\n/,
    );
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    const cp = JSON.parse(read(dir, join('.weft', 'runs', runId, 'summary.json'))) as {
      makespanMs: number;
      criticalPathMs: number;
      criticalPath: string[];
      criticalPathIterations: (number | null)[];
    };
    expect(cp.criticalPath.at(-1)).toBe('deploy');
    expect(cp.criticalPathIterations.at(-1)).toBeNull();
    expect(cp.criticalPathIterations.slice(0, 2)).toEqual([1, 1]);
    expect(cp.criticalPathMs).toBeLessThanOrEqual(cp.makespanMs + 1);
    expect(summaryOf(dir, runId).loop).toEqual([
      expect.objectContaining({
        iteration: 1,
        outcome: 'repeat',
        reasons: ["approve blocked: tasks.security.output.veto = 'veto in iteration 1'"],
      }),
      expect.objectContaining({ iteration: 2, outcome: 'passed', reasons: [] }),
    ]);
    // The reports list each iteration.
    const md = await weft(['report', runId, '--format', 'md'], { cwd: dir });
    expect(md.stdout).toMatch(/`code#1` → `security#1` → .*`code#2` → `security#2` → `approve#2` → `deploy` \(/);
    expect(md.stdout).toMatch(
      /- loop iteration 1: repeat \(\S+\): approve blocked: tasks\.security\.output\.veto = 'veto in iteration 1'\n- loop iteration 2: passed \(\S+\)\n/,
    );
    const html = await weft(['report', runId, '--format', 'html'], { cwd: dir });
    expect(readFileSync(html.stdout.trim(), 'utf8')).toContain('<span class="task" data-task="code">code#2</span>');
    const json = JSON.parse((await weft(['report', runId, '--format', 'json'], { cwd: dir })).stdout) as {
      summary: { loop: { outcome: string }[] };
    };
    expect(json.summary.loop.map((i) => i.outcome)).toEqual(['repeat', 'passed']);
    // `weft status` reads the iterations back from the journal.
    const status = await weft(['status', runId], { cwd: dir });
    expect(status.stdout).toMatch(/ {2}loop {9}2 iterations\n {4}1\. repeat \(\S+\): approve blocked: /);
  }, 120_000);

  it("never approved: stops at max, exit 4, with the last iteration's reasons; deploy never runs", async () => {
    const dir = project(loopPlan(99, 2));
    const r = await weft(['run', 'weft.yaml', '--no-isolation'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(4);
    expect(read(dir, 'ran.log')).toBe('code 1\ncode 2\n');
    expect(r.stdout).toMatch(
      /⊘ loop iteration 2 did not pass and was the last \(max\) \S+: approve blocked: tasks\.security\.output\.veto = 'veto in iteration 2'\n/,
    );
    expect(r.stdout).toContain(
      "blocked — the loop stopped after 2 iteration(s) (its max) without passing: approve blocked: tasks.security.output.veto = 'veto in iteration 2'",
    );
    expect(r.stdout).toContain('deploy skipped: dependency "approve" was blocked');
  }, 120_000);

  it('weft estimate says how it treats the loop', async () => {
    const dir = project(loopPlan(2, 5).replace('run: [node, log.js] }', 'run: [node, log.js], estimate: 20m }'));
    const r = await weft(['estimate', 'weft.yaml', '--no-history'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      // code's 20m, then security's 1m (no estimate: the default the schedule assumes too)
      "the loop passes in its first iteration; each further one adds about 21m00s (its tasks' critical path), up to 4 more (max 5)",
    );
  });

  it('weft logs -f of a repeated task follows it into each iteration, until the loop ends', async () => {
    const dir = project(`tasks:
  - { id: code, run: [sh, -c, 'echo "code $WEFT_ITERATION"; while [ ! -e go ]; do sleep 0.1; done'] }
  - id: security
    needs: [code]
    run: [sh, -c, 'sleep 0.3; node review.js 3']
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - { id: approve, gate: '!tasks.security.output.veto' }
loop: { repeat: [code, security, approve], until: tasks.approve.passed, max: 4 }
`);
    const run = startWeft(['run', 'weft.yaml', '--no-isolation'], dir);
    let runId = '';
    await until(() => {
      const runs = JSON.parse(
        spawnSync(process.execPath, [CLI, 'runs', '--json'], { cwd: dir, encoding: 'utf8' }).stdout || '[]',
      ) as { id: string }[];
      runId = runs[0]?.id ?? '';
      return runId !== '';
    }, 'the run');
    // The first iteration waits until the follower has shown it (a loaded machine could otherwise
    // end it before the follower starts, which then rightly begins at the attempt running then).
    const follower = startWeft(['logs', runId, 'code', '-f'], dir);
    await until(() => follower.output().includes('code 1'), 'the follower to show iteration 1');
    writeFileSync(join(dir, 'go'), '');
    const logs = await follower.done;
    expect(logs.code).toBe(0);
    expect(logs.stdout).toBe('code 1\ncode 2\ncode 3\n');
    expect(logs.stderr).toBe('── attempt 2 ──\n── attempt 3 ──\n');
    expect((await run.done).code).toBe(0);
  }, 120_000);

  it("a person's rejection in iteration 1 is iteration 2's feedback; approving iteration 2 lets deploy run once", async () => {
    const dir = project(APPROVAL_PLAN);
    const run = startWeft(['run', 'weft.yaml', '--no-isolation'], dir);
    const waits = (n: number) => run.output().split('approve waits for approval').length - 1 >= n;
    await until(() => waits(1), 'the first wait');
    const runId = /weft approve (\S+) approve/.exec(run.output())?.[1] ?? '';
    const no = await weft(['reject', runId, 'approve', '--reason', 'make the button blue'], { cwd: dir });
    expect(no.code).toBe(0);
    await until(() => waits(2), 'the second wait');
    expect(read(dir, 'feedback-code-2.txt')).toContain('- approve blocked: rejected by ');
    expect(read(dir, 'feedback-code-2.txt')).toContain(': make the button blue');
    const yes = await weft(['approve', runId, 'approve'], { cwd: dir });
    expect(yes.code).toBe(0);
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(read(dir, 'ran.log')).toBe('code 1\ncode 2\ndeploy -\n');
  }, 120_000);

  it('weft status in iteration 2: which iteration each repeated task is in, and how it ended in iteration 1 (the gate blocked)', async () => {
    // code holds iteration 2 until the file `go` is there.
    const hold = `[sh, -c, 'node log.js; [ "$WEFT_ITERATION" = 1 ] || while [ ! -f go ]; do sleep 0.1; done']`;
    const dir = project(loopPlan(2, 5).replace('run: [node, log.js] }', `run: ${hold} }`));
    const run = startWeft(['run', 'weft.yaml', '--no-isolation'], dir);
    try {
      let status = '';
      const end = Date.now() + 90_000;
      while (!/▸ code +running .* 2 attempts/.test(status)) {
        if (Date.now() > end) throw new Error(`timed out waiting for iteration 2: ${status}\n${run.output()}`);
        await new Promise((r) => setTimeout(r, 200));
        status = (await weft(['status'], { cwd: dir })).stdout;
      }
      expect(status).toMatch(/\n {2}▸ code +running +\S+ {2}2 attempts {2}in iteration 2; iteration 1: succeeded\n/);
      expect(status).toMatch(
        /\n {2}· security +pending +\S+ {2}1 attempt {2}not yet in iteration 2; iteration 1: succeeded\n/,
      );
      expect(status).toMatch(
        /\n {2}· approve +pending +\S+ {2}1 attempt {2}not yet in iteration 2; iteration 1: blocked — tasks\.security\.output\.veto = 'veto in iteration 1'\n/,
      );
      expect(status).toMatch(/\n {2}· deploy +pending +\n/); // not repeated: nothing to say of iterations
      const json = JSON.parse((await weft(['status', '--json'], { cwd: dir })).stdout) as {
        tasks: { id: string; iteration?: unknown }[];
      };
      expect(json.tasks.find((t) => t.id === 'approve')?.iteration).toEqual({
        current: 2,
        before: { state: 'blocked', reason: "tasks.security.output.veto = 'veto in iteration 1'" },
      });
    } finally {
      writeFileSync(join(dir, 'go'), ''); // the run ends, whatever the test saw
    }
    expect((await run.done).code).toBe(0);
    // Once the run has ended, each task's state is its last iteration's: no note.
    const after = await weft(['status'], { cwd: dir });
    expect(after.stdout).not.toContain('iteration 1:');
  }, 120_000);
});

describe('loop: with a person deciding, stopped and resumed', () => {
  it("Ctrl-C while iteration 2 waits, then `weft resume`: iteration 1's rejection is not taken again; an approval passes the loop", async () => {
    const dir = project(APPROVAL_PLAN);
    const run = startWeft(['run', 'weft.yaml', '--no-isolation'], dir);
    const waits = (out: () => string, n: number) => () => out().split('approve waits for approval').length - 1 >= n;
    await until(waits(run.output, 1), 'the first wait');
    const runId = /weft approve (\S+) approve/.exec(run.output())?.[1] ?? '';
    expect((await weft(['reject', runId, 'approve', '--reason', 'make the button blue'], { cwd: dir })).code).toBe(0);
    await until(waits(run.output, 2), 'the second wait');
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);

    // The resumed weft reads the run's decisions from the start, the rejection among them.
    const resumed = startWeft(['resume', runId], dir);
    await until(() => resumed.output().includes('resuming'), 'the resume');
    await new Promise((r) => setTimeout(r, 2500)); // more than one poll of the journal (1 s)
    expect(resumed.output()).not.toContain('approve blocked');
    const status = await weft(['status', runId], { cwd: dir });
    expect(status.stdout).toMatch(/⏸ approve waits for approval since/);
    expect((await weft(['approve', runId, 'approve'], { cwd: dir })).code).toBe(0);
    const done = await resumed.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/✓ loop iteration 2 passed/);
    expect(read(dir, 'ran.log')).toBe('code 1\ncode 2\ndeploy -\n');
  }, 240_000);
});

describe('loop: mistakes are one line each, exit 2', () => {
  const cases: [string, string, string][] = [
    [
      'repeat names an unknown task',
      loopPlan(2, 5).replace('repeat: [code,', 'repeat: [cod,'),
      'weft.yaml:9:18 loop.repeat[0]: loop.repeat names no task "cod" — fix: did you mean "code"?',
    ],
    [
      'feedback names a task outside repeat',
      loopPlan(2, 5).replace('feedback: [security]', 'feedback: [deploy]'),
      'weft.yaml:9:92 loop.feedback[0]: loop.feedback names "deploy", which is not in loop.repeat — fix: add "deploy" to loop.repeat, or take it out of loop.feedback (feedback comes from the repeated tasks)',
    ],
    [
      'max below 1',
      loopPlan(2, 0),
      'weft.yaml:9:73 loop.max: a loop runs at least 1 iteration — fix: use a whole number from 1 to 100, e.g. max: 5',
    ],
    [
      'until reads a task the loop does not repeat',
      loopPlan(2, 5).replace('until: tasks.approve.passed', 'until: tasks.deploy.succeeded'),
      'weft.yaml:9:44 loop.until: loop.until reads task "deploy", which is not in loop.repeat — fix: read a task the loop repeats (e.g. its gate), or add "deploy" to loop.repeat',
    ],
    [
      'until reads an unknown field',
      loopPlan(2, 5).replace('until: tasks.approve.passed', 'until: tasks.approve.pased'),
      'weft.yaml:9:44 loop.until: condition reads tasks.approve.pased: tasks have no field "pased" — fix: did you mean "passed"?',
    ],
    [
      'an unknown field in loop',
      loopPlan(2, 5).replace('max: 5', 'max: 5, untill: x'),
      'weft.yaml:9:81 loop.untill: unknown field "untill" — fix: did you mean "until"?',
    ],
  ];
  it.each(cases)('%s', async (_what, plan, line) => {
    const dir = project(plan);
    const r = await weft(['validate', 'weft.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
  });

  it('a task between repeated tasks that is not repeated', async () => {
    const plan = loopPlan(2, 5)
      .replace('needs: [code]', 'needs: [lint]')
      .replace('tasks:\n', 'tasks:\n  - { id: lint, needs: [code], run: "true" }\n');
    const r = await weft(['validate', 'weft.yaml'], { cwd: project(plan) });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^weft\.yaml:\d+:\d+ loop\.repeat: task "lint" runs between repeated tasks \(it depends on one, and one depends on it\) but is not repeated — fix: add "lint" to loop\.repeat$/,
    );
  });
});

/** Waits (generously: a loaded machine) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

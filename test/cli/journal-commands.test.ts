import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { killReaperOf, startCli } from '../crash/crash-kit.js';
import { ensureBuilt, tempProject, weft as runWeft } from '../support/weft-cli.js';
import { isRunning } from '../../src/executors/testing/task-like-process.js';

beforeAll(ensureBuilt);

/** `weft …` in `cwd`; the journal is the project's own SQLite file, whatever the environment says. */
const weft = (args: readonly string[], cwd: string) => runWeft(args, { cwd, env: { WEFT_DATABASE_URL: undefined } });

type Task = { id: string; run: string[]; needs?: string[]; resume?: 'never' };
const sh = (script: string): string[] => ['sh', '-c', script];
const LINE = 'echo "$WEFT_TASK_ID $WEFT_ATTEMPT" >> lines.txt';

function writePlan(project: string, file: string, name: string, tasks: Task[], workers = 2): void {
  writeFileSync(join(project, file), JSON.stringify({ name, workers, tasks }));
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For a crash that leaves task processes behind (for `weft resume` to stop): Node spawns each task
 * itself, as it does an agent's, where the spawn helper would stop its task when weft's pipe closes.
 */
const NO_HELPER = { WEFT_SPAWN_HELPER: '0' };

const lines = (project: string): string[] =>
  existsSync(join(project, 'lines.txt')) ? readFileSync(join(project, 'lines.txt'), 'utf8').trim().split('\n') : [];

interface RunRow {
  id: string;
  plan: string;
  status: string;
  tasks: number;
}

describe('inspecting the journal', () => {
  // One project, two finished runs: `good` (succeeded) and, newer, `bad` (failed).
  const project = tempProject('weft-journal-');
  let good: string;
  let bad: string;

  beforeAll(async () => {
    writePlan(project, 'good.yaml', 'good', [
      { id: 'hello', run: sh('echo out-line; echo err-line >&2') },
      { id: 'world', needs: ['hello'], run: sh('echo done') },
    ]);
    writePlan(project, 'bad.yaml', 'bad', [{ id: 'boom', run: sh('echo no >&2; exit 3') }]);
    expect((await weft(['run', 'good.yaml'], project)).code).toBe(0);
    expect((await weft(['run', 'bad.yaml'], project)).code).toBe(1);
    const runs = JSON.parse((await weft(['runs', '--json'], project)).stdout) as RunRow[];
    [bad, good] = runs.map((r) => r.id) as [string, string];
  }, 60_000);

  it('weft runs with no runs yet says how to start one', async () => {
    const empty = tempProject('weft-journal-');
    expect(await weft(['runs'], empty)).toMatchObject({
      code: 0,
      stdout: 'no runs yet — start one with `weft run <plan>`\n',
    });
    expect(await weft(['runs', '--json'], empty)).toMatchObject({ code: 0, stdout: '[]\n' });
  }, 60_000);

  it('commands that only read leave a folder with no journal as it was (no .weft/ where a user only looked)', async () => {
    const empty = tempProject('weft-journal-');
    writePlan(empty, 'plan.yaml', 'p', [{ id: 'a', run: sh('true') }]);
    const reads = [
      ['runs'],
      ['status'],
      ['logs', 'latest', 'a'],
      ['report'],
      ['apply'],
      ['approve', 'latest', 'a'],
      ['estimate', 'plan.yaml'],
      ['resume'],
    ];
    const codes = [];
    for (const args of reads) codes.push(`${args[0]} ${(await weft(args, empty)).code}`);
    expect(codes).toEqual([
      'runs 0',
      'status 2',
      'logs 2',
      'report 2',
      'apply 2',
      'approve 2',
      'estimate 0',
      'resume 2',
    ]);
    expect(existsSync(join(empty, '.weft'))).toBe(false);
    expect((await weft(['run', 'plan.yaml'], empty)).code).toBe(0);
    expect(existsSync(join(empty, '.weft', 'weft.db'))).toBe(true);
  }, 60_000);

  it('with a sqlite:<file> journal URL, commands that only read make neither the file nor .weft/', async () => {
    const empty = tempProject('weft-journal-');
    writePlan(empty, 'plan.yaml', 'p', [{ id: 'a', run: sh('true') }]);
    const inFile = (args: readonly string[]) =>
      runWeft(args, { cwd: empty, env: { WEFT_DATABASE_URL: 'sqlite:journal.db' } });
    expect(await inFile(['runs'])).toMatchObject({ code: 0 });
    expect((await inFile(['status'])).code).toBe(2);
    expect(existsSync(join(empty, 'journal.db'))).toBe(false);
    expect(existsSync(join(empty, '.weft'))).toBe(false);
    expect((await inFile(['run', 'plan.yaml'])).code).toBe(0);
    expect(existsSync(join(empty, 'journal.db'))).toBe(true);
    expect(JSON.parse((await inFile(['runs', '--json'])).stdout)).toHaveLength(1);
  }, 60_000);

  // It was taken from the working folder: `weft runs -C app` read (and `weft mcp -C app` made) a journal in the
  // folder the command ran in, not the one `weft run` in app/ wrote, and the MCP server's `run` tool answered
  // "the run did not start" for a run that had.
  it("a relative sqlite:<file> in weft.config.yaml is in the project's folder, also with -C from elsewhere", async () => {
    const project = tempProject('weft-journal-');
    const elsewhere = tempProject('weft-elsewhere-');
    writePlan(project, 'plan.yaml', 'p', [{ id: 'a', run: sh('true') }]);
    writeFileSync(join(project, 'weft.config.yaml'), 'database: sqlite:journal/runs.db\n');
    expect((await weft(['run', 'plan.yaml'], project)).code).toBe(0);
    expect(existsSync(join(project, 'journal', 'runs.db'))).toBe(true);
    const listed = await weft(['runs', '-C', project, '--json'], elsewhere);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ plan: 'p', status: 'succeeded' }]);
    expect((await weft(['run', join(project, 'plan.yaml'), '-C', project], elsewhere)).code).toBe(0);
    expect(JSON.parse((await weft(['runs', '--json'], project)).stdout)).toHaveLength(2);
    expect(existsSync(join(elsewhere, 'journal'))).toBe(false);
  }, 60_000);

  // They served a journal of their own while each run they started kept another: the MCP `run` tool answered
  // "the run did not start: exit code 0" for a run that had run.
  it('weft serve and weft mcp refuse a memory: journal, which the runs they start could not share', async () => {
    const project = tempProject('weft-journal-');
    writeFileSync(join(project, 'weft.config.yaml'), 'database: "memory:"\n');
    const refusal = (command: string, where: string) =>
      `weft: ${command} cannot use the journal memory: (${where}): the runs it starts are processes of their own and would share no journal with it\n` +
      '  leave the journal to its default (SQLite in .weft/), or give a sqlite:<file> or postgres:// URL\n';
    for (const [args, command] of [
      [['serve', '-p', '0'], 'weft serve'],
      [['mcp'], 'weft mcp'],
    ] as const) {
      const r = await runWeft(args, { cwd: project, env: { WEFT_DATABASE_URL: undefined }, timeoutMs: 10_000 });
      expect(r).toMatchObject({ code: 2, stderr: refusal(command, 'weft.config.yaml database') });
    }
    const byEnv = await runWeft(['serve', '-p', '0'], {
      cwd: tempProject('weft-journal-'),
      env: { WEFT_DATABASE_URL: 'memory:' },
      timeoutMs: 10_000,
    });
    expect(byEnv).toMatchObject({ code: 2, stderr: refusal('weft serve', 'WEFT_DATABASE_URL') });
  }, 60_000);

  it('weft runs: newest first, as a table and as JSON', async () => {
    const json = await weft(['runs', '--json'], project);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { id: bad, plan: 'bad', status: 'failed', tasks: 1 },
      { id: good, plan: 'good', status: 'succeeded', tasks: 2 },
    ]);
    const table = await weft(['runs'], project);
    expect(table.code).toBe(0);
    const [header, first, second, ...rest] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^RUN +PLAN +STATUS +TASKS +STARTED +LAST EVENT$/);
    expect(first).toMatch(new RegExp(`^${bad} +bad +failed +1  \\d{4}-\\d\\d-\\d\\dT\\S+Z +\\+\\S+$`));
    expect(second).toMatch(new RegExp(`^${good} +good +succeeded +2  `));
    expect(rest).toEqual([]);
  }, 60_000);

  it('weft status: the latest run by default, task by task', async () => {
    const r = await weft(['status'], project);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Run ${bad} failed — 1 task(s) failed`);
    expect(r.stdout).toMatch(/✗ boom +failed .*exited with code 3/);
  }, 60_000);

  it('weft status: a unique prefix of the id is enough; --json is the summary', async () => {
    let n = 1;
    while (bad.startsWith(good.slice(0, n))) n++;
    const r = await weft(['status', good.slice(0, n), '--json'], project);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      runId: good,
      plan: 'good',
      status: 'succeeded',
      counts: { succeeded: 2, total: 2 },
      criticalPath: ['hello', 'world'],
      resumes: 0,
    });
  }, 60_000);

  it('-C reads the project named, from any folder: status, logs, report, and estimate learning from its runs', async () => {
    const elsewhere = tempProject('weft-elsewhere-');
    const status = await weft(['status', '-C', project], elsewhere);
    expect(status.stdout).toContain(`Run ${bad} failed — 1 task(s) failed`);
    expect(await weft(['logs', 'latest', 'boom', '--stderr', '-C', project], elsewhere)).toMatchObject({
      code: 0,
      stdout: 'no\n',
    });
    const md = await weft(['report', good, '--format', 'md', '-C', project], elsewhere);
    expect(md.stdout.split('\n')[0]).toBe(`# weft run ${good} — good`);
    const estimate = await weft(['estimate', join(project, 'good.yaml'), '--json', '-C', project], elsewhere);
    expect(JSON.parse(estimate.stdout)).toMatchObject({ measured: true, learned: [{ task: 'hello', runs: 1 }, {}] });
    expect(existsSync(join(elsewhere, '.weft'))).toBe(false);
  }, 60_000);

  it('weft status: an unknown or ambiguous run is one line (and a hint), exit 2', async () => {
    const unknown = await weft(['status', 'nope'], project);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe('weft: no run "nope"\n  `weft runs` lists them\n');
    const ambiguous = await weft(['status', '2', '--json'], project);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr.split('\n')[0]).toBe('weft: "2" matches 2 runs');
  }, 60_000);

  it("weft logs: a task's stdout, or its stderr", async () => {
    const out = await weft(['logs', good, 'hello'], project);
    expect(out).toMatchObject({ code: 0, stdout: 'out-line\n', stderr: '' });
    expect((await weft(['logs', good, 'hello', '--stderr'], project)).stdout).toBe('err-line\n');
    const missing = await weft(['logs', good, 'nope'], project);
    expect(missing).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `weft: run ${good} has no task "nope"\n  \`weft status ${good}\` lists its tasks\n`,
    });
    // A typo of one of its tasks: the one meant is named.
    expect(await weft(['logs', good, 'helo'], project)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `weft: run ${good} has no task "helo"\n  did you mean "hello"?\n`,
    });
    // A failed command that said why only on stderr: the empty stdout says where to look.
    expect(await weft(['logs', bad, 'boom'], project)).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'weft: boom printed nothing on stdout; --stderr shows its 3 bytes of stderr\n',
    });
  }, 60_000);

  it('weft resume --retry with a task the run does not have: refused, exit 2, before anything runs — even on a finished run', async () => {
    const before = JSON.parse((await weft(['runs', '--json'], project)).stdout) as RunRow[];
    // A succeeded run used to answer "already succeeded; nothing to resume", exit 0: the typo passed unseen.
    expect(await weft(['resume', good, '--retry', 'wrold'], project)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `weft: --retry: no task "wrold" in run ${good}\n  did you mean "world"?\n`,
    });
    expect(await weft(['resume', good, '--retry', 'world', '--retry', 'nosuch'], project)).toMatchObject({
      code: 2,
      stderr: `weft: --retry: no task "nosuch" in run ${good}\n  \`weft status ${good}\` lists its tasks\n`,
    });
    // A failed run: nothing is run again for a typo.
    const failed = await weft(['resume', bad, '--retry', 'bom', '--json'], project);
    expect(failed).toMatchObject({
      code: 2,
      stderr: `weft: --retry: no task "bom" in run ${bad}\n  did you mean "boom"?\n`,
    });
    expect(JSON.parse(failed.stdout)).toEqual({
      error: { code: 'WEFT_USAGE', message: `--retry: no task "bom" in run ${bad}`, hint: 'did you mean "boom"?' },
    });
    // A task that succeeded: nothing to retry. On a succeeded run this answered "nothing to resume", exit 0.
    expect(await weft(['resume', good, '--retry', 'world'], project)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(`^weft: --retry: task "world" already succeeded in run ${good}; there is nothing to retry\\n`),
      ),
    });
    expect(JSON.parse((await weft(['runs', '--json'], project)).stdout)).toEqual(before);
    expect(JSON.parse((await weft(['status', bad, '--json'], project)).stdout)).toMatchObject({ resumes: 0 });
  }, 60_000);

  it('weft resume --retry of a blocked task: refused with why it is blocked, exit 2 (a resume keeps it blocked)', async () => {
    const gated = tempProject('weft-blocked-');
    writeFileSync(join(gated, 'gated.yaml'), 'tasks:\n  - id: ship\n    gate: 1 == 2\n');
    const run = await weft(['run', 'gated.yaml', '--no-progress', '--no-isolation'], gated);
    expect(run.code, run.stderr).toBe(4);
    const id = /^Run (\S+) blocked/m.exec(run.stdout)?.[1] ?? '';
    expect(await weft(['resume', id, '--retry', 'ship'], gated)).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(`^weft: --retry: task "ship" is blocked in run ${id} \\(.+\\); a resume keeps it blocked\\n`),
      ),
    });
  }, 60_000);

  it('a report path that cannot take the file, and a -C folder that is not there: one line, exit 2, nothing made', async () => {
    const missing = await weft(['report', '-o', join(project, 'no-such-dir', 'r.html')], project);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr.split('\n')[0]).toBe(
      `weft: cannot write the report to ${join(project, 'no-such-dir', 'r.html')}: no such folder`,
    );
    expect((await weft(['report', '-o', project], project)).stderr.split('\n')[0]).toBe(
      `weft: cannot write the report to ${project}: it is a folder`,
    );
    const typo = join(project, 'typo');
    for (const args of [['status'], ['runs'], ['run', 'good.yaml'], ['serve', '-p', '0'], ['mcp']]) {
      const r = await weft([...args, '-C', typo], project);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`weft: -C ${typo}: no such folder`);
    }
    expect(existsSync(typo)).toBe(false);
    const file = await weft(['serve', '-p', '0', '-C', join(project, 'good.yaml')], project);
    expect(file).toMatchObject({ code: 2 });
    expect(file.stderr.split('\n')[0]).toBe(`weft: -C ${join(project, 'good.yaml')}: not a folder`);
  }, 60_000);

  it('weft logs --attempt: a number from 1, and one the task made; exit 2 otherwise', async () => {
    const junk = await weft(['logs', good, 'hello', '--attempt', 'abc'], project);
    expect(junk).toMatchObject({ code: 2, stdout: '' });
    expect(junk.stderr.split('\n')[0]).toBe('weft: --attempt expects an attempt number from 1, got "abc"');
    expect((await weft(['logs', good, 'hello', '--attempt', '0'], project)).code).toBe(2);
    const beyond = await weft(['logs', good, 'hello', '--attempt', '5'], project);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr.split('\n')[0]).toBe(`weft: task "hello" of run ${good} made 1 attempt(s), not 5`);
    expect(await weft(['logs', good, 'hello', '--attempt', '1'], project)).toMatchObject({
      code: 0,
      stdout: 'out-line\n',
    });
  }, 60_000);

  it('weft logs of a task that never started says so, not "yet"', async () => {
    const skipped = tempProject('weft-journal-');
    writePlan(skipped, 'plan.yaml', 'skips', [
      { id: 'boom', run: sh('exit 3') },
      { id: 'after', needs: ['boom'], run: sh('echo never') },
    ]);
    expect((await weft(['run', 'plan.yaml'], skipped)).code).toBe(1);
    const r = await weft(['logs', 'latest', 'after'], skipped);
    expect(r).toMatchObject({
      code: 0,
      stdout: '',
      stderr: 'weft: after never started (it was skipped): it has no log\n',
    });
  }, 60_000);

  it('weft run refuses an option that means nothing without its partner, before anything runs', async () => {
    const cases: [string[], string][] = [
      [['run', 'good.yaml', '--port', '5555'], 'weft: --port needs --ui'],
      [['run', 'good.yaml', '--planner', 'claude'], 'weft: --planner needs --goal'],
      [['run', 'good.yaml', '--attempts', '2'], 'weft: --attempts needs --goal'],
      [['run', 'good.yaml', '-y'], 'weft: --yes needs --goal'],
      // -j was dropped without a word: the summary said 1 worker.
      [
        ['run', 'good.yaml', '--sequential', '-j', '3'],
        'weft: --sequential runs one task at a time: it does not go with -j',
      ],
      [
        ['run', 'good.yaml', '--resume'],
        'weft: --resume continues the most recent unfinished run: it takes no plan or goal',
      ],
      // A resume runs with the options the run started with: these were dropped without a word.
      ...['--fail-fast', '--sequential', '--no-isolation', '--no-cache', '--explain-cache', '--ui'].map(
        (flag): [string[], string] => [
          ['run', '--resume', flag],
          `weft: ${flag} does not go with --resume: a resumed run keeps the options it started with`,
        ],
      ),
    ];
    const before = (await weft(['runs', '--json'], project)).stdout;
    for (const [args, line] of cases) {
      const r = await weft(args, project);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(line);
    }
    expect((await weft(['runs', '--json'], project)).stdout).toBe(before);
  }, 60_000);

  it('`latest` names the most recent run wherever a run id is asked for', async () => {
    expect(await weft(['logs', 'latest', 'boom', '--stderr'], project)).toMatchObject({ code: 0, stdout: 'no\n' });
    const status = await weft(['status', 'latest', '--json'], project);
    expect(JSON.parse(status.stdout)).toMatchObject({ runId: bad, status: 'failed' });
    expect((await weft(['report', 'latest', '--format', 'md'], project)).stdout.split('\n')[0]).toBe(
      `# weft run ${bad} — bad`,
    );
  }, 60_000);

  it('weft report: markdown and JSON on stdout; html written to the run folder, its path printed', async () => {
    const md = await weft(['report', good, '--format', 'md'], project);
    expect(md.code).toBe(0);
    expect(md.stdout.split('\n')[0]).toBe(`# weft run ${good} — good`);
    expect(md.stdout).toContain('## Summary');

    const json = JSON.parse((await weft(['report', good, '--format', 'json'], project)).stdout);
    expect(json).toMatchObject({
      format: 'weft-report',
      run: { id: good, plan: 'good', status: 'succeeded', resumes: 0 },
      summary: {
        counts: { succeeded: 2, failed: 0, total: 2 },
        successRate: 1,
        criticalPath: ['hello', 'world'],
        retries: 0,
      },
    });
    for (const metric of ['makespanMs', 'taskTimeMs', 'speedup', 'utilisation', 'criticalPathMs'])
      expect(json.summary[metric], metric).toBeGreaterThanOrEqual(0);
    expect(json.tasks.map((t: { id: string; attempts: unknown[] }) => `${t.id}:${t.attempts.length}`)).toEqual([
      'hello:1',
      'world:1',
    ]);

    const html = await weft(['report', good, '--format', 'html'], project);
    const file = join(project, '.weft', 'runs', good, 'report.html');
    expect(html).toMatchObject({ code: 0, stdout: `${file}\n` });
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/i);

    const pdf = await weft(['report', good, '--format', 'pdf'], project);
    expect(pdf.code).toBe(2);
    expect(pdf.stderr).toBe(
      'weft: --format expects json, md or html, got "pdf"\n  e.g. --format md; without --format the report is html\n',
    );

    // --json and another --format disagree: refused, not Markdown under --json.
    const both = await weft(['report', good, '--json', '--format', 'md'], project);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout).error).toMatchObject({ code: 'WEFT_USAGE', hint: 'give one of them' });
    expect(both.stderr).toBe('weft: --json asks for --format json, but --format says "md"\n  give one of them\n');
    const agree = await weft(['report', good, '--json', '--format', 'json'], project);
    expect(agree.code).toBe(0);
    expect(JSON.parse(agree.stdout).run.id).toBe(good);
  }, 60_000);

  it('weft resume of a run whose plan file was edited since says so: it goes on with the plan as it was', async () => {
    const edited = tempProject('weft-journal-');
    writePlan(edited, 'plan.yaml', 'p', [{ id: 'b', run: sh('exit 3') }]);
    expect((await weft(['run', 'plan.yaml'], edited)).code).toBe(1);
    const same = await weft(['resume', 'latest'], edited);
    expect(same.stderr).not.toContain('changed since');
    writePlan(edited, 'plan.yaml', 'p', [{ id: 'b', run: sh('true') }]);
    const r = await weft(['resume', 'latest'], edited);
    expect(r.code).toBe(1); // the command as it was
    expect(r.stderr).toMatch(
      /^weft: \S+plan\.yaml changed since run \S+ started; the resume goes on with the plan as it was then \(`weft run \S*plan\.yaml` starts a run of the edited plan\)\n/,
    );
  }, 60_000);

  it('weft resume -j of a run started with --sequential is refused: it was dropped, the resume ran one at a time', async () => {
    const own = tempProject('weft-journal-');
    writePlan(own, 'bad.yaml', 'bad', [{ id: 'boom', run: sh('exit 3') }]);
    const first = await weft(['run', 'bad.yaml', '--sequential', '--json'], own);
    expect(first.code).toBe(1);
    const runId = (JSON.parse(first.stdout.split('\n')[0] as string) as { runId: string }).runId;
    expect(await weft(['resume', runId, '-j', '3'], own)).toMatchObject({
      code: 2,
      stderr:
        `weft: -j: run ${runId} was started with --sequential, and a resume runs it one task at a time too\n` +
        '  leave out -j; `weft run <plan> -j M` starts a run on M workers\n',
    });
  }, 60_000);

  it('weft resume with nothing unfinished says so and exits 2; a finished run by id is a no-op', async () => {
    const none = await weft(['resume'], tempProject('weft-journal-'));
    expect(none).toMatchObject({ code: 2, stderr: 'weft: no run to resume\n  start one with `weft run <plan>`\n' });
    const finished = await weft(['resume'], project);
    expect(finished.code).toBe(2);
    expect(finished.stderr.split('\n')[0]).toBe(
      `weft: nothing to resume: no run is unfinished (the latest, ${bad}, failed)`,
    );
    const done = await weft(['resume', good], project);
    expect(done).toMatchObject({ code: 0, stdout: `run ${good} already succeeded; nothing to resume\n` });
  }, 60_000);
});

describe('weft logs -f', () => {
  it('prints a running task’s output as it comes and returns when the task ends', async () => {
    const project = tempProject('weft-journal-');
    writePlan(project, 'plan.yaml', 'follow', [
      { id: 'slow', run: sh('echo first; while [ ! -f go ]; do sleep 0.05; done; echo second') },
    ]);
    const run = startCli(['run', 'plan.yaml', '--json'], project);
    await run.whenLines(3); // run.created, task.ready, task.started
    const runId = (JSON.parse(run.stdout().split('\n')[0] as string) as { runId: string }).runId;
    const follow = startCli(['logs', runId.slice(0, -1), 'slow', '-f'], project);
    await follow.whenLines(1);
    expect(follow.stdout()).toBe('first\n');
    await new Promise((r) => setTimeout(r, 600)); // a few of its polls: still following
    expect(follow.child.exitCode).toBeNull();
    writeFileSync(join(project, 'go'), '');
    const followed = await follow.done;
    expect(followed).toMatchObject({ code: 0, stdout: 'first\nsecond\n', stderr: '' });
    expect((await run.done).code).toBe(0);
  }, 60_000);

  it('stops following, and says why, when the run’s coordinator is killed', async () => {
    const project = tempProject('weft-journal-');
    writePlan(project, 'plan.yaml', 'follow', [
      { id: 'slow', run: sh('echo first; while [ ! -f go ]; do sleep 0.05; done') },
    ]);
    const run = startCli(['run', 'plan.yaml', '--json'], project);
    await run.whenLines(3);
    const runId = (JSON.parse(run.stdout().split('\n')[0] as string) as { runId: string }).runId;
    const follow = startCli(['logs', runId, 'slow', '-f'], project);
    await follow.whenLines(1);
    run.child.kill('SIGKILL');
    const followed = await follow.done;
    writeFileSync(join(project, 'go'), ''); // lets the orphaned task end
    expect(followed).toMatchObject({
      code: 0,
      stdout: 'first\n',
      stderr:
        'weft: stopped following: the journal says running, but no coordinator drives it (killed or crashed); `weft resume` continues it\n',
    });
  }, 60_000);
});

describe('resuming', () => {
  it('is refused while a live coordinator holds the run (exit 3), and records nothing', async () => {
    const project = tempProject('weft-journal-');
    writePlan(project, 'plan.yaml', 'long', [
      { id: 'wait', run: sh('touch started; while [ ! -f go ]; do sleep 0.05; done') },
    ]);
    const first = startCli(['run', 'plan.yaml', '--json'], project);
    await until('the task to start', () => existsSync(join(project, 'started')));
    const runId = (JSON.parse(first.stdout().split('\n')[0] as string) as { runId: string }).runId;
    for (const args of [['resume', runId], ['resume'], ['run', '--resume']]) {
      const r = await weft(args, project);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(
          `^weft: run ${runId} is being driven by [^\\s:]+:${first.child.pid}\n  wait for it to finish \\(or stop it\\), then \`weft resume\`\n$`,
        ),
      );
    }
    writeFileSync(join(project, 'go'), '');
    expect((await first.done).code).toBe(0);
    expect(JSON.parse((await weft(['status', '--json'], project)).stdout)).toMatchObject({
      status: 'succeeded',
      resumes: 0,
    });
  }, 60_000);

  it('weft run --resume continues a run whose coordinator was SIGKILLed: stops its orphan, keeps what succeeded', async () => {
    const project = tempProject('weft-journal-');
    writePlan(project, 'plan.yaml', 'killed', [
      { id: 'a', run: sh(LINE) },
      // The first attempt hangs (until the resume stops it); the next one finishes.
      {
        id: 'b',
        needs: ['a'],
        run: sh(`${LINE}; if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 60 & echo $! > sleep.pid; wait; fi`),
      },
      { id: 'c', needs: ['b'], run: sh(LINE) },
    ]);
    const first = startCli(['run', 'plan.yaml'], project, 60_000, NO_HELPER);
    await until('b to start', () => existsSync(join(project, 'sleep.pid')));
    // While it runs: b counts as running, with the time it has run so far.
    await new Promise((r) => setTimeout(r, 300));
    const live = JSON.parse((await weft(['status', '--json'], project)).stdout);
    expect(live).toMatchObject({ status: 'running', driven: true, counts: { succeeded: 1, running: 1, pending: 1 } });
    expect(live.tasks.find((t: { id: string }) => t.id === 'b').durationMs).toBeGreaterThanOrEqual(250);
    // A crash that takes weft's orphan reaper too (test/cli/crash-orphans.test.ts: weft alone).
    expect(killReaperOf(first.child.pid as number)).toBe(true);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const sleeper = Number(readFileSync(join(project, 'sleep.pid'), 'utf8'));
    expect(isRunning(sleeper)).toBe(true);
    // Its lease has not expired, but its holder is gone: weft says so, and how to go on.
    expect((await weft(['runs'], project)).stdout).toMatch(
      / killed +interrupted\* +3 [^\n]*\n\* the journal says running, but no coordinator drives it \(killed or crashed\); `weft resume` continues it\n$/,
    );
    expect(JSON.parse((await weft(['status', '--json'], project)).stdout)).toMatchObject({
      status: 'running',
      driven: false,
    });

    const r = await weft(['run', '--resume'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('weft: stopped 1 task process(es) left running by the coordinator that died: b#1\n');
    expect(r.stdout).toContain('weft ▸ resuming');
    expect(r.stdout).toMatch(/▸ b started on w\d \(attempt 2\)/);
    expect(r.stdout).not.toMatch(/▸ a started/);
    // The count goes on from what the first life finished (a), it does not start again at 0.
    expect(r.stdout).toMatch(/✓ b \S+ \[2\/3\]\n/);
    expect(r.stdout).toMatch(/✓ c \S+ \[3\/3\]\n/);
    expect(isRunning(sleeper)).toBe(false);
    expect(lines(project)).toEqual(['a 1', 'b 1', 'b 2', 'c 1']);
    const summary = JSON.parse((await weft(['status', '--json'], project)).stdout);
    expect(summary).toMatchObject({ status: 'succeeded', resumes: 1, counts: { succeeded: 3 } });
    expect(summary.reason).toBeUndefined();
  }, 60_000);

  /** Starts the plan, waits until `deploy` (resume: never) is running and `other` is done, then signals weft (SIGKILL: a crash). */
  async function killDuringDeploy(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ project: string; runId: string }> {
    const project = tempProject('weft-journal-');
    writePlan(project, 'plan.yaml', 'never', [
      { id: 'deploy', resume: 'never', run: sh(`${LINE}; if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 60; fi`) },
      { id: 'other', run: sh(LINE) },
      { id: 'after', needs: ['deploy'], run: sh(LINE) },
    ]);
    const first = startCli(['run', 'plan.yaml', '--json'], project, 60_000, NO_HELPER);
    await until(
      'deploy to start and other to finish',
      () => first.stdout().includes('"type":"task.succeeded","at":') && lines(project).includes('deploy 1'),
    );
    if (signal === 'SIGKILL') expect(killReaperOf(first.child.pid as number)).toBe(true); // as above
    first.child.kill(signal);
    await first.done;
    return { project, runId: (JSON.parse(first.stdout().split('\n')[0] as string) as { runId: string }).runId };
  }

  it('resume: never — a task cut off by the crash is not run again until a person says so with --retry', async () => {
    const { project, runId } = await killDuringDeploy();
    const decision =
      'was running when weft stopped and has resume: never; check its side effects, then run it again with `weft resume --retry deploy`';

    const resumed = await weft(['resume'], project);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toBe(
      'weft: stopped 1 task process(es) left running by the coordinator that died: deploy#1\n',
    );
    expect(resumed.stdout).toContain(`✗ deploy ${decision}`);
    expect(resumed.stdout).toContain('↷ after skipped: dependency "deploy" failed');
    expect(lines(project).sort()).toEqual(['deploy 1', 'other 1']);
    const status = JSON.parse((await weft(['status', '--json'], project)).stdout);
    expect(status.tasks.find((t: { id: string }) => t.id === 'deploy')).toMatchObject({
      state: 'failed',
      reason: decision,
    });

    const unknown = await weft(['resume', '--retry', 'nope'], project);
    expect(unknown).toMatchObject({
      code: 2,
      stderr: `weft: --retry: no task "nope" in run ${runId}\n  \`weft status ${runId}\` lists its tasks\n`,
    });
    // other succeeded before the crash: a resume keeps it, so --retry of it would do nothing — refused, nothing runs.
    // (It was taken silently: the resume went on without running other again.)
    const succeeded = await weft(['resume', '--retry', 'other'], project);
    expect(succeeded).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `weft: --retry: task "other" already succeeded in run ${runId}; there is nothing to retry\n  --retry runs again a task with resume: never that was cut off; \`weft run <plan> --no-cache\` runs every task again\n`,
    });
    expect(lines(project).sort()).toEqual(['deploy 1', 'other 1']);

    // As the message says: no run id needed, though the run now stands failed.
    const retried = await weft(['resume', '--retry', 'deploy'], project);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain(`Run ${runId} succeeded\n`);
    expect(lines(project).filter((l) => l !== 'other 1')).toEqual(['deploy 1', 'deploy 2', 'after 1']);
    expect(lines(project).filter((l) => l === 'other 1')).toHaveLength(1);
    const after = JSON.parse((await weft(['status', '--json'], project)).stdout);
    expect(after).toMatchObject({ status: 'succeeded', resumes: 2, counts: { succeeded: 3 } });
    expect(after.tasks.find((t: { id: string }) => t.id === 'deploy').reason).toBeUndefined();
  }, 90_000);

  // A stop is no different from a crash: the task was cut off mid-run either way.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    it(`resume: never — a task stopped by ${signal} is not run again either`, async () => {
      const { project } = await killDuringDeploy(signal);
      const resumed = await weft(['resume'], project);
      expect(resumed.code).toBe(1);
      expect(resumed.stdout).toContain(
        '✗ deploy was running when weft stopped and has resume: never; check its side effects, then run it again with `weft resume --retry deploy`',
      );
      expect(lines(project).sort()).toEqual(['deploy 1', 'other 1']);
      expect((await weft(['resume', '--retry', 'deploy'], project)).code).toBe(0);
      expect(lines(project)).toContain('deploy 2');
    }, 90_000);

  // The decision is asked for until a person gives it: a second plain resume holds the task back too.
  it('resume: never — a second plain resume still does not run the task', async () => {
    const { project, runId } = await killDuringDeploy();
    expect((await weft(['resume'], project)).code).toBe(1);
    const again = await weft(['resume', runId], project);
    expect(again.code).toBe(1);
    expect(lines(project)).not.toContain('deploy 2');
  }, 90_000);
});

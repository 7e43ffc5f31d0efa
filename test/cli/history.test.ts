import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { attemptRunMs } from '../../src/core/run/metrics.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** Writes a plan into `dir` and returns its path. */
function planFile(dir: string, name: string, lines: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const task = (id: string, run: string, estimate?: string): string =>
  `  - {id: ${id}, run: "${run}"${estimate === undefined ? '' : `, estimate: ${estimate}`}}`;

const tId = (i: number): string => `t${String(i).padStart(3, '0')}`;
const taskIds = (learned: readonly { task: string }[]): string[] => learned.map((l) => l.task);

async function estimateJson(plan: string, cwd: string, ...more: string[]) {
  const r = await weft(['estimate', plan, '--json', ...more], { cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

async function run(plan: string, cwd: string, ...more: string[]) {
  const r = await weft(['run', plan, '--no-isolation', '--json', ...more], { cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; task?: string; at?: number });
}

/** The ms each task took in a run, from its `--json` events (what weft measures). */
/** What the run says a task took: its process's own time, as the summary and history count it. */
function tookMs(events: readonly { type: string; task?: string; at?: number }[], id: string): number {
  const find = (type: string) =>
    events.find((e) => e.type === type && e.task === id) as
      { at: number; processStartedAt?: number; processEndedAt?: number } | undefined;
  const started = find('task.started') as { at: number };
  const ended = find('task.succeeded') as { at: number; processStartedAt?: number; processEndedAt?: number };
  return attemptRunMs({
    startedAt: started.at,
    endedAt: ended.at,
    ...(ended.processStartedAt === undefined ? {} : { processStartedAt: ended.processStartedAt }),
    ...(ended.processEndedAt === undefined ? {} : { processEndedAt: ended.processEndedAt }),
  });
}

describe('durations that learn', () => {
  it('after a run, estimate uses the measured durations (running median) instead of the guesses', async () => {
    const project = tempProject();
    const plan = join(ROOT, 'examples/app.yaml');
    const before = JSON.parse((await weft(['estimate', plan, '--json'], { cwd: project })).stdout);
    expect(before).toMatchObject({ measured: false, learned: [], makespan: 6000, sequential: 9300 });
    expect((await weft(['run', plan, '--no-isolation'], { cwd: project })).code).toBe(0);
    const after = JSON.parse((await weft(['estimate', plan, '--json'], { cwd: project })).stdout);
    // The stand-ins sleep 0.3–0.8 s: 2.7 s of work in all, not 2h35m.
    expect(after.measured).toBe(true);
    expect(after.sequential).toBeGreaterThan(2.5);
    expect(after.sequential).toBeLessThan(30);
    expect(after.criticalPathTasks).toEqual(['schema', 'api', 'integration', 'tests']);
    expect(taskIds(after.learned)).toEqual(['schema', 'api', 'ui-setup', 'ui', 'integration', 'tests']);
    expect(after.learned[0]).toMatchObject({ task: 'schema', runs: 1, from: 'task', declared: 1200 });
    const guesses = JSON.parse((await weft(['estimate', plan, '--json', '--no-history'], { cwd: project })).stdout);
    expect(guesses).toMatchObject({ measured: false, learned: [], makespan: 6000 });
  });

  // Issue #12 item 8: after a run of t000…t039, an unrelated 120-task plan's estimate fell from 66 s to 4 s.
  it("one plan's runs do not replace another plan's estimates, even with the same task ids", async () => {
    const project = tempProject();
    const plans = join(project, 'plans');
    // 40 quick tasks t000…t039, as in the report.
    const quickTasks = Array.from({ length: 40 }, (_, i) => task(tId(i), 'true'));
    const quick = planFile(plans, 'quick.yaml', ['name: quick', 'workers: 8', 'tasks:', ...quickTasks]);
    // An unrelated 120-task plan in the same folder: 118 declared 30s each, t118 runs something else
    // with no estimate (the 60 s default), t119 runs exactly what the quick plan's tasks run.
    const bigTasks = [...Array.from({ length: 118 }, (_, i) => task(tId(i), `echo big ${i}`, '30s'))];
    bigTasks.push(task('t118', 'echo other'), task('t119', 'true'));
    const big = planFile(plans, 'big.yaml', ['name: big', 'workers: 4', 'tasks:', ...bigTasks]);
    const before = await estimateJson(big, project);
    expect(before).toMatchObject({ tasks: 120, measured: false, sequential: 118 * 30 + 2 * 60 });
    await run(quick, project);
    const quickNow = await estimateJson(quick, project);
    expect(quickNow.learned).toHaveLength(40);
    const after = await estimateJson(big, project);
    // Only t119 (same command, same folder, no estimate) takes the quick plan's durations.
    // 40 tasks ran it; a list keeps the last 15 measurements.
    const t119 = { task: 't119', estimate: expect.any(Number), runs: 15, from: 'command', declared: null };
    expect(after.learned).toEqual([t119]);
    expect(after.learned[0].estimate).toBeLessThan(10);
    expect(after.sequential).toBeGreaterThan(118 * 30 + 60);
    expect(after.sequential).toBeLessThan(118 * 30 + 60 + 10);
    expect(after.criticalPath).toBe(before.criticalPath);
    const text = await weft(['estimate', big], { cwd: project });
    expect(text.stdout).toMatch(/^ {2}learned {13}1 of 120 task durations measured in earlier runs/m);
    expect(text.stdout).toMatch(/^ {4}t119 {2}~\d+(\.\d+)?m?s \(learned, 15 runs of the same command\)$/m);
    expect(text.stdout).not.toMatch(/^ {4}t000 /m);
    // Within its own plan a kind still fills a new task with no estimate (t040), never a declared one (t041).
    const added = [task('t040', 'echo new'), task('t041', 'echo new', '20s')];
    planFile(plans, 'quick.yaml', [...readFileSync(quick, 'utf8').trimEnd().split('\n'), ...added]);
    const grown = await estimateJson(quick, project);
    const t040 = { task: 't040', estimate: expect.any(Number), runs: 15, from: 'kind', declared: null };
    expect(grown.learned.at(-1)).toEqual(t040);
    const grownText = (await weft(['estimate', quick], { cwd: project })).stdout;
    expect(grownText).toMatch(/^ {2}learned {13}41 of 42 task durations/m);
  }, 120_000); // eight CLI calls and a 40-task run, on a shared machine

  it('a task run twice is estimated at the median of its own two runs, marked as learned', async () => {
    const project = tempProject();
    const plan = planFile(join(project, 'p'), 'plan.yaml', [
      'name: twice',
      'tasks:',
      task('build', 'sleep 0.2', '10m'),
    ]);
    const took = [tookMs(await run(plan, project), 'build'), tookMs(await run(plan, project), 'build')];
    const median = Math.round((took[0]! + took[1]!) / 2) / 1000;
    const json = await estimateJson(plan, project);
    expect(json.learned).toEqual([{ task: 'build', estimate: median, runs: 2, from: 'task', declared: 600 }]);
    expect(json.sequential).toBe(median);
    const text = (await weft(['estimate', plan], { cwd: project })).stdout;
    expect(text).toMatch(/^ {4}build {2}~\d+ms \(learned, 2 runs, instead of 10m00s\)$/m);
    const head =
      /^ {2}learned {13}1 of 1 task durations measured in earlier runs \(--no-history: the plan's estimates\)$/m;
    expect(text).toMatch(head);
  });

  it('a changed command does not reuse the old durations; changed back, it does again', async () => {
    const project = tempProject();
    const first = ['name: edit', 'tasks:', task('build', 'sleep 0.1', '10m'), task('lint', 'sleep 0.1')];
    const plan = planFile(project, 'plan.yaml', first);
    await run(plan, project);
    expect(taskIds((await estimateJson(plan, project)).learned)).toEqual(['build', 'lint']);
    const second = ['name: edit', 'tasks:', task('build', 'sleep 0.3', '10m'), task('lint', 'sleep 0.3')];
    planFile(project, 'plan.yaml', second);
    const changed = await estimateJson(plan, project);
    expect(changed).toMatchObject({ measured: false, learned: [], sequential: 600 + 60 });
    expect((await weft(['estimate', plan], { cwd: project })).stdout).not.toContain('learned');
    // The same commands with another environment are other work too.
    planFile(project, 'plan.yaml', [...first, 'defaults: {env: {SIZE: 2}}']);
    expect(await estimateJson(plan, project)).toMatchObject({ measured: false, learned: [] });
    planFile(project, 'plan.yaml', first);
    expect(taskIds((await estimateJson(plan, project)).learned)).toEqual(['build', 'lint']);
  });

  it('weft run starts tasks in the order weft estimate predicts, from the same learned durations', async () => {
    const project = tempProject();
    // On one worker the longest task goes first: the declared estimates say quick, mid, slow; the
    // measured durations say the opposite.
    const tasks = [task('slow', 'sleep 1', '1s'), task('quick', 'sleep 0', '10s'), task('mid', 'sleep 0.5', '5s')];
    const plan = planFile(join(project, 'plans'), 'order.yaml', ['name: order', 'workers: 1', 'tasks:', ...tasks]);
    const starts = (events: readonly { type: string; task?: string }[]) =>
      events.filter((e) => e.type === 'task.started').map((e) => e.task);
    const guessed = await estimateJson(plan, project);
    expect(guessed.order).toEqual(['quick', 'mid', 'slow']);
    expect(starts(await run(plan, project))).toEqual(guessed.order);
    const learned = await estimateJson(plan, project);
    expect(learned.measured).toBe(true);
    expect(learned.order).toEqual(['slow', 'mid', 'quick']);
    expect(starts(await run(plan, project))).toEqual(learned.order);
  });

  // Issue #12 follow-up: a resume compiled the journal's plan without history, so the rest of the run
  // followed the declared estimates.
  it('weft resume starts the rest of an interrupted run in the order the learned durations give', async () => {
    const project = tempProject();
    // One worker, the longest first: declared, quick, mid, slow; measured, slow, mid, quick.
    const slow = `  - {id: slow, run: [sh, -c, 'echo $$ > slow.pid; sleep 1'], estimate: 1s}`;
    const tasks = [slow, task('quick', 'sleep 0', '10s'), task('mid', 'sleep 0.5', '5s')];
    const plan = planFile(join(project, 'plans'), 'order.yaml', ['name: order', 'workers: 1', 'tasks:', ...tasks]);
    const starts = (stdout: string) =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { type: string; task?: string })
        .filter((e) => e.type === 'task.started')
        .map((e) => e.task);
    await run(plan, project); // learns the durations
    const learned = await estimateJson(plan, project);
    expect(learned.order).toEqual(['slow', 'mid', 'quick']);
    const pidFile = join(project, 'plans', 'slow.pid');
    rmSync(pidFile);
    const { child, done } = startWeft(['run', plan, '--no-isolation', '--json'], project);
    for (let i = 0; i < 400 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    const interrupted = await done;
    expect(interrupted.code).toBe(130);
    expect(starts(interrupted.stdout)).toEqual(['slow']);
    const resumed = await weft(['resume', '--json'], { cwd: project });
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(starts(resumed.stdout)).toEqual(learned.order);
  });

  it('history written by earlier versions (keyed by task kind) is ignored, not read and not fatal', async () => {
    const project = tempProject();
    const old = ['name: old', 'tasks:', task('t001', 'true', '30s'), task('t002', 'echo')];
    const plan = planFile(project, 'plan.yaml', old);
    const seed = planFile(project, 'seed.yaml', ['name: seed', 'tasks:', task('seed', 'echo seed')]);
    await run(seed, project); // creates .weft/weft.db
    const db = new Database(join(project, '.weft', 'weft.db'));
    const put = db.prepare('INSERT INTO cache (key, value, updated_at) VALUES (?, ?, 0)');
    put.run('duration:kind:shell:t', JSON.stringify([4, 5, 6]));
    put.run('duration:task:old:t001', JSON.stringify([7]));
    put.run('duration:task:old:t002', '"not a list"');
    db.close();
    const r = await estimateJson(plan, project);
    expect(r).toMatchObject({ measured: false, learned: [], sequential: 90 });
    const text = await weft(['estimate', plan], { cwd: project });
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('learned');
  });
});

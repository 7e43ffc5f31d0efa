import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/plan/duration.js';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'));

function onlyRun(project: string): string {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  expect(runs).toHaveLength(1);
  return join(project, '.weft', 'runs', runs[0] as string);
}

// The runs below are about scheduling and the summary: --no-isolation keeps them in place, as they
// ran from a folder without git before the plan's folder decided the repository, so they never
// make branches or worktrees in the repository that holds examples/ (this one).
describe('examples', () => {
  it.each(examples)('%s validates', async (file) => {
    const r = await weft(['validate', `examples/${file}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^examples/${file}: valid — \\d+ tasks`));
    expect(r.code).toBe(0);
  });

  it('validate --set checks the value as weft run would: a wrong type or name is one line each, exit 2', async () => {
    const good = await weft(['validate', 'examples/pipeline.yaml', '--set', 'security=false']);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    const bad = await weft(['validate', 'examples/pipeline.yaml', '--set', 'security=0', '--set', 'securty=false']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('vars.security: --set security=0: expected true or false');
    expect(bad.stderr).toContain(
      'vars.securty: --set securty: the plan has no variable "securty" — fix: did you mean "security"?',
    );
  });

  it('app.yaml runs to success with a summary and run files', async () => {
    const project = tempProject();
    const r = await weft(['run', join(ROOT, 'examples/app.yaml'), '-j', '2', '--no-isolation'], { cwd: project });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tasks +6 succeeded, 0 failed, 0 skipped of 6/);
    expect(r.stdout).toMatch(/critical path schema → api → integration → tests/);
    expect(r.stdout).toMatch(/speed-up \d\.\d\d×, utilisation \d+%/);
    const dir = onlyRun(project);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      status: 'succeeded',
      mode: 'parallel',
      workers: 2,
      counts: { succeeded: 6, total: 6 },
    });
    expect(summary.makespanMs).toBeLessThan(summary.taskTimeMs);
    expect(Object.values(summary.tasksPerWorker).reduce((a: number, b) => a + (b as number), 0)).toBe(6);
    expect(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))).toMatchObject({
      name: 'app',
      workers: 2,
      plan: { tasks: expect.any(Array) },
    });
    expect(existsSync(join(dir, 'tasks', 'api', '1.stdout.log'))).toBe(true);
  });

  it("app.yaml as `npm start` runs it, in worktrees of a repository: the time around the tasks' processes is said, apart from task time", async () => {
    const repo = tempRepo({ 'app.yaml': readFileSync(join(ROOT, 'examples/app.yaml'), 'utf8') });
    const r = await weft(['run', 'app.yaml', '-j', '2'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ran +schema, api, ui-setup, ui: worktree/);
    const summary = JSON.parse(readFileSync(join(onlyRun(repo.dir), 'summary.json'), 'utf8')) as {
      taskTimeMs: number;
      handlingMs: number;
      tasks: { startedAt: number; endedAt: number }[];
    };
    // Every attempt's span is its process's time plus weft's around it, nothing lost or counted twice.
    const spans = summary.tasks.reduce((sum, t) => sum + t.endedAt - t.startedAt, 0);
    expect(summary.taskTimeMs + summary.handlingMs).toBe(spans);
    expect(summary.handlingMs).toBeGreaterThan(0);
    expect(r.stdout).toContain(
      `around tasks ${formatDuration(summary.handlingMs)} summed outside their processes (worktrees, commits, merges, output checks)`,
    );
  });

  it('app.yaml --sequential runs one at a time in declaration order and says so', async () => {
    const project = tempProject();
    const r = await weft(['run', join(ROOT, 'examples/app.yaml'), '--sequential', '--json', '--no-isolation'], {
      cwd: project,
    });
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.task)).toEqual([
      'schema',
      'api',
      'ui-setup',
      'ui',
      'integration',
      'tests',
    ]);
    expect(events.filter((e) => e.type === 'task.started').every((e) => e.worker === 0)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run.summary', summary: { mode: 'sequential', workers: 1 } });
  });

  it('pipeline.yaml estimates 9h sequential against the parallel time', async () => {
    const r = await weft(['estimate', '--no-history', 'examples/pipeline.yaml', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      makespan: 22_500,
      sequential: 32_400,
      criticalPath: 22_500,
      lowerBound: 22_500,
      workers: 2,
    });
    const text = await weft(['estimate', '--no-history', 'examples/pipeline.yaml']);
    expect(text.stdout).toContain('sequential          9h00m');
    expect(text.stdout).toContain('predicted makespan  6h15m on 2 workers');
    expect(text.stdout).toContain(
      'research → critique → backend → backend-qa → performance → statistics → devops → docs',
    );
  });

  it('pipeline.yaml skips a review whose flag is off, and statistics still runs', async () => {
    const project = tempProject();
    const r = await weft(['run', join(ROOT, 'examples/pipeline.yaml'), '--set', 'security=false', '--no-isolation'], {
      cwd: project,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('↷ security skipped: condition `vars.security` is false');
    const summary = JSON.parse(readFileSync(join(onlyRun(project), 'summary.json'), 'utf8'));
    expect(summary.counts).toMatchObject({ succeeded: 10, skipped: 1 });
    const est = await weft([
      'estimate',
      '--no-history',
      'examples/pipeline.yaml',
      '--json',
      '--set',
      'security=false',
      '--set',
      'performance=false',
    ]);
    expect(JSON.parse(est.stdout)).toMatchObject({ sequential: 25_200, skipped: ['performance', 'security'] });
  });

  it('estimate --sweep finds the smallest M within 5% of the best', async () => {
    const r = await weft(['estimate', '--no-history', 'examples/app.yaml', '--sweep', '1-4', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.sweep.map((s: { makespan: number }) => s.makespan)).toEqual([9300, 6000, 6000, 6000]);
    expect(out.bestWorkers).toBe(2);
  });

  // checks.yaml (weft's own lint, typecheck, core unit tests and build, side by side) is run by
  // `npm test` itself, before these tests: scripts/test.mjs fails unless its summary says 4
  // succeeded and names the bottleneck.

  it('failing.yaml: retries, failure isolation, a timeout and a condition', async () => {
    const project = tempProject();
    const r = await weft(['run', join(ROOT, 'examples/failing.yaml')], { cwd: project });
    expect(r.code).toBe(1);
    const summary = JSON.parse(readFileSync(join(onlyRun(project), 'summary.json'), 'utf8'));
    const byId = Object.fromEntries(summary.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.flaky).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(byId.broken).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^exited with code 3/) });
    expect(byId['after-broken']).toMatchObject({ state: 'skipped', reason: 'dependency "broken" failed' });
    expect(byId.slow).toMatchObject({ state: 'failed', reason: 'timed out after 0.5s' });
    expect(byId.independent.state).toBe('succeeded');
    expect(byId.deploy).toMatchObject({ state: 'skipped', reason: 'condition `vars.deploy` is false' });
    expect(r.stdout).toContain('config missing');
  });
});

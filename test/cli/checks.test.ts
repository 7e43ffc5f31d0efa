import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, startWeft, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);
vi.setConfig({ testTimeout: 150_000 });

/**
 * A stand-in for an agent: writes `<task>.txt` — first as MODE says (`broken`, `half`: fine alone,
 * broken next to another `half`), and `ok` once it is given feedback (WEFT_FEEDBACK); `never`
 * writes `broken` whatever it is told. It logs what it was told. With FIX_WAITS (ms), its first fix
 * busy-waits that long first (it leaves `<LOG>.waited`): time to press Ctrl-C while it runs.
 */
const worker = `const fs = require('fs');
const e = process.env;
const fb = e.WEFT_FEEDBACK === undefined ? '' : fs.readFileSync(e.WEFT_FEEDBACK, 'utf8');
fs.appendFileSync(e.LOG, JSON.stringify({ who: e.WEFT_TASK_ID, attempt: e.WEFT_ATTEMPT, feedback: fb }) + '\\n');
if (fb !== '' && e.FIX_WAITS !== undefined && !fs.existsSync(e.LOG + '.waited')) {
  fs.writeFileSync(e.LOG + '.waited', '');
  const until = Date.now() + Number(e.FIX_WAITS);
  while (Date.now() < until);
}
const mode = e.MODE === 'never' ? 'broken' : fb !== '' ? 'ok' : e.MODE;
fs.writeFileSync(e.WEFT_TASK_ID + '.txt', mode + '\\n');
`;

/** The check: fails when a file says broken, or when two say half; logs where it ran, the tree it saw (its index: a blame trial's changes are staged) and what. */
const check = `const fs = require('fs');
const seen = {};
for (const f of ['backend.txt', 'frontend.txt']) if (fs.existsSync(f)) seen[f] = fs.readFileSync(f, 'utf8').trim();
const tree = require('child_process').execFileSync('git', ['write-tree'], { encoding: 'utf8' }).trim();
fs.appendFileSync(process.env.LOG, JSON.stringify({ who: 'check', cwd: process.cwd(), seen, tree }) + '\\n');
const bad = Object.entries(seen).filter(([, v]) => v === 'broken').map(([f]) => f);
const half = Object.entries(seen).filter(([, v]) => v === 'half').map(([f]) => f);
if (bad.length > 0) { console.error('BUILD ERROR: ' + bad.join(', ') + ' is broken'); process.exit(1); }
if (half.length > 1) { console.error('BUILD ERROR: ' + half.join(' and ') + ' do not fit together'); process.exit(1); }
console.log('build ok');
`;

/** The deploy after the check: logs what it sees, where, and at which commit. */
const deploy = `const fs = require('fs');
const seen = {};
for (const f of ['backend.txt', 'frontend.txt']) if (fs.existsSync(f)) seen[f] = fs.readFileSync(f, 'utf8').trim();
const head = require('child_process').execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
fs.appendFileSync(process.env.LOG, JSON.stringify({ who: 'ship', cwd: process.cwd(), seen, head }) + '\\n');
`;

interface Line {
  head?: string;
  tree?: string;
  who: string;
  attempt?: string;
  feedback?: string;
  cwd?: string;
  seen?: Record<string, string>;
}

/** `backendEnv`: more of backend's environment (`, FIX_WAITS: 6000`). */
function project(backend: string, frontend: string, extra = '', more = '', backendEnv = '') {
  const log = join(mkdtempSync(join(tmpdir(), 'weft-check-log-')), 'log.jsonl');
  const plan = `tasks:
  - id: backend
    run: [node, worker.js]
    writes: [backend.txt]
    env: { MODE: ${backend}, LOG: ${log}${backendEnv} }
${extra}  - id: frontend
    run: [node, worker.js]
    writes: [frontend.txt]
    env: { MODE: ${frontend}, LOG: ${log} }
  - id: build
    verifies: [backend, frontend]
    run: [node, check.js]
    env: { LOG: ${log} }
  - id: ship
    needs: [build]
    run: [node, deploy.js]
    env: { LOG: ${log} }
${more}`;
  const repo = tempRepo({ 'plan.yaml': plan, 'worker.js': worker, 'check.js': check, 'deploy.js': deploy });
  const lines = (): Line[] =>
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
  return { repo, lines };
}

const summaryOf = (dir: string): { tasks: { id: string; state: string; reason?: string }[] } => {
  const runs = readdirSync(join(dir, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(dir, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

describe('checks: a task that `verifies` others runs on the merged result and routes its failure to the culprit', () => {
  it('one of two breaks it: only that one is told (blame), fixed, merged, and the check passes on the merged fix', async () => {
    const { repo, lines } = project('broken', 'ok');
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The check waits for the culprit's fix: not a retry, in its line or in the summary's counts.
    expect(r.stdout).toContain(
      '↻ build attempt 1 failed: check build: broken by backend; frontend passes on its own; waits for the fix of backend [2/4]\n',
    );
    expect(r.stdout).not.toContain('retrying in');
    expect(r.stdout).not.toMatch(/^ {2}retries/m);
    expect(r.stdout).toMatch(/^ {2}fixes +1 /m);
    expect(r.stdout).toContain(
      '↻ backend attempt 1: check build: broken by backend; frontend passes on its own — sent back to backend to fix (fix 1 of 2)',
    );
    // In that order: the culprit's fix, then the check again (its attempt 2 began only once the fix
    // had run; it had said `▸ build started … (attempt 2)` before the fix began).
    const out = r.stdout.split('\n');
    const flow = out
      .slice(out.findIndex((l) => l.startsWith('↻ build attempt 1 failed')))
      .filter((l) => /^[▸✓↻] (build|backend) /.test(l))
      .map((l) =>
        l
          .replace(/ on w\d+/, '')
          .replace(/^(✓ \S+) .*/, '$1')
          .replace(/ \[\d\/4\]$/, ''),
      );
    expect(flow).toEqual([
      '↻ build attempt 1 failed: check build: broken by backend; frontend passes on its own; waits for the fix of backend',
      '↻ backend attempt 1: check build: broken by backend; frontend passes on its own — sent back to backend to fix (fix 1 of 2)',
      '▸ backend started (attempt 2)',
      '✓ backend',
      '▸ build started (attempt 2)',
      '✓ build',
    ]);
    expect(r.stdout).toMatch(/ \[4\/4\]\n/); // backend ended twice, counted once
    expect(r.stdout).not.toContain('[5/4]');
    const report = await weft(['report', '--format', 'md'], { cwd: repo.dir });
    expect(report.stdout).toContain('## Checks\n\n- check build: broken by backend; frontend passes on its own\n');
    const seen = lines();
    const told = seen.filter((l) => l.feedback !== undefined && l.feedback !== '');
    expect(told.map((l) => l.who)).toEqual(['backend']);
    expect(told[0]?.feedback).toContain('BUILD ERROR: backend.txt is broken');
    // The last check ran on a tree holding both tasks' work, the fixed backend included.
    const checks = seen.filter((l) => l.who === 'check');
    expect(checks.at(-1)?.seen).toEqual({ 'backend.txt': 'ok', 'frontend.txt': 'ok' });
    // Tip, the tip again (the failure repeats: not flaky), backend alone and again (its failure
    // repeats too), frontend alone, tip after the fix: twice on a failing tree only, to confirm it.
    expect(checks).toHaveLength(6);
    expect(checks[1]?.tree).toBe(checks[0]?.tree);
    expect(checks[3]?.tree).toBe(checks[2]?.tree);
    expect(new Set(checks.map((c) => c.tree)).size).toBe(4);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:backend.txt`)).toBe('ok');
    // The failed attempt's log keeps the failure it was blamed for; each blame trial has its own.
    const logOf = async (attempt: string, stderr = true): Promise<string> =>
      (await weft(['logs', runId, 'build', '--attempt', attempt, ...(stderr ? ['--stderr'] : [])], { cwd: repo.dir }))
        .stdout;
    expect(await logOf('1')).toContain('BUILD ERROR: backend.txt is broken');
    expect(await logOf('1', false)).not.toContain('build ok');
    const logs = readdirSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'build'));
    expect(logs).toContain('1.alone-backend.stderr.log');
    expect(logs).toContain('1.alone-frontend.stdout.log');
    expect(
      readFileSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'build', '1.alone-frontend.stdout.log'), 'utf8'),
    ).toContain('build ok');
    // The deploy after the check saw every merged file, the fix included, at the integration tip.
    const ship = seen.filter((l) => l.who === 'ship');
    expect(ship).toHaveLength(1);
    expect(ship[0]?.seen).toEqual({ 'backend.txt': 'ok', 'frontend.txt': 'ok' });
    expect(ship[0]?.head).toBe(repo.git('rev-parse', `weft/${runId}`));
    expect(ship[0]?.cwd).not.toBe(repo.dir);
    // The summary says where the check ran, as it says where each task did: the merged result.
    const where = summaryOf(repo.dir).tasks.find((t) => t.id === 'build') as { where?: string };
    expect(where.where).toMatch(/^merged result @[0-9a-f]{7}$/);
    expect(r.stdout).toMatch(/ran +backend, frontend: worktree · build, ship: merged result @/);
    // Never in the user's checkout: it ran in worktrees elsewhere, and the checkout is as it was.
    for (const c of checks) expect(c.cwd).toContain(join(repo.dir, '.weft', 'worktrees', runId, '_check-build-'));
    expect(existsSync(join(repo.dir, 'backend.txt'))).toBe(false);
    // `.weft/` is weft's own folder (journal, run files), there after any run.
    expect(
      repo
        .git('status', '--porcelain')
        .split('\n')
        .filter((l) => l !== '' && l !== '?? .weft/'),
    ).toEqual([]);
  });

  it('both break it: both are told and both fixed', async () => {
    const { repo, lines } = project('broken', 'broken');
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '↻ build attempt 1 failed: check build: broken by backend and frontend; waits for the fixes of backend and frontend [2/4]\n',
    );
    const told = lines()
      .filter((l) => l.feedback !== undefined && l.feedback !== '')
      .map((l) => l.who)
      .sort();
    expect(told).toEqual(['backend', 'frontend']);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    for (const f of ['backend.txt', 'frontend.txt']) expect(repo.git('show', `weft/${runId}:${f}`)).toBe('ok');
    expect(lines().filter((l) => l.who === 'ship')[0]?.seen).toEqual({ 'backend.txt': 'ok', 'frontend.txt': 'ok' });
  });

  it('only the combination breaks it: both are told, with the combined failure', async () => {
    const { repo, lines } = project('half', 'half');
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('check build: broken only by backend and frontend together; each passes on its own');
    const told = lines().filter((l) => l.feedback !== undefined && l.feedback !== '');
    expect(told.map((l) => l.who).sort()).toEqual(['backend', 'frontend']);
    for (const t of told) expect(t.feedback).toContain('BUILD ERROR: backend.txt and frontend.txt do not fit together');
  });

  it('a fix that never comes: after fixAttempts the task and the check fail with the check output; only their dependents are skipped', async () => {
    // api-docs needs backend, storybook frontend: each waits for the check's verdict on what it needs.
    const more =
      '  - { id: api-docs, needs: [backend], run: "true" }\n  - { id: storybook, needs: [frontend], run: "true" }\n';
    const { repo, lines } = project('never', 'ok', '    fixAttempts: 1\n', more);
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    const tasks = summaryOf(repo.dir).tasks;
    const reason =
      'check build: broken by backend; frontend passes on its own (backend after 1 fix attempt); its output:';
    expect(tasks.find((t) => t.id === 'build')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining(reason),
    });
    expect(tasks.find((t) => t.id === 'build')?.reason).toContain('BUILD ERROR: backend.txt is broken');
    expect(tasks.find((t) => t.id === 'backend')).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining(reason),
    });
    expect(tasks.find((t) => t.id === 'frontend')).toMatchObject({ state: 'succeeded' });
    expect(tasks.find((t) => t.id === 'ship')).toMatchObject({ state: 'skipped' });
    // The culprit's own dependent is skipped for its failure; the other task's dependent runs.
    expect(tasks.find((t) => t.id === 'api-docs')).toMatchObject({
      state: 'skipped',
      reason: 'dependency "backend" failed',
    });
    expect(tasks.find((t) => t.id === 'storybook')).toMatchObject({ state: 'succeeded' });
    expect(r.stdout).toMatch(/api-docs.*dependency "backend" failed/);
    expect(lines().filter((l) => l.who === 'backend')).toHaveLength(2); // the first attempt and 1 fix
    // The fix changed nothing, so the tree is the same: the check ran at the tip twice and on
    // backend alone twice (each failure repeats), on frontend alone once; its verdicts were reused after the fix.
    expect(lines().filter((l) => l.who === 'check')).toHaveLength(5);
    expect(new Set(lines().flatMap((l) => (l.who === 'check' ? [l.tree] : []))).size).toBe(3);
  });

  it('Ctrl-C while the culprit is being fixed: the fix is cancelled, not retried, nothing is left running, and weft resume finishes', async () => {
    const { repo, lines } = project('broken', 'ok', '', '', ', FIX_WAITS: 6000');
    const run = startWeft(['run', 'plan.yaml'], repo.dir);
    // The fix's process runs (it logged itself), not only its attempt: a line may be half written.
    const fixRuns = () => {
      try {
        return lines().some((l) => l.who === 'backend' && l.attempt === '2');
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 2400 && !(/▸ backend started on w\d+ \(attempt 2\)/.test(run.output()) && fixRuns()); i++)
      await new Promise((r) => setTimeout(r, 25));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    // Cut off by Ctrl-C like any running task; it was said "retrying in 0ms", and counted as running.
    expect(r.stdout).toContain('■ backend cancelled: interrupted (Ctrl-C) [3/4]\n');
    expect(r.stdout).not.toContain('retrying in');
    expect(r.stdout).toContain('  tasks        1 succeeded, 0 failed, 0 skipped, 3 cancelled of 4\n');
    const status = JSON.parse((await weft(['status', '--json'], { cwd: repo.dir })).stdout);
    expect(status.counts).toMatchObject({ running: 0, cancelled: 3, succeeded: 1 });
    expect(status.tasks.map((t: { id: string; state: string }) => `${t.id}:${t.state}`)).toEqual([
      'backend:cancelled',
      'frontend:succeeded',
      'build:cancelled',
      'ship:cancelled',
    ]);
    // The resume sends backend its fix again, the check passes on it, and ship runs.
    const resumed = await weft(['resume'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('— sent back to backend to fix (fix 1 of 2)');
    expect(resumed.stdout).toMatch(/^✓ build /m);
    expect(resumed.stdout).toMatch(/^✓ ship /m);
    expect(resumed.stdout).toContain('  tasks        4 succeeded, 0 failed, 0 skipped of 4\n');
    expect(lines().filter((l) => l.who === 'ship')[0]?.seen).toEqual({ 'backend.txt': 'ok', 'frontend.txt': 'ok' });
  });
});

describe("a flaky check: a failure that does not repeat on the same tree is no task's", () => {
  /** Fails its first run ("connection reset"), passes every run after: the counter is outside the repository. */
  const flaky = `const fs = require('fs');
const f = process.env.COUNT;
const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0) + 1;
fs.writeFileSync(f, String(n));
const tree = require('child_process').execFileSync('git', ['write-tree'], { encoding: 'utf8' }).trim();
fs.appendFileSync(process.env.LOG, JSON.stringify({ who: 'check', tree }) + '\\n');
if (n === 1) { console.error('FLAKE: connection reset'); process.exit(1); }
console.log('build ok');
`;

  it.each([
    ['two tasks', '[backend, frontend]'],
    ['one task', '[backend]'],
  ])(
    'verifying %s: it runs again on the same tree, passes, is reported flaky everywhere, and nobody is told',
    async (_name, verifies) => {
      const dir = mkdtempSync(join(tmpdir(), 'weft-flaky-'));
      const log = join(dir, 'log.jsonl');
      const plan = `tasks:
  - { id: backend, run: [node, worker.js], writes: [backend.txt], env: { MODE: ok, LOG: ${log} } }
  - { id: frontend, run: [node, worker.js], writes: [frontend.txt], env: { MODE: ok, LOG: ${log} } }
  - { id: build, verifies: ${verifies}, needs: [frontend], run: [node, check.js], env: { LOG: ${log}, COUNT: ${join(dir, 'count')} } }
  - { id: ship, needs: [build], run: "true" }
`;
      const repo = tempRepo({ 'plan.yaml': plan, 'worker.js': worker, 'check.js': flaky });
      const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const seen = readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line);
      // Nobody was sent the failure: each task ran once, without feedback.
      expect(seen.filter((l) => l.who !== 'check').map((l) => [l.who, l.feedback])).toEqual(
        expect.arrayContaining([
          ['backend', ''],
          ['frontend', ''],
        ]),
      );
      expect(seen.filter((l) => l.who !== 'check')).toHaveLength(2);
      // It ran twice, on the same tree.
      const checks = seen.filter((l) => l.who === 'check');
      expect(checks).toHaveLength(2);
      expect(checks[1]?.tree).toBe(checks[0]?.tree);
      const verdict = 'check build: flaky — failed (exited with code 1 after';
      expect(r.stdout).toMatch(
        /✓ build \S+ ⚠ check build: flaky — failed \(exited with code 1 after [\d.]+m?s: FLAKE: connection reset\), then passed when run again on the same tree; no task is told \[3\/4\]\n/,
      );
      expect(r.stdout).not.toContain('↻');
      expect(r.stdout).toMatch(
        /\n {2}flaky {8}build: failed \(exited with code 1 after [\d.]+m?s: FLAKE: connection reset\), then passed when run again on the same tree \(no task was told\)\n/,
      );
      expect(r.stdout).toMatch(/Run \S+ succeeded/);
      const tasks = summaryOf(repo.dir).tasks;
      expect(tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      expect(tasks.find((t) => t.id === 'build')).toMatchObject({
        flaky: expect.stringContaining('FLAKE: connection reset'),
      });
      const md = await weft(['report', '--format', 'md'], { cwd: repo.dir });
      expect(md.stdout).toMatch(
        /## Checks\n\n- check build: flaky — failed \(exited with code 1 after .*FLAKE: connection reset\), then passed when run again on the same tree; no task is told\n/,
      );
      const html = await weft(['report', '--format', 'html'], { cwd: repo.dir });
      expect(readFileSync(html.stdout.trim(), 'utf8')).toContain(
        '<section class="checks"><h2>Checks</h2><ul><li>' + verdict,
      );
      const json = JSON.parse((await weft(['report', '--format', 'json'], { cwd: repo.dir })).stdout) as {
        tasks: { id: string; flaky: string | null }[];
      };
      expect(json.tasks.find((t) => t.id === 'build')?.flaky).toContain('FLAKE: connection reset');
      expect(json.tasks.find((t) => t.id === 'backend')?.flaky).toBeNull();
      // The failed run's logs keep the failure; the run that passed has its own.
      const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
      const logs = join(repo.dir, '.weft', 'runs', runId, 'tasks', 'build');
      expect(readFileSync(join(logs, '1.stderr.log'), 'utf8')).toContain('FLAKE: connection reset');
      expect(readFileSync(join(logs, '1.again.stdout.log'), 'utf8')).toContain('build ok');
    },
  );

  it('a blame trial that fails once, then passes on the same tree, blames nobody: only the real culprit is told', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-flaky-trial-'));
    const log = join(dir, 'log.jsonl');
    // The check, but its first run on frontend's work alone (no backend.txt) fails with a flake.
    const flakyAlone = check.replace(
      'const bad =',
      `if (seen['frontend.txt'] === 'ok' && !('backend.txt' in seen) && !fs.existsSync(process.env.MARK)) {
  fs.writeFileSync(process.env.MARK, '');
  console.error('FLAKE: connection reset');
  process.exit(1);
}
const bad =`,
    );
    const plan = `tasks:
  - { id: backend, run: [node, worker.js], writes: [backend.txt], env: { MODE: broken, LOG: ${log} } }
  - { id: frontend, run: [node, worker.js], writes: [frontend.txt], env: { MODE: ok, LOG: ${log} } }
  - { id: build, verifies: [backend, frontend], run: [node, check.js], env: { LOG: ${log}, MARK: ${join(dir, 'mark')} } }
`;
    const repo = tempRepo({ 'plan.yaml': plan, 'worker.js': worker, 'check.js': flakyAlone });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(dir, 'mark'))).toBe(true); // the flake happened
    expect(r.stdout).toContain(
      'check build: broken by backend; frontend passes on its own; waits for the fix of backend',
    );
    const seen = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const told = seen.filter((l) => l.feedback !== undefined && l.feedback !== '');
    expect(told.map((l) => l.who)).toEqual(['backend']);
    // Each trial that failed ran again on the same tree; its logs are the attempt's `alone-<task>.again`.
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    const logs = readdirSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'build'));
    expect(logs).toEqual(
      expect.arrayContaining(['1.alone-frontend.again.stdout.log', '1.alone-backend.again.stderr.log']),
    );
    expect(
      readFileSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'build', '1.alone-frontend.stderr.log'), 'utf8'),
    ).toContain('FLAKE: connection reset');
  });
});

describe('a bad `verifies` is refused before anything runs: one line, exit 2', () => {
  it.each([
    ['an unknown task', '[backnd]', 'verifies[0]: unknown task "backnd" — fix: did you mean "backend"?'],
    ['itself', '[build]', 'verifies[0]: "build" depends on itself — fix: remove "build" from verifies'],
  ])('%s', async (_name, verifies, line) => {
    const repo = tempRepo({
      'plan.yaml': `tasks:\n  - { id: backend, run: "true" }\n  - { id: build, verifies: ${verifies}, run: "true" }\n`,
    });
    const r = await weft(['validate', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      expect.stringMatching(
        new RegExp(`^plan\\.yaml:3:\\d+ task "build" ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      ),
    ]);
  });
});

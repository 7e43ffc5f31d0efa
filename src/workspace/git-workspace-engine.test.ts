import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../core/run/engine.js';
import type { RunEvent } from '../core/run/events.js';
import { compilePlan } from '../core/plan/compile.js';
import { ShellExecutor } from '../executors/shell/shell-executor.js';
import { applyRun } from './apply-run.js';
import { GitWorkspace } from './git-workspace.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

let repo: TempRepo | undefined;
const dirs: string[] = [];
afterEach(() => {
  repo?.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A task script that sets `value = <letter>` in settings.txt and writes its own file. Shell tasks
 * get no feedback, so the fix is in the script: when its worktree holds conflict markers (a fix
 * attempt after a conflict), it resolves them by keeping both sides. A first attempt waits until
 * the other task has started too, so both surely branched from the same tip and must conflict.
 */
const edit = (letter: string, other: string): string => `set -e
if grep -q '^<<<<<<< ' settings.txt; then
  awk '/^<<<<<<< /{next} /^[|][|][|][|][|][|][|]/{skip=1; next} /^=======$/{skip=0; next} /^>>>>>>> /{next} !skip' settings.txt > settings.tmp
  mv settings.tmp settings.txt
  echo "fixed on attempt $WEFT_ATTEMPT" > ${letter}.fix
else
  touch "$SYNC_DIR/${letter}"
  for i in $(seq 100); do [ -e "$SYNC_DIR/${other}" ] && break; sleep 0.05; done
  sed 's/^value = base$/value = ${letter}/' settings.txt > settings.tmp
  mv settings.tmp settings.txt
  echo ${letter} > ${letter}.txt
fi`;

describe('GitWorkspace under runPlan', () => {
  it('routes a merge conflict back to the task that caused it; its fix merges and dependents see both', async () => {
    repo = tempRepo({ 'settings.txt': 'name = demo\nvalue = base\n' });
    const head = repo.git('rev-parse', 'HEAD');
    const shell = new ShellExecutor();
    const sync = mkdtempSync(join(tmpdir(), 'weft-sync-'));
    dirs.push(sync);
    const plan = compilePlan(
      {
        name: 'conflict',
        workers: 3,
        defaults: { executor: 'shell', shell: true },
        tasks: [
          // Agents (the shell executor under an agent's name) that declare no writes: they may change
          // any file and run at the same time — and both edit settings.txt.
          { id: 'a', executor: 'agent', run: edit('A', 'B'), env: { SYNC_DIR: sync } },
          { id: 'b', executor: 'agent', run: edit('B', 'A'), env: { SYNC_DIR: sync } },
          {
            id: 'check',
            needs: ['a', 'b'],
            writes: ['report.txt'],
            run: "grep -q 'value = A' settings.txt && grep -q 'value = B' settings.txt && ! grep -q '<<<<<<<' settings.txt && echo both > report.txt",
          },
          // A plain shell task runs in the project folder itself.
          { id: 'plain', run: 'pwd > /dev/null' },
        ],
      },
      {
        executors: new Map([
          ['shell', shell.info],
          ['agent', shell.info],
        ]),
      },
    );
    const ws = await GitWorkspace.open({ runId: 'e2e', projectDir: repo.dir });
    const events: RunEvent[] = [];
    const outcome = await runPlan({
      runId: 'e2e',
      plan,
      executors: new Map([
        ['shell', shell],
        ['agent', shell],
      ]),
      baseDir: repo.dir,
      workspace: ws,
      journal: (batch) => void events.push(...batch),
    });
    await ws.close();

    const states = Object.fromEntries([...outcome.state.tasks.values()].map((r) => [r.id, r.state]));
    expect(states).toEqual({ a: 'succeeded', b: 'succeeded', check: 'succeeded', plain: 'succeeded' });
    expect(outcome.status).toBe('succeeded');

    // Exactly one of a and b merged second, hit the conflict, and was sent back to fix it.
    const routed = events.filter((e) => e.type === 'task.retrying');
    expect(routed).toHaveLength(1);
    const fixer = (routed[0] as Extract<RunEvent, { type: 'task.retrying' }>).task;
    expect(routed[0]).toMatchObject({
      error: {
        code: 'WEFT_MERGE_CONFLICT',
        message: `merging task "${fixer}" into weft/e2e conflicts in settings.txt`,
      },
    });
    const letter = fixer === 'a' ? 'A' : 'B';
    expect(repo.git('show', `weft/e2e:${letter}.fix`)).toBe('fixed on attempt 2');
    expect(events.find((e) => e.type === 'task.succeeded' && e.task === fixer)).toMatchObject({
      attempt: 2,
      result: { files: { changed: 3 } },
    }); // settings.txt, its own file, the .fix note

    const settings = repo.git('show', 'weft/e2e:settings.txt');
    expect(settings).toContain('value = A');
    expect(settings).toContain('value = B');
    expect(settings).not.toContain('<<<<<<<');
    expect(repo.git('show', 'weft/e2e:report.txt')).toBe('both');

    // Nothing touched the user's checkout; no worktree or task branch is left.
    expect(repo.git('rev-parse', 'HEAD')).toBe(head);
    expect(repo.read('settings.txt')).toBe('name = demo\nvalue = base\n');
    expect(repo.git('status', '--porcelain')).toBe('');
    // Only the worktrees parked for the next run stay (detached, in the shared pool).
    const left = repo.git('worktree', 'list').split('\n');
    expect(left.filter((w) => !w.includes('/.weft/worktrees/_pool/'))).toHaveLength(1);
    for (const w of left.slice(1)) expect(w).toMatch(/\(detached HEAD\)$/);
    expect(repo.git('branch', '--format=%(refname:short)').split('\n').sort()).toEqual(['main', 'weft/e2e']);
    expect(existsSync(join(repo.dir, '.weft/worktrees/e2e/a'))).toBe(false);

    // `weft apply` brings the result into the user's branch.
    const applied = await applyRun(repo.dir, 'e2e', { mode: 'ff' });
    expect(applied).toMatchObject({ branch: 'main', how: 'fast-forward', before: head });
    expect(repo.read('report.txt')).toBe('both\n');
  });
});

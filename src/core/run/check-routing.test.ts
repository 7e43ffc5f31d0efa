import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../ports/clock.js';
import type { Executor, TaskContext, TaskOutcome } from '../ports/executor.js';
import type { CheckAt, Workspace } from '../ports/workspace.js';
import { runOnClock, testPlan } from '../testing/engine-harness.js';

/**
 * A workspace that keeps what each task last merged in memory (its result text, `ok` or
 * `broken`): a check's checkout names the tree it holds — every merged task at the tip, or one
 * task's work alone — and that name is the folder the check runs in. The port, not a mock of weft.
 */
function memoryWorkspace(): Workspace & { merged: Map<string, string> } {
  const merged = new Map<string, string>();
  const treeOf = (at: CheckAt): string =>
    JSON.stringify(
      at.kind === 'tip' ? Object.fromEntries(merged) : { [at.task]: merged.get(at.task) ?? '' },
      Object.keys(Object.fromEntries(merged)).sort(),
    );
  return {
    merged,
    resultBranch: 'weft/r',
    prepare: async (task) => `/work/${task.id}`,
    integrate: async (task, _attempt, result) => {
      merged.set(task.id, result.text ?? '');
      return { ok: true };
    },
    release: async () => undefined,
    checkout: async (_check, at) => {
      const tree = treeOf(at);
      return { dir: tree, tree, release: async () => undefined };
    },
  };
}

/**
 * Tasks answer after their estimate on the virtual clock. A worker writes `broken` first and
 * `ok` once it is given feedback (`never` stays broken); the check fails when its tree holds a
 * `broken`; everything else succeeds.
 */
function executor(clock: VirtualClock, log: string[]): Executor {
  const after = (ms: number, outcome: TaskOutcome): Promise<TaskOutcome> =>
    new Promise((resolve) => clock.setTimeout(() => resolve(outcome), ms));
  return {
    name: 'test',
    version: '1',
    info: { requires: 'run' },
    run(ctx: TaskContext): Promise<TaskOutcome> {
      const mode = ctx.task.env.MODE;
      log.push(`${ctx.task.id}#${ctx.attempt}${ctx.feedback === undefined ? '' : ' (fix)'}`);
      if (ctx.task.verifies !== undefined) {
        const tree = JSON.parse(ctx.workdir) as Record<string, string>;
        const bad = Object.keys(tree).filter((k) => tree[k] === 'broken');
        return bad.length === 0
          ? after(10, { ok: true, result: { text: 'build ok' } })
          : after(10, { ok: false, failure: { message: 'exit 1', stderrTail: `BUILD ERROR: ${bad.join(', ')}` } });
      }
      const text = mode === undefined ? 'ok' : mode === 'never' || ctx.feedback === undefined ? 'broken' : 'ok';
      return after(100, { ok: true, result: { text } });
    },
  };
}

async function run(tasks: object[]) {
  const clock = new VirtualClock();
  const log: string[] = [];
  const workspace = memoryWorkspace();
  const plan = testPlan({
    name: 't',
    workers: 2,
    defaults: { executor: 'test' },
    tasks: tasks.map((t) => ({ run: 'x', ...t })),
  });
  const { state, status, events } = await runOnClock(clock, {
    plan,
    workspace,
    executor: executor(clock, log),
    baseDir: '/work',
  });
  const task = (id: string) => state.tasks.get(id);
  return { status, log, events, task, workspace };
}

/** backend and frontend, a check over both, and a dependent of each, of the check and of both. */
const project = (backend: string, extra: object = {}): object[] => [
  { id: 'backend', env: { MODE: backend }, ...extra },
  { id: 'frontend' },
  { id: 'build', verifies: ['backend', 'frontend'] },
  { id: 'api-docs', needs: ['backend'] },
  { id: 'storybook', needs: ['frontend'] },
  { id: 'ship', needs: ['build'] },
];

describe('checks in the engine (virtual clock): a culprit whose fixes run out', () => {
  it('fails with the check, and only their dependents are skipped: a dependent of the other task runs', async () => {
    const r = await run(project('never', { fixAttempts: 1 }));
    expect(r.status).toBe('failed');
    const reason = 'check build: broken by backend; frontend passes on its own (backend after 1 fix attempt)';
    expect(r.task('backend')).toMatchObject({ state: 'failed' });
    expect(r.task('backend')?.reason).toContain(reason);
    expect(r.task('build')).toMatchObject({ state: 'failed' });
    expect(r.task('build')?.reason).toContain('BUILD ERROR: backend');
    expect(r.task('api-docs')).toMatchObject({ state: 'skipped', reason: 'dependency "backend" failed' });
    expect(r.task('ship')).toMatchObject({ state: 'skipped', reason: 'dependency "build" failed' });
    expect(r.task('frontend')).toMatchObject({ state: 'succeeded' });
    expect(r.task('storybook')).toMatchObject({ state: 'succeeded' });
    // api-docs never ran: it waited for the check's verdict on what it needs.
    expect(r.log.some((l) => l.startsWith('api-docs'))).toBe(false);
    expect(r.log.filter((l) => l.startsWith('backend'))).toEqual(['backend#1', 'backend#2 (fix)']);
  });

  it('a fix that comes: the dependents of the fixed task start after the check passed, on the fixed work', async () => {
    const r = await run(project('broken'));
    expect(r.status).toBe('succeeded');
    expect(r.workspace.merged.get('backend')).toBe('ok');
    const started = (id: string) =>
      r.events.findIndex((e) => e.type === 'task.started' && 'task' in e && e.task === id);
    const passed = r.events.findIndex((e) => e.type === 'task.succeeded' && 'task' in e && e.task === 'build');
    expect(started('api-docs')).toBeGreaterThan(passed);
    expect(started('storybook')).toBeGreaterThan(passed);
    expect(r.task('ship')).toMatchObject({ state: 'succeeded' });
  });

  it('a dependent waits for the verdict, not for success: when the other task is the culprit, it still runs', async () => {
    const r = await run([
      { id: 'backend' },
      { id: 'frontend', env: { MODE: 'never' }, fixAttempts: 0 },
      { id: 'build', verifies: ['backend', 'frontend'] },
      { id: 'api-docs', needs: ['backend'] },
    ]);
    expect(r.task('build')).toMatchObject({ state: 'failed' });
    expect(r.task('frontend')).toMatchObject({ state: 'failed' });
    expect(r.task('backend')).toMatchObject({ state: 'succeeded' });
    expect(r.task('api-docs')).toMatchObject({ state: 'succeeded' });
  });
});

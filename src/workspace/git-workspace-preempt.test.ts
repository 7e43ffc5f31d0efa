import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../core/run/engine.js';
import type { RunEvent } from '../core/run/events.js';
import type { Executor, TaskContext, TaskOutcome } from '../core/ports/executor.js';
import { compilePlan } from '../core/plan/compile.js';
import { preemptedNote } from '../core/run/policies/preempt.js';
import { GitWorkspace } from './git-workspace.js';
import { tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

let repo: TempRepo | undefined;
afterEach(() => repo?.cleanup());

/** Each attempt of a task: the folder it worked in, what it found there, and what it was told. */
interface Seen {
  readonly task: string;
  readonly attempt: number;
  readonly workdir: string;
  readonly draftBefore: boolean;
  readonly feedback: string | undefined;
  readonly sessionId: string | undefined;
}

describe('GitWorkspace: a preempted agent keeps its worktree', () => {
  it('resumes the agent in the same worktree with its work there, then merges it', async () => {
    repo = tempRepo({ 'README.md': '# project\n' });
    const seen: Seen[] = [];
    // An agent-like executor (it runs a prompt, so it is isolated and resumes after preemption): its
    // first attempt writes part of its work and then works on until stopped; its next one finishes it.
    const agent: Executor = {
      name: 'agent',
      version: '1',
      info: { requires: 'prompt' },
      run(ctx: TaskContext): Promise<TaskOutcome> {
        const draft = join(ctx.workdir, 'draft.txt');
        seen.push({
          task: ctx.task.id,
          attempt: ctx.attempt,
          workdir: ctx.workdir,
          draftBefore: existsSync(draft),
          feedback: ctx.feedback,
          sessionId: ctx.sessionId,
        });
        ctx.emit({ kind: 'session', sessionId: 'writer-session' });
        appendFileSync(draft, `part ${ctx.attempt}\n`);
        if (ctx.attempt > 1) return Promise.resolve({ ok: true, result: { text: 'written' } });
        return new Promise((resolve) => {
          const stop = () => resolve({ ok: false, failure: { message: 'killed by SIGTERM' } });
          if (ctx.signal.aborted) stop();
          else ctx.signal.addEventListener('abort', stop, { once: true });
        });
      },
    };
    // The P0 task fails at once the first time and comes back 300 ms later, when the writer holds the only worker.
    const urgent: Executor = {
      name: 'urgent',
      version: '1',
      info: { requires: 'run' },
      run: (ctx) =>
        Promise.resolve(
          ctx.attempt === 1 ? { ok: false, failure: { message: 'exit 1' } } : { ok: true, result: { text: 'fixed' } },
        ),
    };
    const plan = compilePlan(
      {
        name: 'preempt',
        workers: 1,
        tasks: [
          { id: 'writer', executor: 'agent', prompt: 'write the draft', class: 'P3' },
          { id: 'hotfix', executor: 'urgent', run: 'x', class: 'P0', retries: 1, backoff: { initial: '300ms' } },
        ],
      },
      {
        executors: new Map([
          ['agent', agent.info],
          ['urgent', urgent.info],
        ]),
      },
    );
    const ws = await GitWorkspace.open({ runId: 'pre', projectDir: repo.dir });
    const events: RunEvent[] = [];
    const outcome = await runPlan({
      runId: 'pre',
      plan,
      executors: new Map([
        ['agent', agent],
        ['urgent', urgent],
      ]),
      baseDir: repo.dir,
      workspace: ws,
      journal: (batch) => void events.push(...batch),
    });
    await ws.close();

    expect(outcome.status).toBe('succeeded');
    expect(events.filter((e) => e.type === 'task.preempted')).toMatchObject([
      { task: 'writer', attempt: 1, by: 'hotfix', byClass: 'P0' },
    ]);
    const writer = seen.filter((s) => s.task === 'writer');
    expect(writer).toHaveLength(2);
    // Same worktree, its first part still there, the session resumed with the note.
    expect(writer[1]).toMatchObject({
      attempt: 2,
      workdir: writer[0]?.workdir,
      draftBefore: true,
      feedback: preemptedNote('hotfix'),
      sessionId: 'writer-session',
    });
    // Nothing lost: the merged result holds both parts.
    expect(repo.git('show', 'weft/pre:draft.txt')).toBe('part 1\npart 2');
    expect(readFileSync(join(repo.dir, 'README.md'), 'utf8')).toBe('# project\n'); // the checkout is untouched
  });
});

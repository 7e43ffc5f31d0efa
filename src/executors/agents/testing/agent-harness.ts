/**
 * Test helpers for the agent CLI executors: one FakeLlmServer, throwaway HOME and workdir, a run
 * folder, and a TaskContext that records the progress it gets.
 */
import type { Redactor } from '../../../core/redact.js';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, type TestContext } from 'vitest';
import type { ProgressEvent } from '../../../core/run/events.js';
import type { AbortCause, Executor, TaskOutcome } from '../../../core/ports/executor.js';
import type { ResolvedTask } from '../../../core/plan/graph.js';
import { makeAgentDirs } from '../../../../test/support/fake-llm/agent-env.js';
import { FakeLlmServer, step } from '../../../../test/support/fake-llm/fake-llm-server.js';
import { testContext, testTask } from '../../testing/task-context.js';
import { taskProcesses, type TaskProcess } from '../../process/task-processes.js';

export { step } from '../../../../test/support/fake-llm/fake-llm-server.js';
export { CLI_BINS } from '../../../../test/support/fake-llm/run-cli.js';

/** A resolved agent task with the engine's defaults. */
export function agentTask(partial: Partial<ResolvedTask> & { readonly id: string }): ResolvedTask {
  return testTask({ executor: 'agent', ...partial });
}

export interface AgentHarness {
  readonly llm: FakeLlmServer;
  readonly root: string;
  readonly home: string;
  readonly runDir: string;
  /** A fresh workdir `<root>/<name>`. */
  workdir(name: string): Promise<string>;
  /** Runs one attempt; `progress` is everything the executor emitted. */
  run(executor: Executor, task: ResolvedTask, options?: RunOptions): Promise<Attempt>;
  /**
   * Runs `task` (the test fails if that attempt does), then a fix: attempt 2, resuming the first
   * attempt's session with `feedback`. `options` (e.g. the workdir) go to both.
   */
  runAndFix(executor: Executor, task: ResolvedTask, feedback: string, options?: RunOptions): Promise<Fix>;
  /**
   * Runs one task per id at once, each in its own workdir `tree-<id>` and scripted (by the marker
   * `[task-<id>]` in its prompt) to write `<id>.txt` and answer `<id> done`. `relativePaths`: the
   * scripted write names the file relative to the workdir rather than by its absolute path.
   */
  runInParallel(executor: Executor, ids: readonly string[], options?: { relativePaths?: boolean }): Promise<Parallel>;
}

export interface RunOptions {
  readonly workdir?: string;
  readonly attempt?: number;
  readonly sessionId?: string;
  readonly feedback?: string;
  readonly runId?: string;
  readonly signal?: AbortSignal;
  /** The run's secrets, as the engine hands them on. */
  readonly redact?: Redactor;
  /** Called with each progress event as it comes (e.g. to abort once the session is known). */
  readonly onProgress?: (event: ProgressEvent) => void;
}

export interface Attempt {
  readonly outcome: TaskOutcome;
  readonly progress: readonly ProgressEvent[];
  readonly workdir: string;
}

/** A fix attempt: its outcome and progress, and the session it resumed. */
export interface Fix extends Attempt {
  readonly sessionId: string;
}

/** Parallel attempts, in the order of their ids, and the workdir of each. */
export interface Parallel {
  readonly attempts: readonly Attempt[];
  readonly workdirs: readonly string[];
}

/** A server, a HOME, a run folder and a default workdir for one test, removed when it ends. */
export async function agentHarness({ onTestFinished }: TestContext): Promise<AgentHarness> {
  const llm = await FakeLlmServer.start();
  const dirs = await makeAgentDirs('weft-agent-'); // <root>/{home,work}
  const { root, home } = dirs;
  const runDir = join(root, 'run');
  await mkdir(runDir, { recursive: true });
  onTestFinished(async () => {
    await llm.close();
    await dirs.cleanup();
  });
  const harness: AgentHarness = {
    llm,
    root,
    home,
    runDir,
    async workdir(name) {
      const dir = join(root, name);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async run(executor, task, options = {}) {
      const progress: ProgressEvent[] = [];
      const workdir = options.workdir ?? dirs.cwd;
      const ctx = testContext(task, {
        runId: options.runId ?? 'run-1',
        attempt: options.attempt ?? 1,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        runDir,
        baseDir: root,
        workdir,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        ...(options.feedback === undefined ? {} : { feedback: options.feedback }),
        ...(options.redact === undefined ? {} : { redact: options.redact }),
        emit(event) {
          progress.push(event);
          options.onProgress?.(event);
        },
      });
      return { outcome: await executor.run(ctx), progress, workdir };
    },
    async runAndFix(executor, task, feedback, options = {}) {
      const first = await harness.run(executor, task, options);
      if (!first.outcome.ok) expect.fail(first.outcome.failure.message);
      const sessionId = first.outcome.result.sessionId as string;
      return { ...(await harness.run(executor, task, { ...options, attempt: 2, sessionId, feedback })), sessionId };
    },
    async runInParallel(executor, ids, { relativePaths = false } = {}) {
      const workdirs = await Promise.all(ids.map((id) => harness.workdir(`tree-${id}`)));
      ids.forEach((id, i) => {
        const file = relativePaths ? `${id}.txt` : join(workdirs[i] as string, `${id}.txt`);
        llm.script({ marker: `[task-${id}]` }, step.writeFile(file, `${id}\n`), step.text(`${id} done`));
      });
      const attempts = await Promise.all(
        ids.map((id, i) =>
          harness.run(executor, agentTask({ id, prompt: `Write ${id}.txt [task-${id}]` }), {
            workdir: workdirs[i] as string,
          }),
        ),
      );
      return { attempts, workdirs };
    },
  };
  return harness;
}

/** Aborts `controller` with `cause` once the executor reports a session (the CLI is up and talking). */
export function abortOnSession(controller: AbortController, cause: AbortCause): (event: ProgressEvent) => void {
  return (event) => {
    if (event.kind === 'session' && !controller.signal.aborted) setTimeout(() => controller.abort(cause), 300);
  };
}

/**
 * An aborted attempt, and the task's processes (found by their WEFT_* env) at its session and those
 * still there {@link GONE_WITHIN_MS} after it ended: a process killed with its group exits a moment
 * after the attempt returns (more than a moment on a loaded machine), but exits.
 */
export interface AbortedAttempt {
  readonly outcome: TaskOutcome;
  readonly atSession: readonly TaskProcess[];
  readonly left: readonly TaskProcess[];
}

/**
 * Runs task `stuck` (script a hanging model first) and aborts it with `cause` once its session
 * starts, in a run of its own, so other tests' processes never count.
 */
export async function abortStuck(h: AgentHarness, executor: Executor, cause: AbortCause): Promise<AbortedAttempt> {
  const runId = `abort-${randomUUID()}`;
  const controller = new AbortController();
  const abort = abortOnSession(controller, cause);
  let atSession: TaskProcess[] = [];
  const { outcome } = await h.run(executor, agentTask({ id: 'stuck', prompt: 'Hi' }), {
    runId,
    signal: controller.signal,
    onProgress: (event) => {
      if (event.kind === 'session') atSession = taskProcesses(runId);
      abort(event);
    },
  });
  return { outcome, atSession, left: await leftAfter(runId, GONE_WITHIN_MS) };
}

const GONE_WITHIN_MS = 3000;

/** The run's processes still alive once none is, or after `ms`. */
async function leftAfter(runId: string, ms: number): Promise<TaskProcess[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = taskProcesses(runId);
    if (left.length === 0 || Date.now() >= end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Progress messages of one kind. */
export const messages = (progress: readonly ProgressEvent[], kind: ProgressEvent['kind']): string[] =>
  progress.filter((p) => p.kind === kind).map((p) => p.message ?? '');

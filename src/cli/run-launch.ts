import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { WeftError } from '../core/errors.js';
import { compilePlan, type CompiledPlan } from '../core/plan/compile.js';
import { checkSetup, type Executor } from '../core/ports/executor.js';
import type { CancelAnswer, RunControl, StartRunInput, StartedRun } from '../core/ports/run-control.js';
import type { Store } from '../core/ports/store.js';
import type { RunState } from '../core/run/run-state.js';
import { staticGate } from '../core/run/policies/when.js';
import { catalogOf } from '../executors/index.js';
import { loadPlanFile } from '../plan/load-plan.js';
import { estimateJson } from './commands/estimate.js';
import type { planGoal } from './commands/plan.js';
import { withHistory } from './history.js';
import { coordinatorOf, retryRefusal } from './journal.js';
import { CANCEL_SIGNAL } from './signals.js';
import { newRunId, weftDir, writeJson } from './run-files.js';

/** `weft plan`'s planner (a type only: the planner's command reaches `weft run`'s, which serves a control with `--ui`). */
export type PlanGoal = typeof planGoal;

/** What the launching half of the run control shares with the reading half. */
export interface ControlContext {
  /** The project folder (real path). */
  readonly projectDir: string;
  readonly store: Store;
  readonly executors: ReadonlyMap<string, Executor>;
  /** The weft CLI runs are started with. */
  readonly cli: string;
  /** How long a start waits for the run to reach the journal, ms. */
  readonly timeoutMs: number;
  /** The run's journal so far (read incrementally); `WEFT_RUN_NOT_FOUND` for an unknown run. */
  readRun(runId: string): Promise<{ readonly state: RunState; readonly lastSeq: number }>;
  /** The AI planner, in this process (`weft plan`'s); without it `plan` refuses. */
  readonly planGoal?: PlanGoal | undefined;
  /** A live coordinator holds the run's lease. */
  driven(runId: string): Promise<boolean>;
  resolve(given: string): Promise<string>;
  events: RunControl['events'];
  watch: RunControl['watch'];
}

/** How long a resume waits for a run whose end is journaled to let go of it, ms. */
const RELEASE_WAIT_MS = 10_000;

/** Where a run this control started keeps its `--json` output and its stderr. */
export const launchFiles = (projectDir: string, runId: string) => {
  const dir = join(weftDir(projectDir), 'launched');
  return { dir, out: join(dir, `${runId}.out.jsonl`), err: join(dir, `${runId}.err.log`) };
};

/** `path`, made absolute and real, when it is `root` or inside it. @throws WeftError naming `field` */
export function insideRoot(root: string, path: string, field: string, base = root): string {
  let real: string;
  try {
    real = realpathSync(resolve(base, path));
  } catch (error) {
    throw new WeftError(
      field === 'planFile' ? 'WEFT_PLAN_NOT_FOUND' : 'WEFT_USAGE',
      `${field}: ${path}: no such ${field === 'planFile' ? 'file' : 'folder'}`,
      { cause: error, hint: `give a path inside ${root} (relative paths start there)` },
    );
  }
  const rel = relative(root, real);
  if (rel.startsWith('..') || isAbsolute(rel))
    throw new WeftError('WEFT_USAGE', `${field}: ${path} is outside the folder this server serves (${root})`, {
      hint: 'give a path inside it, or serve a folder that holds it',
    });
  return real;
}

/**
 * Planning, estimating, starting, resuming, following and cancelling runs. Runs are started as
 * detached `weft run` / `weft resume` / `weft plan` processes in their own process group: they
 * outlive the server (a Ctrl-C to its terminal does not reach them), journal every step, and a run
 * whose process died is resumed from its journal like any other. Cancel sends the coordinator
 * SIGINT, as Ctrl-C does.
 */
export function runLauncher(ctx: ControlContext) {
  const { projectDir, store } = ctx;
  const catalog = catalogOf(new Map(ctx.executors));
  /** The processes this control started, by run id, while they live. */
  const children = new Map<string, ChildProcess>();
  const exists = async (runId: string): Promise<boolean> => (await store.listRuns()).some((r) => r.id === runId);

  const compile = (input: StartRunInput): { compiled: CompiledPlan; file?: string } => {
    const vars = input.vars === undefined ? {} : { vars: { ...input.vars }, varsFrom: 'request' as const };
    if ((input.plan === undefined) === (input.planFile === undefined))
      throw new WeftError('WEFT_USAGE', 'give one of `plan` (the plan itself), `planFile` (a path) or `goal`', {
        hint: 'e.g. {"plan": {"tasks": [{"id": "hello", "run": "echo hi"}]}}',
      });
    if (input.planFile !== undefined) {
      const file = insideRoot(projectDir, input.planFile, 'planFile');
      return { compiled: loadPlanFile(file, { executors: catalog, ...vars }, projectDir).compiled, file };
    }
    // Its problems are named as the field they are in.
    return { compiled: compilePlan(input.plan, { executors: catalog, file: 'plan', ...vars }) };
  };

  /** Refuses before answering a runId when an executor the plan needs is not set up (as `weft run` would). */
  const refuseUnlessSetUp = async (compiled: CompiledPlan): Promise<void> => {
    const gate = staticGate(compiled, process.env);
    const tasks = compiled.graph.tasks.filter((_, i) => gate(i) === undefined);
    const problems = await checkSetup(ctx.executors, tasks);
    if (problems.length > 0)
      throw new WeftError('WEFT_USAGE', `cannot start: ${problems.join('; ')}`, {
        hint: 'nothing has run; fix that and start it again',
      });
  };

  /**
   * Whether a process still holds the run. One whose end is journaled (a cancel's stop, a failure) is
   * only writing its report and exiting: it is given a few seconds to let go rather than refused.
   */
  const stillDriven = async (runId: string, status: RunState['status']): Promise<boolean> => {
    for (let waited = 0; await ctx.driven(runId); waited += 100) {
      if (status === 'running' || waited >= RELEASE_WAIT_MS) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };

  /** Starts a detached weft process; resolves once `ready` says so, or rejects with its last stderr line. */
  const launch = async (runId: string, args: string[], ready: () => Promise<boolean>): Promise<void> => {
    const files = launchFiles(projectDir, runId);
    mkdirSync(files.dir, { recursive: true });
    const out = openSync(files.out, 'a');
    const err = openSync(files.err, 'a');
    const from = statSync(files.err).size;
    // The server's token is not the tasks' business.
    const { WEFT_TOKEN: _token, ...env } = process.env;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [ctx.cli, ...args, '-C', projectDir], {
        cwd: projectDir,
        detached: true,
        stdio: ['ignore', out, err],
        env,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
      if (children.get(runId) === child) children.delete(runId);
    });
    child.on('error', () => (exited = -1));
    child.unref();
    children.set(runId, child);
    const deadline = Date.now() + ctx.timeoutMs;
    while (Date.now() < deadline) {
      if (await ready()) return;
      if (exited !== undefined) {
        if (await ready()) return; // it ran, and quickly
        throw didNotStart(readFileSync(files.err).subarray(from).toString('utf8'), exited); // `from` counts bytes
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new WeftError('WEFT_INTERNAL', `run ${runId} did not reach the journal within ${ctx.timeoutMs} ms`, {
      hint: `see ${files.err}`,
    });
  };

  /** A goal: `weft plan --yes` plans it (a run of its own), then runs the plan under the id answered now. */
  const planAndStart = async (input: StartRunInput): Promise<StartedRun> => {
    if (input.plan !== undefined || input.planFile !== undefined)
      throw new WeftError('WEFT_USAGE', 'give one of `plan` (the plan itself), `planFile` (a path) or `goal`');
    if (input.goal === undefined || input.goal.trim() === '')
      throw new WeftError('WEFT_USAGE', '`goal` is empty', { hint: 'say what you want built, in words' });
    const ignored = (['vars', 'sequential', 'failFast', 'isolation', 'cache'] as const).filter(
      (k) => input[k] !== undefined,
    );
    if (ignored.length > 0)
      throw new WeftError('WEFT_USAGE', `\`${ignored[0]}\` does not go with \`goal\` (the planner chooses)`);
    const runId = newRunId();
    const plannerRunId = `${runId}-planner`;
    const dir = join(weftDir(projectDir), 'plans');
    mkdirSync(dir, { recursive: true });
    const args = ['plan', input.goal, '--yes', '--json', '--run-id', runId, '--base', projectDir];
    args.push('-o', join(dir, `${runId}.yaml`));
    if (input.planner !== undefined) args.push('--planner', input.planner);
    if (input.executor !== undefined) args.push('--executor', input.executor);
    if (input.workers !== undefined) args.push('-j', String(input.workers));
    await launch(runId, args, () => exists(plannerRunId));
    return { runId, plannerRunId };
  };

  return {
    async plan(request) {
      const plannerRunId = newRunId();
      const dir = join(weftDir(projectDir), 'plans');
      mkdirSync(dir, { recursive: true });
      const output = join(dir, `${plannerRunId}.yaml`);
      const planGoal = ctx.planGoal;
      if (planGoal === undefined)
        throw new WeftError('WEFT_USAGE', 'this server does not plan goals', {
          hint: 'use `weft serve` or `weft mcp`',
        });
      const { plan } = await planGoal(request.goal, {
        dir: projectDir,
        output,
        json: true,
        progress: false,
        plannerRunId,
        ...(request.workers === undefined ? {} : { jobs: request.workers }),
        ...(request.planner === undefined ? {} : { planner: request.planner }),
        ...(request.executor === undefined ? {} : { executor: request.executor }),
      });
      if (plan === undefined)
        throw new WeftError('WEFT_RESULT_INVALID', 'the planner did not produce a valid plan', {
          hint: `the status of run ${plannerRunId} shows what it answered`,
        });
      return {
        planFile: output,
        plan: plan.spec as unknown as Record<string, unknown>,
        complexity: plan.output.analysis.complexity,
        reasons: plan.output.analysis.reasons,
        plannerRunId,
      };
    },

    async estimate(input) {
      if (input.goal !== undefined)
        throw new WeftError('WEFT_USAGE', 'estimate takes `plan` or `planFile`, not `goal`');
      refuseSequentialWorkers(input);
      const { compiled, file } = compile(input);
      const jobs = input.sequential === true ? 1 : input.workers;
      const opts = jobs === undefined ? {} : { jobs };
      const planFile = file ?? join(projectDir, 'plan');
      const scope = { projectDir, planFile, baseDir: projectDir };
      const compileOptions = { executors: catalog, file: planFile, vars: compiled.vars };
      const { compiled: measured, learned } = await withHistory(store, scope, compiled, compileOptions);
      return estimateJson(measured, { ...opts, learned });
    },

    async start(input) {
      if (input.goal !== undefined) return planAndStart(input);
      if (input.planner !== undefined || input.executor !== undefined)
        throw new WeftError('WEFT_USAGE', '`planner` and `executor` go with `goal`');
      refuseSequentialWorkers(input);
      const { compiled, file } = compile(input);
      await refuseUnlessSetUp(compiled);
      const runId = newRunId();
      let planFile = file;
      if (planFile === undefined) {
        const dir = join(weftDir(projectDir), 'plans');
        mkdirSync(dir, { recursive: true });
        planFile = join(dir, `${runId}.json`);
        // Its env holds the secrets as given (a resume runs with them): readable by this user only.
        writeJson(planFile, compiled.spec, true, 0o600);
      }
      const args = ['run', planFile, '--json', '--run-id', runId];
      if (file === undefined) args.push('--base', projectDir);
      for (const [k, v] of Object.entries(input.vars ?? {})) args.push('--set', `${k}=${v}`);
      if (input.workers !== undefined) args.push('-j', String(input.workers));
      if (input.sequential === true) args.push('--sequential');
      if (input.failFast === true) args.push('--fail-fast');
      if (input.isolation === false) args.push('--no-isolation');
      if (input.cache === false) args.push('--no-cache');
      await launch(runId, args, () => exists(runId));
      return { runId, planFile };
    },

    async resume(runId, options = {}) {
      const { state, lastSeq } = await ctx.readRun(runId);
      // As `weft resume --retry` checks them, did-you-mean and all (the launched resume's refusal
      // would come back as its first line only), before the run's own state.
      const refusal = retryRefusal(runId, state, options.retry ?? [], 'retry');
      if (refusal !== undefined) throw refusal;
      if (state.status === 'succeeded')
        throw new WeftError('WEFT_RUN_STATE', `run ${runId} already succeeded; nothing to resume`);
      if (await stillDriven(runId, state.status))
        throw new WeftError('WEFT_RUN_LOCKED', `run ${runId} is already being driven`, {
          hint: 'cancel it first, or wait for it to end',
        });
      const args = ['resume', runId, '--json', ...(options.retry ?? []).flatMap((t) => ['--retry', t])];
      // The secret vars it was started with: the journal keeps them masked, so the resume is given them again.
      for (const [k, v] of Object.entries(options.vars ?? {})) args.push('--set', `${k}=${v}`);
      const resumed = async (): Promise<boolean> =>
        (await store.read(runId, lastSeq)).some((e) => e.event.type === 'run.resumed');
      await launch(runId, args, resumed);
      return { runId };
    },

    async cancel(given): Promise<CancelAnswer> {
      let runId: string;
      try {
        runId = await ctx.resolve(given);
      } catch (error) {
        // Started a moment ago: its process has not journaled the run yet.
        const child = children.get(given);
        if (child?.pid === undefined) throw error;
        process.kill(child.pid, CANCEL_SIGNAL);
        return { runId: given, status: 'running', stopping: true };
      }
      const { state } = await ctx.readRun(runId);
      const owner = await coordinatorOf(store, runId);
      if (state.status !== 'running' || owner === undefined || owner === 'dead') {
        const status = state.status === 'running' ? 'interrupted' : state.status;
        const note = `run ${runId} is not running (${status})`;
        return { runId, status: state.status, stopping: false, note };
      }
      const [host, pid] = owner.split(':');
      if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid))
        return {
          runId,
          status: state.status,
          stopping: false,
          note: `run ${runId} is driven from another machine (${owner}): cancel it there`,
        };
      process.kill(Number(pid), CANCEL_SIGNAL); // as Ctrl-C: running tasks are cancelled and the stop journaled, with who stopped it
      return { runId, status: state.status, stopping: true };
    },

    async follow(runId, onEvent, signal, afterSeq = 0) {
      let seq = afterSeq;
      let quiet = 0;
      const unwatch = ctx.watch(runId, (notice) => {
        if (notice.type === 'task.progress') onEvent(notice);
      });
      try {
        while (!signal.aborted) {
          const entries = await ctx.events(runId, seq);
          for (const { seq: n, event } of entries) {
            onEvent(event);
            seq = n;
          }
          if (entries.at(-1)?.event.type === 'run.finished') return;
          quiet = entries.length > 0 ? 0 : quiet + 1;
          // Nobody drives it any more (its process died): nothing more will come.
          if (quiet % 25 === 24 && !children.has(runId) && !(await ctx.driven(runId))) return;
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        unwatch();
      }
    },
  } satisfies Pick<RunControl, 'plan' | 'estimate' | 'start' | 'resume' | 'cancel' | 'follow'>;
}

/** A run the journal does not know may be one this control started that failed before it began: its own error. */
export function explainMissing(projectDir: string, given: string, error: unknown): never {
  const { err } = launchFiles(projectDir, given);
  if (!/^[\w.-]{1,80}$/.test(given) || !existsSync(err)) throw error;
  const said = readFileSync(err, 'utf8').trim();
  throw new WeftError(
    'WEFT_RUN_NOT_FOUND',
    said === '' ? `run ${given} has not started yet` : `run ${given} did not start: ${said}`,
    { cause: error, hint: said === '' ? 'ask again in a moment' : 'fix that and start it again' },
  );
}

/**
 * What the launched process said of the flags this control passed it, named as the request's fields
 * (`planner`, `executor`, `workers`, `vars.<name>`): the caller sent fields, not flags.
 */
function asFields(text: string): string {
  return text
    .replace(/--(planner|executor)\b(?: <executor>)?/g, '`$1`')
    .replace(/(?:-j|--jobs)\b(?: <M>)?/g, '`workers`')
    .replace(/--set ([\w.-]+)=?/g, '`vars.$1`');
}

/** `sequential` runs one task at a time: `workers` beside it would be dropped without a word. */
function refuseSequentialWorkers(input: { readonly sequential?: boolean; readonly workers?: number }): void {
  if (input.sequential === true && input.workers !== undefined)
    throw new WeftError('WEFT_USAGE', '`sequential` runs one task at a time: it does not go with `workers`', {
      hint: 'leave out `workers`, or `sequential` to run on that many workers',
    });
}

/**
 * Why a launched weft process ended before its run was journalled, from what it wrote to stderr:
 * its `weft: …` line with the hint under it (a did-you-mean, the variable to fix), or else the
 * plan's issues, one a line as `weft validate` gives them.
 */
export function didNotStart(stderr: string, exitCode: number | null): WeftError {
  const said = stderr.trim().split('\n');
  const at = said.findIndex((l) => l.startsWith('weft:'));
  const hint = at >= 0 ? said[at + 1] : undefined;
  const message = at >= 0 ? (said[at] as string).replace(/^weft:\s*/, '') : said.filter((l) => l !== '').join('\n');
  return new WeftError('WEFT_USAGE', `the run did not start: ${asFields(message) || `exit code ${exitCode}`}`, {
    hint: hint !== undefined && /^\s/.test(hint) ? asFields(hint.trim()) : 'fix that and start it again',
  });
}

import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { RunBus, runPlan } from '../../core/run/engine.js';
import { checkSetup, endRun, type Executor } from '../../core/ports/executor.js';
import { WeftError } from '../../core/errors.js';
import { dependencyMap, summarize } from '../../core/run/metrics.js';
import type { RunState } from '../../core/run/run-state.js';
import type { Store } from '../../core/ports/store.js';
import { compilePlan, type CompiledPlan } from '../../core/plan/compile.js';
import { catalogOf } from '../../executors/index.js';
import { loadPlanFile } from '../../plan/load-plan.js';
import { exitCodeForStatus } from '../exit-codes.js';
import { formatSummary } from '../format.js';
import { openJournal, takeLease } from '../journal.js';
import { createProgress, stdoutLines, type ProgressMode } from '../progress.js';
import { createRunDir, newRunId, PRETTY_JSON_TASKS, weftDir, writeJson } from '../run-files.js';
import { FileTaskCache } from '../../store/task-cache.js';
import type { EngineNotice, EngineOptions } from '../../core/run/engine.js';
import type { ApprovalDecision } from '../../core/run/engine-options.js';
import { copiedSecrets, runRedactor, varSecrets } from '../secrets.js';
import { redactValue, type Redactor } from '../../core/redact.js';
import { remoteSecrets } from '../../core/remote-url.js';
import { attemptLogPaths } from '../../executors/process/log-files.js';
import { scrubFile } from '../../executors/process/scrub-file.js';
import { onInterrupt } from '../signals.js';
import { armReaper } from '../../executors/process/process-group.js';
import { stopOrphans } from '../orphans.js';
import { wire } from '../wiring.js';
import { findWorkspace, openWorkspace } from '../workspace-wiring.js';
import { checkingOutputs } from '../../workspace/outputs.js';
import { checkedOutBranch } from '../../workspace/apply-run.js';
import { dispatchOrder } from '../../core/schedule/dispatch-order.js';
import { staticGate } from '../../core/run/policies/when.js';
import type { ResolvedTask } from '../../core/plan/graph.js';
import { recordDurations, withHistory } from '../history.js';
import { openRunTelemetry } from '../telemetry-wiring.js';
import { chooseDispatch, openDispatch, type DispatchChoice, type OpenDispatch } from '../dispatch-wiring.js';

export interface RunCommandOptions {
  readonly jobs?: number;
  readonly json?: boolean;
  readonly failFast?: boolean;
  readonly sequential?: boolean;
  readonly set?: Record<string, string>;
  readonly dir?: string;
  readonly progress?: boolean;
  /** `--no-isolation`: run every task in the project folder, no worktrees. */
  readonly isolation?: boolean;
  /** `--no-cache`: run every task even when nothing it depends on changed. */
  readonly cache?: boolean;
  /** `--explain-cache`: say for each cached task why it hit or missed. */
  readonly explainCache?: boolean;
  /** `--dispatch <redis-url>`: run the tasks on `weft worker`s through this Redis. */
  readonly dispatch?: string;
  /** `--queue-prefix`: the queues' key prefix (the workers' `--prefix`). */
  readonly queuePrefix?: string;
  /** `--git-remote`: the git remote tasks in worktrees travel through to workers with their own clone. */
  readonly gitRemote?: string;
  /** `--ui`: serve the dashboard for this run while it runs. */
  readonly ui?: boolean;
  /** With `--ui`: the port. @default 0 (any free one) */
  readonly port?: number;
  /** The run's id (`weft serve` chooses it). @default a new one */
  readonly runId?: string;
  /** Folder the plan's relative paths resolve against. @default the plan file's folder */
  readonly base?: string;
}

export async function runCommand(file: string, opts: RunCommandOptions): Promise<number> {
  // With the cache off there is nothing to explain: the run printed no cache line at all.
  if (opts.explainCache === true && opts.cache === false)
    throw new WeftError(
      'WEFT_USAGE',
      '--explain-cache says why cached tasks hit or missed, but --no-cache turns the cache off',
      {
        hint: 'give one of them',
      },
    );
  const { projectDir, executors, config } = wire(opts.dir);
  const catalog = catalogOf(executors);
  const baseDir = opts.base === undefined ? undefined : resolve(opts.base);
  const vars = opts.set === undefined ? {} : { vars: opts.set };
  const loaded = loadPlanFile(file, { executors: catalog, ...vars }, baseDir);
  const planPath = loaded.file;
  const mode = opts.sequential === true ? 'sequential' : 'parallel';
  const dispatch = chooseDispatch(opts, config, projectDir);
  const store = await openJournal(projectDir, config);
  try {
    const scope = {
      projectDir,
      planFile: planPath,
      baseDir: opts.base === undefined ? dirname(planPath) : resolve(opts.base),
    };
    const options = { executors: catalog, file: planPath, vars: loaded.compiled.vars };
    const { compiled } = await withHistory(store, scope, loaded.compiled, options);
    if (opts.runId !== undefined && (await store.listRuns()).some((r) => r.id === opts.runId))
      throw new WeftError('WEFT_USAGE', `--run-id: run ${opts.runId} exists already`, {
        hint: '`weft resume` continues a run; leave --run-id out for a new one',
      });
    const runId = opts.runId ?? newRunId();
    const bus = new RunBus();
    const ui =
      opts.ui === true
        ? await (
            await import('../serve-wiring.js')
          ).serveRunUi({ projectDir, store, executors, bus, runId, port: opts.port ?? 0 })
        : undefined;
    try {
      return await executeRun({
        bus,
        runId,
        compiled,
        planFile: planPath,
        baseDir: scope.baseDir,
        projectDir,
        workers: mode === 'sequential' ? 1 : (opts.jobs ?? compiled.workers),
        mode,
        failFast: opts.failFast === true,
        isolation: opts.isolation !== false,
        cache: opts.cache !== false,
        executors,
        store,
        display: opts,
        ...(dispatch === undefined ? {} : { dispatch }),
        ...(opts.set === undefined ? {} : { setVars: Object.keys(opts.set) }),
      });
    } finally {
      await ui?.close();
    }
  } finally {
    await store.close();
  }
}

export interface ExecuteRunArgs {
  readonly runId: string;
  readonly compiled: CompiledPlan;
  readonly planFile: string;
  readonly baseDir: string;
  readonly projectDir: string;
  readonly workers: number;
  readonly mode: 'parallel' | 'sequential';
  readonly failFast: boolean;
  readonly isolation: boolean;
  readonly executors: Map<string, Executor>;
  readonly store: Store;
  readonly display: { readonly json?: boolean; readonly progress?: boolean; readonly explainCache?: boolean };
  /** Use the task cache. @default true */
  readonly cache?: boolean;
  /** State of an interrupted run to continue (resume). */
  readonly prior?: RunState;
  /** Tasks with `resume: never` a person has checked and wants run again. */
  readonly retry?: readonly string[];
  /** Extra check of each successful result (e.g. the planner's plan); feedback sends the task back. */
  readonly validateResult?: EngineOptions['validateResult'];
  /** Run the tasks on remote workers through this Redis (see dispatch-wiring.ts). */
  readonly dispatch?: DispatchChoice;
  /** The run's event bus, when someone besides the display listens (`--ui`). @default a new one */
  readonly bus?: RunBus;
  /** The names of the vars `--set` gave (journaled, so a resume knows which masked ones it needs again). */
  readonly setVars?: readonly string[];
}

/**
 * `labels` choose remote workers (`--dispatch`); a run without it runs every task here, labels or
 * not — said on stderr, so `labels: [gpu]` is not taken for a guarantee.
 */
function warnLabelsHere(compiled: CompiledPlan): void {
  const labelled = compiled.graph.tasks.filter((t) => (t.labels ?? []).length > 0).map((t) => t.id);
  if (labelled.length === 0) return;
  const shown =
    labelled.length > 5 ? `${labelled.slice(0, 5).join(', ')}, … (${labelled.length})` : labelled.join(', ');
  process.stderr.write(
    `weft: labels choose remote workers under --dispatch; this run has none: ${labelled.length === 1 ? `task ${shown} runs` : `tasks ${shown} run`} here, whatever their labels\n`,
  );
}

/** Runs (or resumes) a run: lease, journal, workspace, live display, summary. Returns the exit code. */
export async function executeRun(a: ExecuteRunArgs): Promise<number> {
  const { runId, compiled, store } = a;
  // Remote workers check their own set-up: the keys and CLIs are theirs.
  if (a.dispatch === undefined) {
    await refuseUnlessSetUp(a);
    warnLabelsHere(compiled);
  }
  const place = { runId, projectDir: a.projectDir, baseDir: a.baseDir, planFile: a.planFile };
  const found = a.isolation ? await findWorkspace(compiled, place, true, a.prior !== undefined) : undefined;
  const remote: OpenDispatch | undefined =
    a.dispatch === undefined
      ? undefined
      : await openDispatch(a.dispatch, {
          runId,
          compiled,
          executors: a.executors,
          ...(a.prior === undefined ? {} : { prior: a.prior }),
          worktrees: found !== undefined,
          cwd: a.projectDir,
        });
  const lease = await takeLease(store, runId).catch(async (error: unknown) => {
    await remote?.close();
    throw error;
  });
  const runDir = createRunDir(a.projectDir, runId);
  if (a.prior !== undefined) {
    const stopped = await stopOrphans(a.prior, remote?.adopt);
    if (stopped.length > 0)
      process.stderr.write(
        `weft: stopped ${stopped.length} task process(es) left running by the coordinator that died: ${stopped.join(', ')}\n`,
      );
  }
  // The files `workspace.copy` puts in every worktree (a `.env`) hold secrets a task may print.
  const copied = found === undefined ? [] : (found.workspace.copy ?? []).map((p) => join(found.root, p));
  const redact = runRedactor(process.env, compiled.spec, [
    ...remoteSecrets(a.dispatch?.gitRemote?.url ?? ''),
    ...copiedSecrets(copied),
    ...varSecrets(compiled.vars),
  ]);
  // Started before any task: a malformed OTEL_* variable stops the run here, with one line.
  const telemetry = await openRunTelemetry(compiled, redact, a.planFile, a.executors);
  if (a.prior !== undefined) scrubUnfinishedLogs(a.prior, runDir, redact);
  // What the plan holds literally (a key in a `run` line, a password in `env`) stays out of plan.json and the journal.
  const spec = redactValue(compiled.spec, redact);
  const vars = redactValue(compiled.vars, redact);
  const pretty = compiled.graph.tasks.length <= PRETTY_JSON_TASKS;
  if (a.prior === undefined)
    writeJson(
      join(runDir, 'plan.json'),
      {
        file: a.planFile,
        name: compiled.name,
        workers: a.workers,
        mode: a.mode,
        vars,
        plan: spec,
      },
      pretty,
    );
  const progressMode: ProgressMode =
    a.display.json === true
      ? 'json'
      : a.display.progress === false
        ? 'plain'
        : process.stdout.isTTY === true
          ? 'live'
          : 'plain';
  const alreadyDone =
    a.prior === undefined ? [] : [...a.prior.tasks].filter(([, r]) => r.state === 'succeeded').map(([id]) => id);
  const progress = await createProgress(progressMode, compiled.graph.tasks.length, a.workers, alreadyDone, runId);
  // The live lines (or --json) are one subscriber of the run's bus; `--ui`'s server is another.
  const bus = a.bus ?? new RunBus();
  const shown = a.display.json === true ? progress.onEvent : waitingAgain(progress.onEvent, a.prior);
  const showing = a.display.explainCache === true && a.display.json !== true ? explaining(shown) : shown;
  const unsubscribe = bus.on('*', showing);
  // The tracer after the display, so the display sees each event first.
  const untrace = telemetry === undefined ? undefined : bus.on('*', telemetry.onEvent);
  const interrupt = onInterrupt();
  armReaper(); // before the set-up or any task starts: a crash from here on leaves no process behind
  const stop = AbortSignal.any([interrupt.signal, lease.lost]);
  const catalog = catalogOf(a.executors);
  const workspace =
    found === undefined
      ? undefined
      : await openWorkspace(found, place, compiled, a.prior, remote?.adopt, remote?.sharedWorktrees === true, redact);
  const workdirFor = (task: ResolvedTask): string =>
    task.cwd === undefined ? a.baseDir : resolve(a.baseDir, task.cwd);
  let succeeded = false;
  let failure: unknown;
  try {
    try {
      await workspace?.setUp(stop); // a failing set-up fails the run here, before any task starts
    } catch (error) {
      // Stopped while it ran (Ctrl-C, SIGTERM, SIGHUP): the run ends as interrupted, with nothing started.
      if (!stop.aborted) throw error;
    }
    const { status, state } = await runPlan({
      runId,
      plan: compiled,
      executors: remote?.executors(telemetry, workspace) ?? a.executors,
      baseDir: a.baseDir,
      runDir,
      workdirFor,
      workers: a.workers,
      mode: a.mode,
      failFast: a.failFast,
      signal: stop,
      env: process.env,
      redact,
      ...(workspace === undefined ? {} : { workspace }),
      ...(a.prior === undefined ? {} : { prior: a.prior }),
      ...dispatchOrder(compiled, a.workers, a.mode),
      ...(a.retry === undefined ? {} : { retryTasks: new Set(a.retry) }),
      ...(remote === undefined || remote.adopt.size === 0 ? {} : { adopt: remote.adopt }),
      // A task in a worktree (its own or the merged result's) has its outputs checked there, by the workspace.
      validateResult: checkingOutputs(a.validateResult, {
        workdirFor,
        inWorktree: (task) => workspace !== undefined && workspace.placeOf(task) !== 'in place',
      }),
      recompile: (spec) => compilePlan(spec, { executors: catalog, file: a.planFile, vars: compiled.vars }),
      runOptions: {
        failFast: a.failFast,
        planFile: a.planFile,
        // What the file held: `weft resume` says when it was edited since (it resumes the plan as it was).
        ...(a.prior === undefined ? planStamp(a.planFile) : {}),
        baseDir: a.baseDir,
        projectDir: a.projectDir,
        isolation: a.isolation,
        // `--no-cache`: a resume runs every task too, rather than take what it left from the cache.
        ...(a.cache === false ? { cache: false } : {}),
        vars,
        spec,
        // Where `weft logs` reads the copied files' secrets while an attempt's log is still raw (names, no values).
        ...(copied.length === 0 ? {} : { copied }),
        // Which vars came from --set (names only): a resume needs a masked one given again.
        ...(a.setVars === undefined || a.setVars.length === 0 ? {} : { setVars: a.setVars }),
        ...(a.dispatch === undefined ? {} : { dispatch: { prefix: a.dispatch.prefix } }),
      },
      ...(a.cache === false
        ? {}
        : { cache: new FileTaskCache(store, join(weftDir(a.projectDir), 'cache'), compiled.name) }),
      journal: (events) => store.append(runId, events),
      bus,
      pollDecisions: decisionsOf(store, runId),
    });
    succeeded = status === 'succeeded';
    progress.stop();
    const scope = { projectDir: a.projectDir, planFile: a.planFile, baseDir: a.baseDir };
    await recordDurations(store, scope, compiled, state);
    const summary = summarize(state, dependencyMap(compiled.graph.tasks), compiled.spec.contracts);
    writeJson(join(runDir, 'summary.json'), summary, pretty);
    if (a.display.json === true) process.stdout.write(`${JSON.stringify({ type: 'run.summary', summary, runDir })}\n`);
    else {
      process.stdout.write(`${formatSummary(summary, runDir)}\n`);
      if (workspace?.resultBranch !== undefined)
        process.stdout.write(
          `${resultLine(workspace.resultBranch, workspace.repoRoot, a.projectDir, await checkedOutBranch(workspace.repoRoot))}\n`,
        );
    }
    return exitCodeForStatus(status);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    unsubscribe();
    untrace?.();
    progress.stop();
    interrupt.dispose();
    // A clean-up step that fails (the disk that filled up fails the lease's release too) must not
    // hide the error that ended the run: that one names the write that failed.
    const cleanUp = async (step: () => Promise<void> | undefined): Promise<void> => {
      try {
        await step();
      } catch (error) {
        if (failure === undefined) throw error;
      }
    };
    await cleanUp(() => workspace?.close?.({ succeeded }));
    await cleanUp(() => remote?.close({ succeeded }));
    await cleanUp(() => endRun(a.executors, { runId, succeeded }));
    await cleanUp(() => lease.release());
    // Last, so the spans hold the whole run; it never throws, also on Ctrl-C or an error.
    await telemetry?.close(failure);
  }
}

/**
 * Refuses to start when an executor the run needs is not set up here (an API key not set, an agent
 * CLI not installed): better now than when its task comes up, hours and dollars in. Tasks a
 * condition rules out already, and tasks an earlier life of the run finished, do not count.
 */
async function refuseUnlessSetUp(a: ExecuteRunArgs): Promise<void> {
  const gate = staticGate(a.compiled, process.env);
  const tasks = a.compiled.graph.tasks.filter(
    (t, i) => gate(i) === undefined && a.prior?.tasks.get(t.id)?.state !== 'succeeded',
  );
  const problems = await checkSetup(a.executors, tasks);
  if (problems.length === 0) return;
  throw new WeftError(
    'WEFT_USAGE',
    `cannot start: ${problems.length === 1 ? 'an executor this run needs is' : `${problems.length} executors this run needs are`} not set up here\n  ${problems.join('\n  ')}`,
    { hint: 'nothing has run; fix that and run again' },
  );
}

/**
 * The summary's pointer to the run's result: the branch, and its repository when that is not the
 * project's. `checkedOut`: the branch checked out there; `undefined` on a detached HEAD, which
 * `weft apply` refuses, so the line says what to do first.
 */
function resultLine(branch: string, repoRoot: string, projectDir: string, checkedOut: string | undefined): string {
  const rel = relative(repoRoot, realpathSync(projectDir));
  const ours = !rel.startsWith('..') && !isAbsolute(rel);
  const where = ours ? '' : ` in ${repoRoot}`;
  if (checkedOut === undefined)
    return `  result       branch ${branch}${where} · HEAD${where} is detached: switch to a branch (\`git switch <branch>\`), then \`weft apply\` brings it in`;
  if (ours) return `  result       branch ${branch} · \`weft apply\` brings it into your branch`;
  return `  result       branch ${branch}${where} · \`weft apply\` brings it into the branch checked out there`;
}

/**
 * Masks the secrets in the logs of attempts an earlier life of the run never saw end, and in the
 * files beside them (its output file, the feedback of a fix): a shell task masks them when its
 * process ends, which a coordinator killed by SIGKILL never saw.
 */
function scrubUnfinishedLogs(prior: RunState, runDir: string, redact: Redactor): void {
  if (redact.secrets.length === 0) return;
  for (const r of prior.tasks.values()) {
    for (const at of r.attempts) {
      if (at.endedAt !== undefined && at.outcome !== 'interrupted') continue;
      const logs = attemptLogPaths(runDir, r.id, at.attempt);
      const beside = (name: string): string => logs.stdout.replace(/stdout\.log$/, name);
      for (const path of [logs.stdout, logs.stderr, beside('output.json'), beside('feedback.txt')])
        scrubFile(path, redact.secrets);
    }
  }
}

/**
 * A resume's lines: a task that waited for approval when the run stopped waits again from the same
 * moment, so no new `approval.waiting` is journaled — its line saying what to type is shown again
 * once it is ready (the lines only; the journal and `--json` stream keep the one wait).
 */
function waitingAgain(next: (e: EngineNotice) => void, prior: RunState | undefined): (e: EngineNotice) => void {
  const waiting = new Set(
    prior === undefined ? [] : [...prior.tasks].filter(([, r]) => r.approval?.state === 'waiting').map(([id]) => id),
  );
  if (waiting.size === 0) return next;
  return (e) => {
    next(e);
    if (e.type === 'task.ready' && waiting.delete(e.task)) next({ type: 'approval.waiting', at: e.at, task: e.task });
  };
}

/** `--explain-cache`: a line per cached task saying why it hit or missed. */
function explaining(next: (e: EngineNotice) => void): (e: EngineNotice) => void {
  return (e) => {
    if (e.type === 'task.progress' && e.progress.message?.startsWith('cache ') === true)
      stdoutLines.add(`cache ${e.task}: ${e.progress.message.slice(6)}\n`);
    next(e);
  };
}

/** Reads the decisions `weft approve` / `weft reject` appended to the run's journal since the last call. */
function decisionsOf(store: Store, runId: string): () => Promise<ApprovalDecision[]> {
  let afterSeq = 0;
  return async () => {
    const entries = await store.read(runId, afterSeq);
    afterSeq = entries.at(-1)?.seq ?? afterSeq;
    return entries.flatMap((e) => (e.event.type === 'approval.decided' ? [e.event] : []));
  };
}

/**
 * The plan file as it is now, as `planStamp` (its size and modification time): a `stat`, where a
 * hash would read a large plan a second time at every run's start. Nothing for a label such as
 * `<planner>` or a file that cannot be read.
 */
export function planStamp(path: string): { planStamp?: string } {
  if (path.startsWith('<')) return {};
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat === undefined ? {} : { planStamp: `${stat.size}:${stat.mtimeMs}` };
}

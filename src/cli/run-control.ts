import { existsSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH } from './cli-path.js';
import { StringDecoder } from 'node:string_decoder';
import { WeftError } from '../core/errors.js';
import type { Executor } from '../core/ports/executor.js';
import type { LogSlice, RunControl, RunListItem } from '../core/ports/run-control.js';
import type { Store } from '../core/ports/store.js';
import type { EngineNotice } from '../core/run/engine-options.js';
import type { RunBus } from '../core/run/run-bus.js';
import { mayRunAgain, stateAt, type RunState } from '../core/run/run-state.js';
import { TERMINAL_STATES } from '../core/schedule/scheduler.js';
import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';
import { ControlStripper } from '../core/control-stripper.js';
import { buildJsonReport, buildReportInput, layoutGraph, readRange } from '../report/index.js';
import { logOffsets } from '../executors/process/scrub-file.js';
import { decide, decider } from './commands/approve.js';
import { openJournal, resolveRunId, unknownTask } from './journal.js';
import { JournalCache } from './journal-cache.js';
import { tailOutput } from './output-tail.js';
import {
  explainMissing,
  insideRoot,
  launchFiles,
  runLauncher,
  type ControlContext,
  type PlanGoal,
} from './run-launch.js';
import { runDirOf } from './run-files.js';
import { driven as isDriven, loopRepeatOf, readPlanJson, runReport, runStatus, taskLog } from './run-views.js';
import { runViewRedactor } from './secrets.js';
import { wire } from './wiring.js';

/** What {@link createRunControl} works with. */
export interface RunControlDeps {
  /** The project folder holding `.weft/`. */
  readonly projectDir: string;
  /** The project's journal, open. */
  readonly store: Store;
  /** The executors, as `wire` built them (to validate plans and check their set-up). */
  readonly executors: ReadonlyMap<string, Executor>;
  /** The weft CLI runs and resumes are started with. @default this installation's `weft` ({@link CLI_PATH}) */
  readonly cliPath?: string;
  /** How long `start` and `resume` wait for the run to reach the journal, ms. @default 30000 */
  readonly startTimeoutMs?: number;
  /** The AI planner for `plan` (`weft plan`'s `planGoal`). @default none: `plan` refuses */
  readonly planGoal?: PlanGoal;
}

/** A {@link RunControl} that also takes the bus of a run this process drives (`weft run --ui`). */
export interface LocalRunControl extends RunControl {
  /** Forwards the bus's notices to `watch`ers of `runId`. @returns a function that stops it. */
  attach(runId: string, bus: RunBus): () => void;
}

const LOG_CHUNK = 256 * 1024;

/**
 * The one run control `weft serve` and `weft mcp` drive weft through, over the project's journal
 * (read incrementally, {@link JournalCache}); runs are started, resumed and cancelled by
 * {@link runLauncher}. `within(folder)` opens the journal of a project folder inside this one.
 */
export function createRunControl(deps: RunControlDeps): LocalRunControl {
  const { store } = deps;
  const projectDir = realpathSync(deps.projectDir);
  const watchers = new Map<string, Set<(n: EngineNotice) => void>>();
  // Every read of a run (each poll of each viewer's log follow, each refresh) asks only for what is new.
  const journal = new JournalCache(store);
  /** Controls of project folders inside this one, by real path, and their journals to close. */
  const inner = new Map<string, Promise<{ control: LocalRunControl; store: Store }>>();

  /** The run's journal so far; `WEFT_RUN_NOT_FOUND` for a run the journal does not hold. */
  const readRun = async (runId: string) => {
    const hint = 'GET /api/runs lists them';
    if (!/^[\w.-]{1,80}$/.test(runId) || runId.includes('..'))
      throw new WeftError('WEFT_RUN_NOT_FOUND', `no run "${runId}" in the journal`, { hint });
    return journal.read(runId, hint);
  };
  const known = async (runId: string): Promise<void> => void (await readRun(runId));
  const driven = (runId: string): Promise<boolean> => isDriven(store, runId);
  const planJsonOf = (runId: string): unknown => readPlanJson(runDirOf(projectDir, runId));
  const reportInput = async (runId: string) => {
    const { events, state, lastSeq } = await readRun(runId);
    const live = state.status === 'running' && (await driven(runId));
    const now = live ? stateAt(state, Date.now()) : state;
    return { input: buildReportInput(events, planJsonOf(runId), {}, { state: now }), live, lastSeq };
  };
  const resolve = async (given: string): Promise<string> => {
    try {
      return await resolveRunId(store, given);
    } catch (error) {
      // resolveRunId's hint names `weft runs`, which an API or MCP caller does not type (as readRun's).
      const named =
        error instanceof WeftError && error.code === 'WEFT_RUN_NOT_FOUND'
          ? new WeftError(error.code, error.message, { cause: error, hint: 'GET /api/runs lists them' })
          : error;
      return explainMissing(projectDir, given, named);
    }
  };
  /** Per watched run: what its `--json` output (a run this control's project launched) says, as it says it. */
  const tails = new Map<string, ReturnType<typeof tailOutput>>();
  const watch: RunControl['watch'] = (runId, listener) => {
    let set = watchers.get(runId);
    if (set === undefined) {
      const own = (set = new Set());
      watchers.set(runId, own);
      if (/^[\w.-]{1,80}$/.test(runId))
        tails.set(
          runId,
          tailOutput(launchFiles(projectDir, runId).out, (n) => own.forEach((fn) => fn(n))),
        );
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size > 0 || watchers.get(runId) !== set) return;
      watchers.delete(runId);
      tails.get(runId)?.stop();
      tails.delete(runId);
    };
  };
  const events: RunControl['events'] = async (runId, afterSeq) => {
    // Called every poll of every event stream: the store's own read says whether the run exists.
    if (!/^[\w.-]{1,80}$/.test(runId)) await known(runId);
    // What the run printed before these events reaches its watchers first (a progress notice
    // before the run.finished after it).
    tails.get(runId)?.poll();
    return store.read(runId, afterSeq);
  };
  const ctx: ControlContext = {
    projectDir,
    store,
    executors: deps.executors,
    cli: deps.cliPath ?? CLI_PATH,
    timeoutMs: deps.startTimeoutMs ?? 30_000,
    planGoal: deps.planGoal,
    readRun,
    driven,
    resolve,
    events,
    watch,
  };
  const control: LocalRunControl = {
    ...runLauncher(ctx),
    resolve,
    events,
    watch,

    async listRuns(): Promise<RunListItem[]> {
      const rows = await store.listRuns();
      return Promise.all(rows.map(async (r) => ({ ...r, driven: r.status === 'running' && (await driven(r.id)) })));
    },

    async detail(runId) {
      const { input, live, lastSeq } = await reportInput(runId);
      const report = buildJsonReport(input);
      const layout = layoutGraph(report.plan.tasks);
      const plan = planJsonOf(runId) as PlanJson | undefined;
      const budget = plan?.plan?.budget ?? null;
      return {
        ...report,
        layout,
        budget,
        checks: checksOf(plan, report.tasks),
        driven: live,
        lastSeq,
        now: Date.now(),
      };
    },

    async status(runId) {
      const { summary, driven: live } = await runStatus(store, projectDir, runId, () => readRun(runId));
      return live === undefined ? { summary } : { summary, driven: live };
    },

    async report(runId, format) {
      return runReport(store, projectDir, runId, format, () => readRun(runId));
    },

    async log(runId, task, options): Promise<LogSlice> {
      const { state, events } = await readRun(runId);
      if (!TASK_ID_PATTERN.test(task)) throw new WeftError('WEFT_USAGE', `"${task}" is not a task id`);
      const record = state.tasks.get(task);
      if (record === undefined) throw taskNotFound(runId, task, state);
      refuseNeverMade(runId, task, state, options.attempt);
      const latest = record.attempts.at(-1)?.attempt ?? 1;
      const attempt = options.attempt ?? latest;
      const stream = options.stream ?? 'stdout';
      const file = join(runDirOf(projectDir, runId), 'tasks', task, `${attempt}.${stream}.log`);
      const size = existsSync(file) ? statSync(file).size : 0;
      // Offsets count the log as written: a follower's offset holds across the scrub at the attempt's end.
      const offsets = logOffsets(file, size);
      const at = Math.min(offsets.toFile(Math.max(0, options.offset ?? 0)), size);
      const bytes0 = at < size ? readRange(file, at, Math.min(size, at + LOG_CHUNK)) : Buffer.alloc(0);
      const bytes = wholeCharacters(bytes0);
      const offset = offsets.toRaw(at + bytes.length);
      const strip = new ControlStripper();
      const text = runViewRedactor(
        process.env,
        events[0],
      )(strip.push(new StringDecoder('utf8').write(bytes)) + strip.end());
      // A run nobody drives (finished, or its coordinator died) writes no more; a task the loop may
      // repeat has more to write, in its next iteration's attempt.
      const ended =
        state.status !== 'running' ||
        !(await driven(runId)) ||
        attempt < latest ||
        (TERMINAL_STATES.has(record.state) &&
          record.attempts.at(-1)?.endedAt !== undefined &&
          !mayRunAgain(state, task, loopRepeatOf(planJsonOf(runId))));
      return { task, attempt, stream, text, offset, ended: ended && at + bytes.length >= size };
    },

    async logTail(runId, task, options) {
      const view = await readRun(runId);
      refuseNeverMade(runId, task, view.state, options.attempt);
      const ref = { runId, task, stream: options.stream ?? 'stdout', ...options } as const;
      return taskLog(store, projectDir, ref, options.maxBytes ?? 65_536, () => Promise.resolve(view));
    },

    async decide(runId, task, decision, options = {}) {
      const { state } = await readRun(runId);
      // An unknown task is not found (404), as for its log, not a mistake in the request (`weft approve`'s 2).
      if (!state.tasks.has(task)) throw taskNotFound(runId, task, state);
      const by = `${decider()} (${options.via ?? 'weft'})`;
      const done = await decide(store, runId, task, decision, { reason: options.reason, by });
      return { runId: done.runId, task, decision, running: done.running };
    },

    async within(folder) {
      if (folder === undefined) return control;
      const dir = insideRoot(projectDir, folder, 'working_directory');
      if (!statSync(dir).isDirectory())
        throw new WeftError('WEFT_USAGE', `working_directory: ${folder} is not a folder`, {
          hint: 'give the project folder',
        });
      if (dir === projectDir) return control;
      let opened = inner.get(dir);
      if (opened === undefined) {
        opened = (async () => {
          const { config, executors } = wire(dir);
          const own = await openJournal(dir, config);
          const sub = createRunControl({ ...deps, projectDir: dir, store: own, executors });
          return { control: sub, store: own };
        })();
        inner.set(dir, opened);
        opened.catch(() => inner.delete(dir));
      }
      return (await opened).control;
    },

    attach(runId, bus) {
      return bus.on('*', (e) => watchers.get(runId)?.forEach((fn) => fn(e)));
    },

    async close() {
      watchers.clear();
      for (const tail of tails.values()) tail.stop();
      tails.clear();
      const opened = [...inner.values()];
      inner.clear();
      for (const o of await Promise.allSettled(opened))
        if (o.status === 'fulfilled') {
          await o.value.control.close();
          await o.value.store.close();
        }
    },
  };
  return control;
}

/**
 * An attempt a run that no longer runs never made is a mistake (as `weft logs --attempt` says), not an
 * empty log; the field is named as the API and MCP name it.
 */
function refuseNeverMade(runId: string, task: string, state: RunState, attempt: number | undefined): void {
  const made = state.tasks.get(task)?.attempts.at(-1)?.attempt;
  if (made === undefined || attempt === undefined || attempt <= made || state.status === 'running') return;
  throw new WeftError('WEFT_USAGE', `task "${task}" of run ${runId} made ${made} attempt(s), not ${attempt}`, {
    hint: 'leave out attempt for the latest',
  });
}

/** The bytes up to the last whole UTF-8 character: a read may end inside one, and the next read starts with it. */
function wholeCharacters(bytes: Buffer): Buffer {
  let i = bytes.length - 1;
  while (i >= 0 && bytes.length - i <= 3 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i--;
  if (i < 0) return bytes;
  const lead = bytes[i] ?? 0;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - i < need ? bytes.subarray(0, i) : bytes;
}

/** What `plan.json` holds that the dashboard reads beyond the report: the budget, and which tasks check which. */
interface PlanJson {
  readonly plan?: {
    readonly budget?: unknown;
    readonly tasks?: readonly { readonly id?: unknown; readonly verifies?: unknown }[];
  };
}

/**
 * The plan's checks (tasks with `verifies:`) and their verdicts so far: the check task's state,
 * attempts and reason, and `flaky` (how its failed run ended) for one whose failure did not repeat.
 */
function checksOf(
  plan: PlanJson | undefined,
  tasks: readonly {
    id: string;
    state: string;
    attempts: readonly unknown[];
    reason: string | null;
    flaky: string | null;
  }[],
): { id: string; verifies: string[]; state: string; attempts: number; reason: string | null; flaky: string | null }[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return (plan?.plan?.tasks ?? []).flatMap((t) => {
    const verifies = Array.isArray(t.verifies) ? t.verifies.filter((c): c is string => typeof c === 'string') : [];
    const row = typeof t.id === 'string' ? byId.get(t.id) : undefined;
    if (verifies.length === 0 || row === undefined) return [];
    return [
      { id: row.id, verifies, state: row.state, attempts: row.attempts.length, reason: row.reason, flaky: row.flaky },
    ];
  });
}

/** An unknown task of a run, for the API: not found (404), as an unknown run is, with did-you-mean. */
function taskNotFound(runId: string, task: string, state: RunState): WeftError {
  return unknownTask(
    `run ${runId} has no task "${task}"`,
    task,
    state.tasks.keys(),
    `GET /api/runs/${runId}/tasks lists them`,
    'WEFT_RUN_NOT_FOUND',
  );
}

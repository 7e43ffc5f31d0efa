import { decide, decider } from './commands/approve.js';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringDecoder } from 'node:string_decoder';
import { WeftError } from '../core/errors.js';
import { compilePlan, type CompiledPlan } from '../core/plan/compile.js';
import type { Executor } from '../core/ports/executor.js';
import type { LogSlice, RunControl, RunListItem, StartRunInput } from '../core/ports/run-control.js';
import type { Store } from '../core/ports/store.js';
import type { EngineNotice } from '../core/run/engine-options.js';
import type { RunBus } from '../core/run/run-bus.js';
import { stateAt } from '../core/run/run-state.js';
import { TERMINAL_STATES } from '../core/schedule/scheduler.js';
import { dispatchOrder } from '../core/schedule/dispatch-order.js';
import { estimate } from '../core/schedule/simulate.js';
import { staticGate } from '../core/run/policies/when.js';
import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';
import { ControlStripper } from '../core/control-stripper.js';
import { catalogOf } from '../executors/index.js';
import { loadPlanFile } from '../plan/load-plan.js';
import {
  buildJsonReport,
  buildReportInput,
  layoutGraph,
  readLogTails,
  readRange,
  renderHtml,
  renderJson,
  renderMarkdown,
} from '../report/index.js';
import { coordinatorOf } from './journal.js';
import { JournalCache } from './journal-cache.js';
import { newRunId, runDirOf, weftDir, writeJson } from './run-files.js';
import { secretRedactor } from './secrets.js';

/** What {@link createRunControl} works with. */
export interface RunControlDeps {
  /** The project folder holding `.weft/`. */
  readonly projectDir: string;
  /** The project's journal, open. */
  readonly store: Store;
  /** The executors, as `wire` built them (to validate plans). */
  readonly executors: ReadonlyMap<string, Executor>;
  /** The weft CLI runs and resumes are started with. @default this installation's `dist/cli/main.js` */
  readonly cliPath?: string;
  /** How long `start` and `resume` wait for the run to reach the journal, ms. @default 30000 */
  readonly startTimeoutMs?: number;
}

/** A {@link RunControl} that also takes the bus of a run this process drives (`weft run --ui`). */
export interface LocalRunControl extends RunControl {
  /** Forwards the bus's notices to `watch`ers of `runId`. @returns a function that stops it. */
  attach(runId: string, bus: RunBus): () => void;
}

const LOG_CHUNK = 256 * 1024;

/**
 * Run control over the journal. Runs are started and resumed as detached `weft run` / `weft
 * resume` processes: they outlive the server, journal every step, and a run whose process died is
 * resumed from its journal like any other. Cancel sends the coordinator SIGINT, as Ctrl-C does.
 */
export function createRunControl(deps: RunControlDeps): LocalRunControl {
  const { projectDir, store } = deps;
  const cli = deps.cliPath ?? fileURLToPath(new URL('./main.js', import.meta.url));
  const timeoutMs = deps.startTimeoutMs ?? 30_000;
  const catalog = catalogOf(new Map(deps.executors));
  const watchers = new Map<string, Set<(n: EngineNotice) => void>>();
  // Every read of a run (each poll of each viewer's log follow, each refresh) asks only for what is new.
  const journal = new JournalCache(store);

  /** The run's journal so far; `WEFT_RUN_NOT_FOUND` for a run the journal does not hold. */
  const readRun = async (runId: string) => {
    const hint = 'GET /api/runs lists them';
    if (!/^[\w.-]{1,80}$/.test(runId) || runId.includes('..'))
      throw new WeftError('WEFT_RUN_NOT_FOUND', `no run "${runId}" in the journal`, { hint });
    return journal.read(runId, hint);
  };
  const known = async (runId: string): Promise<void> => void (await readRun(runId));
  const exists = async (runId: string): Promise<boolean> => (await store.listRuns()).some((r) => r.id === runId);
  const driven = async (runId: string): Promise<boolean> => {
    const who = await coordinatorOf(store, runId);
    return who !== undefined && who !== 'dead';
  };
  const planJsonOf = (runId: string): unknown => {
    const file = join(runDirOf(projectDir, runId), 'plan.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : undefined;
  };
  const reportInput = async (runId: string, withLogs: boolean) => {
    const { events, state, lastSeq } = await readRun(runId);
    const live = state.status === 'running' && (await driven(runId));
    const now = live ? stateAt(state, Date.now()) : state;
    const runDir = runDirOf(projectDir, runId);
    const tails =
      withLogs && existsSync(runDir) ? readLogTails(runDir, state, { redact: secretRedactor(process.env) }) : {};
    return { input: buildReportInput(events, planJsonOf(runId), tails, { state: now }), live, lastSeq };
  };

  const compile = (input: StartRunInput): { compiled: CompiledPlan; file?: string } => {
    const vars = input.vars === undefined ? {} : { vars: input.vars };
    if ((input.plan === undefined) === (input.planFile === undefined))
      throw new WeftError('WEFT_USAGE', 'give one of `plan` (the plan itself), `planFile` (a path) or `goal`', {
        hint: 'e.g. {"plan": {"tasks": [{"id": "hello", "run": "echo hi"}]}}',
      });
    if (input.planFile !== undefined) {
      const file = resolve(projectDir, input.planFile);
      return { compiled: loadPlanFile(file, { executors: catalog, ...vars }).compiled, file };
    }
    return { compiled: compilePlan(input.plan, { executors: catalog, file: '<request body: plan>', ...vars }) };
  };

  /** Starts a detached weft process; resolves once `ready` says so, or rejects with its last stderr line. */
  const launch = async (runId: string, args: string[], ready: () => Promise<boolean>): Promise<void> => {
    const dir = join(weftDir(projectDir), 'serve');
    mkdirSync(dir, { recursive: true });
    const out = openSync(join(dir, `${runId}.out.jsonl`), 'a');
    const errFile = join(dir, `${runId}.err.log`);
    const err = openSync(errFile, 'a');
    const from = statSync(errFile).size;
    // The server's token is not the tasks' business.
    const { WEFT_TOKEN: _token, ...env } = process.env;
    const child = spawn(process.execPath, [cli, ...args, '-C', projectDir], {
      cwd: projectDir,
      detached: true,
      stdio: ['ignore', out, err],
      env,
    });
    closeSync(out);
    closeSync(err);
    let exited: number | null | undefined;
    child.on('exit', (code) => (exited = code));
    child.on('error', () => (exited = -1));
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await ready()) return;
      if (exited !== undefined) {
        if (await ready()) return;
        const said = readFileSync(errFile, 'utf8').slice(from).trim().split('\n');
        const line = said.find((l) => l.startsWith('weft:')) ?? said.at(-1) ?? `exit code ${exited}`;
        throw new WeftError('WEFT_USAGE', `the run did not start: ${line.replace(/^weft:\s*/, '')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new WeftError('WEFT_INTERNAL', `run ${runId} did not reach the journal within ${timeoutMs} ms`, {
      hint: `see ${errFile}`,
    });
  };

  /** A goal: `weft plan --yes` plans it (a run of its own), then runs the plan under the id answered now. */
  const planAndStart = async (input: StartRunInput): Promise<{ runId: string; plannerRunId: string }> => {
    if (input.plan !== undefined || input.planFile !== undefined)
      throw new WeftError('WEFT_USAGE', 'give one of `plan` (the plan itself), `planFile` (a path) or `goal`');
    if (input.goal === undefined || input.goal.trim() === '')
      throw new WeftError('WEFT_USAGE', '`goal` is empty', { hint: 'say what you want built, in words' });
    const runId = newRunId();
    const plannerRunId = `${runId}-planner`;
    const dir = join(weftDir(projectDir), 'plans');
    mkdirSync(dir, { recursive: true });
    const args = ['plan', input.goal, '--yes', '--json', '--run-id', runId, '--base', projectDir];
    args.push('-o', join(dir, `${runId}.yaml`));
    if (input.planner !== undefined) args.push('--planner', input.planner);
    if (input.executor !== undefined) args.push('--executor', input.executor);
    if (input.workers !== undefined) args.push('-j', String(input.workers));
    const ignored = (['vars', 'sequential', 'failFast', 'isolation', 'cache'] as const).filter(
      (k) => input[k] !== undefined,
    );
    if (ignored.length > 0)
      throw new WeftError('WEFT_USAGE', `\`${ignored[0]}\` does not go with \`goal\` (the planner chooses)`);
    await launch(runId, args, () => exists(plannerRunId));
    return { runId, plannerRunId };
  };

  return {
    async listRuns(): Promise<RunListItem[]> {
      const rows = await store.listRuns();
      return Promise.all(rows.map(async (r) => ({ ...r, driven: r.status === 'running' && (await driven(r.id)) })));
    },

    async detail(runId) {
      const { input, live, lastSeq } = await reportInput(runId, false);
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

    async summary(runId) {
      return (await reportInput(runId, false)).input.summary;
    },

    async report(runId, format) {
      const { input } = await reportInput(runId, true);
      return format === 'json' ? renderJson(input) : format === 'md' ? renderMarkdown(input) : renderHtml(input);
    },

    async events(runId, afterSeq) {
      // Called every poll of every event stream: the store's own read says whether the run exists.
      if (!/^[\w.-]{1,80}$/.test(runId)) await known(runId);
      return store.read(runId, afterSeq);
    },

    async log(runId, task, options): Promise<LogSlice> {
      const { state } = await readRun(runId);
      if (!TASK_ID_PATTERN.test(task)) throw new WeftError('WEFT_USAGE', `"${task}" is not a task id`);
      const record = state.tasks.get(task);
      if (record === undefined)
        throw new WeftError('WEFT_RUN_NOT_FOUND', `run ${runId} has no task "${task}"`, {
          hint: `GET /api/runs/${runId}/tasks lists them`,
        });
      const latest = record.attempts.at(-1)?.attempt ?? 1;
      const attempt = options.attempt ?? latest;
      const stream = options.stream ?? 'stdout';
      const file = join(runDirOf(projectDir, runId), 'tasks', task, `${attempt}.${stream}.log`);
      const size = existsSync(file) ? statSync(file).size : 0;
      let offset = Math.min(Math.max(0, options.offset ?? 0), size);
      const bytes0 = offset < size ? readRange(file, offset, Math.min(size, offset + LOG_CHUNK)) : Buffer.alloc(0);
      const bytes = wholeCharacters(bytes0);
      offset += bytes.length;
      const strip = new ControlStripper();
      const text = secretRedactor(process.env)(strip.push(new StringDecoder('utf8').write(bytes)) + strip.end());
      // A run nobody drives (finished, or its coordinator died) writes no more.
      const ended =
        state.status !== 'running' ||
        !(await driven(runId)) ||
        attempt < latest ||
        (TERMINAL_STATES.has(record.state) && record.attempts.at(-1)?.endedAt !== undefined);
      return { task, attempt, stream, text, offset, ended: ended && offset >= size };
    },

    async start(input) {
      if (input.goal !== undefined) return planAndStart(input);
      if (input.planner !== undefined || input.executor !== undefined)
        throw new WeftError('WEFT_USAGE', '`planner` and `executor` go with `goal`');
      const { compiled, file } = compile(input);
      const runId = newRunId();
      let planFile = file;
      if (planFile === undefined) {
        const dir = join(weftDir(projectDir), 'plans');
        mkdirSync(dir, { recursive: true });
        planFile = join(dir, `${runId}.json`);
        writeJson(planFile, compiled.spec);
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
      return { runId };
    },

    async estimate(input) {
      const { compiled } = compile(input);
      const workers = input.sequential === true ? 1 : (input.workers ?? compiled.workers);
      const mode = input.sequential === true ? 'sequential' : 'parallel';
      const gate = staticGate(compiled, process.env);
      const { simulation: _s, ...figures } = estimate(compiled.graph, {
        workers,
        gate,
        ...dispatchOrder(compiled, workers, mode),
      });
      return { plan: compiled.name, tasks: compiled.graph.tasks.length, ...figures };
    },

    async cancel(runId) {
      const { state } = await readRun(runId);
      const held = await store.leaseOf(runId);
      const [host, pid] = held?.owner.split(':') ?? [];
      if (state.status !== 'running' || held === undefined || !(await driven(runId)))
        throw new WeftError(
          'WEFT_USAGE',
          `run ${runId} is not running (${state.status === 'running' ? 'interrupted' : state.status})`,
          {
            hint: 'nothing to cancel; resume continues an unfinished run',
          },
        );
      if (host !== hostname() || pid === undefined)
        throw new WeftError('WEFT_USAGE', `run ${runId} is driven from another machine (${held.owner})`, {
          hint: 'cancel it there',
        });
      process.kill(Number(pid), 'SIGINT'); // as Ctrl-C: running tasks are cancelled and the stop journaled
      return { runId, cancelled: true };
    },

    async decide(runId, task, decision, reason) {
      await known(runId);
      const by = `${decider()} (weft serve)`;
      const done = await decide(store, runId, task, decision, { reason, by });
      return { runId: done.runId, task, decision, running: done.running };
    },

    async resume(runId, options = {}) {
      const { state } = await readRun(runId);
      if (state.status === 'succeeded')
        throw new WeftError('WEFT_USAGE', `run ${runId} already succeeded; nothing to resume`);
      if (await driven(runId))
        throw new WeftError('WEFT_RUN_LOCKED', `run ${runId} is already being driven`, {
          hint: 'cancel it first, or wait for it to end',
        });
      const before = (await store.read(runId)).length;
      const args = ['resume', runId, '--json', ...(options.retry ?? []).flatMap((t) => ['--retry', t])];
      const resumed = async (): Promise<boolean> =>
        (await store.read(runId, before)).some((e) => e.event.type === 'run.resumed');
      await launch(runId, args, resumed);
      return { runId };
    },

    watch(runId, listener) {
      const set = watchers.get(runId) ?? new Set();
      watchers.set(runId, set);
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) watchers.delete(runId);
      };
    },

    attach(runId, bus) {
      return bus.on('*', (e) => watchers.get(runId)?.forEach((fn) => fn(e)));
    },

    async close() {
      watchers.clear();
    },
  };
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

/** The plan's checks (tasks with `verifies:`) and their verdicts so far: the check task's state, attempts and reason. */
function checksOf(
  plan: PlanJson | undefined,
  tasks: readonly { id: string; state: string; attempts: readonly unknown[]; reason: string | null }[],
): { id: string; verifies: string[]; state: string; attempts: number; reason: string | null }[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  return (plan?.plan?.tasks ?? []).flatMap((t) => {
    const verifies = Array.isArray(t.verifies) ? t.verifies.filter((c): c is string => typeof c === 'string') : [];
    const row = typeof t.id === 'string' ? byId.get(t.id) : undefined;
    if (verifies.length === 0 || row === undefined) return [];
    return [{ id: row.id, verifies, state: row.state, attempts: row.attempts.length, reason: row.reason }];
  });
}

import { decide, decider } from './commands/approve.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { checkSetup } from '../core/ports/executor.js';
import { isWeftError, WeftError } from '../core/errors.js';
import { compilePlan, type CompiledPlan } from '../core/plan/compile.js';
import { staticGate } from '../core/run/policies/when.js';
import { catalogOf } from '../executors/index.js';
import { loadPlanFile } from '../plan/load-plan.js';
import { readRange } from '../report/index.js';
import type { RunControl, RunEventView, PlanRef, RunRef } from '../mcp/run-control.js';
import { estimateJson } from './commands/estimate.js';
import { planGoal } from './commands/plan.js';
import { withHistory } from './history.js';
import { coordinatorOf, openJournal, readRun, resolveRunId } from './journal.js';
import { newRunId, weftDir, writeJson } from './run-files.js';
import { runReport, runStatus, taskLog } from './run-views.js';
import { wire } from './wiring.js';
import type { Store } from '../core/ports/store.js';

/** How the control starts runs and where it serves. */
export interface McpControlOptions {
  /** The folder the server serves: every project and plan file must be inside it. */
  readonly root: string;
  /** The CLI entry (dist/cli/main.js) a run is started with, as a detached `weft run`. */
  readonly cli: string;
}

/** Where a run started by `weft mcp` keeps its `weft run --json` output and stderr. */
const launchFiles = (projectDir: string, runId: string) => {
  const dir = join(weftDir(projectDir), 'mcp', 'runs');
  return { dir, events: join(dir, `${runId}.jsonl`), stderr: join(dir, `${runId}.stderr.log`) };
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
      hint: 'give a path inside it, or start `weft mcp -C <folder>` on a folder that holds it',
    });
  return real;
}

/**
 * The {@link RunControl} of `weft mcp`: plans with the AI planner in this process, starts runs as
 * detached `weft run` processes (so a run survives the server, and its output never reaches the
 * protocol's stdout), and reads everything else from the journal.
 */
export function mcpControl(options: McpControlOptions): RunControl {
  const root = realpathSync(options.root);
  const children = new Map<string, ChildProcess>();

  const projectOf = (given: string | undefined): string => {
    const dir = insideRoot(root, given ?? '.', 'working_directory');
    if (!statSync(dir).isDirectory())
      throw new WeftError('WEFT_USAGE', `working_directory: ${given} is not a folder`, {
        hint: 'give the project folder',
      });
    return dir;
  };
  const withStore = async <T>(projectDir: string, fn: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openJournal(projectDir, wire(projectDir).config);
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };
  /**
   * The plan of a call, checked; an inline one is saved (with `save`) so the run (and `weft resume`)
   * can read it.
   */
  const loadRef = (ref: PlanRef, projectDir: string, save: boolean, vars?: Readonly<Record<string, string>>) => {
    const catalog = catalogOf(wire(projectDir).executors);
    const opts = { executors: catalog, ...(vars === undefined ? {} : { vars: { ...vars } }) };
    if (ref.planFile !== undefined) {
      const file = insideRoot(projectDir, ref.planFile, 'planFile', projectDir);
      return loadPlanFile(file, opts, projectDir);
    }
    const compiled = compilePlan(ref.plan, { ...opts, file: 'plan' }); // its problems named as the tool's field
    if (!save) return { file: join(projectDir, 'plan'), compiled };
    const dir = join(weftDir(projectDir), 'mcp', 'plans');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${newRunId()}.json`);
    writeJson(file, ref.plan);
    return loadPlanFile(file, opts, projectDir);
  };
  const resolved = (ref: RunRef) =>
    ((projectDir) => ({ projectDir, find: (store: Store) => resolveRunId(store, ref.runId) }))(projectOf(ref.project));

  return {
    async plan(request) {
      const projectDir = projectOf(request.project);
      const plannerRunId = newRunId();
      const dir = join(weftDir(projectDir), 'plans');
      mkdirSync(dir, { recursive: true });
      const output = join(dir, `${plannerRunId}.yaml`);
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
          hint: `\`status\` with runId ${plannerRunId} shows what it answered`,
        });
      return {
        planFile: output,
        plan: plan.spec as unknown as Record<string, unknown>,
        complexity: plan.output.analysis.complexity,
        reasons: plan.output.analysis.reasons,
        plannerRunId,
      };
    },

    async estimate(request) {
      const projectDir = projectOf(request.project);
      const loaded = loadRef(request, projectDir, false);
      const opts = request.workers === undefined ? {} : { jobs: request.workers };
      if (!existsSync(join(weftDir(projectDir), 'weft.db'))) return estimateJson(loaded.compiled, opts);
      return withStore(projectDir, async (store) => {
        const scope = { projectDir, planFile: loaded.file, baseDir: projectDir };
        const catalog = catalogOf(wire(projectDir).executors);
        const compileOptions = { executors: catalog, file: loaded.file, vars: loaded.compiled.vars };
        const { compiled, learned } = await withHistory(store, scope, loaded.compiled, compileOptions);
        return estimateJson(compiled, { ...opts, learned });
      });
    },

    async start(request) {
      const projectDir = projectOf(request.project);
      const loaded = loadRef(request, projectDir, true, request.vars);
      await refuseUnlessSetUp(loaded.compiled, projectDir);
      const runId = newRunId();
      const files = launchFiles(projectDir, runId);
      mkdirSync(files.dir, { recursive: true });
      const out = openSync(files.events, 'a');
      const err = openSync(files.stderr, 'a');
      const args = [options.cli, 'run', loaded.file, '--json', '--run-id', runId, '--base', projectDir];
      args.push('-C', projectDir);
      if (request.workers !== undefined) args.push('--jobs', String(request.workers));
      if (request.sequential === true) args.push('--sequential');
      if (request.failFast === true) args.push('--fail-fast');
      for (const [name, value] of Object.entries(request.vars ?? {})) args.push('--set', `${name}=${value}`);
      let child: ChildProcess;
      try {
        // Its own process group, its output in files: it outlives this server, and a Ctrl-C to the
        // client's terminal does not reach it (`cancel` does).
        child = spawn(process.execPath, args, {
          cwd: projectDir,
          detached: true,
          stdio: ['ignore', out, err],
          env: process.env,
        });
      } finally {
        closeSync(out);
        closeSync(err);
      }
      child.unref();
      children.set(runId, child);
      child.once('exit', () => children.delete(runId));
      await journaled(projectDir, runId, child, files.stderr);
      return { runId, planFile: loaded.file };
    },

    async status(ref) {
      const { projectDir, find } = resolved(ref);
      return withStore(projectDir, async (store) => {
        const runId = await findOrExplain(store, projectDir, ref.runId, find);
        const { summary, driven } = await runStatus(store, projectDir, runId);
        return driven === undefined ? { summary } : { summary, driven };
      });
    },

    async logs(request) {
      const { projectDir, find } = resolved(request);
      return withStore(projectDir, async (store) => {
        const runId = await findOrExplain(store, projectDir, request.runId, find);
        const ref = {
          runId,
          task: request.task,
          stream: request.stream ?? 'stdout',
          ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
        } as const;
        return taskLog(store, projectDir, ref, request.maxBytes ?? 65_536);
      });
    },

    async result(ref) {
      const { projectDir, find } = resolved(ref);
      return withStore(projectDir, async (store) => {
        const runId = await findOrExplain(store, projectDir, ref.runId, find);
        const { summary } = await runStatus(store, projectDir, runId);
        return { summary, report: await runReport(store, projectDir, runId, 'md') };
      });
    },

    async approve(ref) {
      const { projectDir, find } = resolved(ref);
      return withStore(projectDir, async (store) => {
        const runId = await find(store);
        const by = `${decider()} (weft mcp)`;
        const done = await decide(store, runId, ref.task, ref.decision, { reason: ref.reason, by });
        return { runId: done.runId, task: ref.task, decision: ref.decision, running: done.running };
      });
    },

    async cancel(ref) {
      const { projectDir, find } = resolved(ref);
      return withStore(projectDir, async (store) => {
        const child = children.get(ref.runId);
        let runId: string;
        try {
          runId = await find(store);
        } catch (error) {
          // Started a moment ago: its process has not journaled the run yet.
          if (child?.pid === undefined) throw error;
          child.kill('SIGTERM');
          return { runId: ref.runId, status: 'running', stopping: true };
        }
        const { state } = await readRun(store, runId);
        if (state.status !== 'running') return { runId, status: state.status, stopping: false };
        const pid = coordinatorPid(await coordinatorOf(store, runId)) ?? children.get(runId)?.pid;
        if (pid === undefined)
          return { runId, status: state.status, stopping: false, note: 'nobody drives this run; nothing to stop' };
        process.kill(pid, 'SIGTERM'); // the run's own clean stop: tasks cancelled, the journal says why
        return { runId, status: state.status, stopping: true };
      });
    },

    async follow(ref, onEvent, signal) {
      const projectDir = projectOf(ref.project);
      const file = launchFiles(projectDir, ref.runId).events;
      let offset = 0;
      let partial = '';
      let ended = false;
      const decoder = new StringDecoder('utf8'); // a read may end inside a character
      const pump = (): void => {
        if (!existsSync(file)) return;
        const size = statSync(file).size;
        if (size <= offset) return;
        const bytes = readRange(file, offset, size);
        offset += bytes.length;
        const text = partial + decoder.write(bytes);
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          let event: RunEventView;
          try {
            event = JSON.parse(line) as RunEventView;
          } catch {
            continue;
          }
          if (event.type === 'run.summary') ended = true;
          else onEvent(event);
        }
      };
      while (!signal.aborted && !ended) {
        pump();
        if (ended) break;
        const child = children.get(ref.runId);
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
          pump(); // what it wrote before it ended
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** How long `run` waits for the run to be in the journal before answering anyway. */
const START_WAIT_MS = 30_000;

/**
 * Waits until the run's process has journaled the run (so `status` right after `run` finds it), or
 * has died first (then its own error is the tool's), or {@link START_WAIT_MS} passed.
 */
async function journaled(projectDir: string, runId: string, child: ChildProcess, stderr: string): Promise<void> {
  const store = await openJournal(projectDir, wire(projectDir).config);
  const exists = (): Promise<boolean> =>
    store.read(runId).then(
      () => true,
      (error: unknown) => {
        if (isWeftError(error) && error.code === 'WEFT_RUN_NOT_FOUND') return false;
        throw error;
      },
    );
  try {
    const end = Date.now() + START_WAIT_MS;
    while (Date.now() < end) {
      if (await exists()) return;
      if (child.exitCode !== null || child.signalCode !== null) {
        if (await exists()) return; // it ran, and quickly
        const said = existsSync(stderr) ? readFileSync(stderr, 'utf8').trim() : '';
        throw new WeftError('WEFT_USAGE', `the run did not start: ${said || `weft run exited ${child.exitCode}`}`, {
          hint: 'fix that and call `run` again',
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await store.close();
  }
}

/** `host:pid` of a live coordinator on this machine → its pid. */
function coordinatorPid(owner: string | undefined): number | undefined {
  if (owner === undefined || owner === 'dead') return undefined;
  const [host, pid] = owner.split(':');
  return host === hostname() && pid !== undefined && /^\d+$/.test(pid) ? Number(pid) : undefined;
}

/** A run the journal does not know may be one this server started that failed before it began: say why. */
async function findOrExplain(
  store: Store,
  projectDir: string,
  given: string,
  find: (store: Store) => Promise<string>,
): Promise<string> {
  try {
    return await find(store);
  } catch (error) {
    const { stderr } = launchFiles(projectDir, given);
    if (!existsSync(stderr)) throw error;
    const said = readFileSync(stderr, 'utf8').trim();
    throw new WeftError(
      'WEFT_RUN_NOT_FOUND',
      said === '' ? `run ${given} has not started yet` : `run ${given} did not start: ${said}`,
      { cause: error, hint: said === '' ? 'ask again in a moment' : 'fix that and call `run` again' },
    );
  }
}

/** Refuses before answering a runId when an executor the plan needs is not set up (as `weft run` would). */
async function refuseUnlessSetUp(compiled: CompiledPlan, projectDir: string): Promise<void> {
  const gate = staticGate(compiled, process.env);
  const tasks = compiled.graph.tasks.filter((_, i) => gate(i) === undefined);
  const problems = await checkSetup(wire(projectDir).executors, tasks);
  if (problems.length > 0)
    throw new WeftError('WEFT_USAGE', `cannot start: ${problems.join('; ')}`, {
      hint: 'nothing has run; fix that and call `run` again',
    });
}

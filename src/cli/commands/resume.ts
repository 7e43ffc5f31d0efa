import { relative, resolve } from 'node:path';
import { WeftError } from '../../core/errors.js';
import type { PlanSpec, TaskSpec } from '../../core/plan/plan-schema.js';
import { spliceExpansion } from '../../core/plan/expansion.js';
import { compilePlan } from '../../core/plan/compile.js';
import { catalogOf } from '../../executors/index.js';
import type { Store } from '../../core/ports/store.js';
import { EXIT } from '../exit-codes.js';
import { openJournal, readRun, resolveRunId, retryRefusal } from '../journal.js';
import { PLANNER_FILE } from '../run-files.js';
import { wire } from '../wiring.js';
import { executeRun, planStamp } from './run.js';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { redactValue, SECRET_MASK } from '../../core/redact.js';
import { loadPlanFile } from '../../plan/load-plan.js';
import { copiedSecrets, runRedactor, varSecrets } from '../secrets.js';
import { withHistory } from '../history.js';
import { chooseDispatch } from '../dispatch-wiring.js';

export interface ResumeOptions {
  readonly dir?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
  readonly jobs?: number;
  readonly retry?: string[];
  /** `--dispatch <redis-url>`: the Redis the run's workers take tasks from. */
  readonly dispatch?: string;
  /** `--queue-prefix`: its queues' key prefix (default: the one the run used). */
  readonly queuePrefix?: string;
  /** `--git-remote`: the git remote tasks in worktrees travel through to workers with their own clone. */
  readonly gitRemote?: string;
  /** `--set`: a var the journal keeps masked (a secret `--set` gave the run), given again. */
  readonly set?: Record<string, string>;
}

const UNFINISHED = new Set(['running', 'cancelled', 'interrupted']);

/**
 * No id given: the most recent unfinished run. With `--retry`, a failed one too: the resume that
 * found a `resume: never` task cut off fails it, and its message sends the user to `--retry`.
 */
async function pickRun(store: Store, retrying: boolean): Promise<string> {
  const runs = await store.listRuns();
  const run = runs.find((r) => UNFINISHED.has(r.status) || (retrying && r.status === 'failed'));
  if (run !== undefined) return run.id;
  const latest = runs[0];
  if (latest === undefined)
    throw new WeftError('WEFT_RUN_NOT_FOUND', 'no run to resume', { hint: 'start one with `weft run <plan>`' });
  throw new WeftError(
    'WEFT_RUN_NOT_FOUND',
    `nothing to resume: no run is unfinished (the latest, ${latest.id}, ${latest.status})`,
    {
      hint: '`weft runs` lists them; `weft resume <run>` runs what did not succeed in a finished run again',
    },
  );
}

/**
 * Continues a run from its journal: finished tasks keep their results, what was running or
 * waiting runs again. No id: the most recent unfinished run.
 */
export async function resumeCommand(given: string | undefined, opts: ResumeOptions): Promise<number> {
  const { projectDir, executors, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config, { create: false }); // no journal: nothing to resume, and none made
  try {
    const runId =
      given === undefined ? await pickRun(store, opts.retry !== undefined) : await resolveRunId(store, given);
    const { events, state } = await readRun(store, runId);
    // Checked first: a typo in --retry, or a task that succeeded, must not pass for "nothing to resume"
    // (a finished run) or start the rest.
    const refusal = retryRefusal(runId, state, opts.retry ?? []);
    if (refusal !== undefined) throw refusal;
    const created = events[0];
    if (created?.type !== 'run.created') throw new WeftError('WEFT_STORE', `run ${runId} has no run.created event`);
    const o = (created.options ?? {}) as {
      spec?: PlanSpec;
      vars?: Record<string, string | number | boolean>;
      setVars?: string[];
      planFile?: string;
      planStamp?: string;
      baseDir?: string;
      projectDir?: string;
      failFast?: boolean;
      isolation?: boolean;
      cache?: boolean;
      dispatch?: { prefix?: string };
      copied?: string[];
    };
    // A project copied or moved since: the plan's folder moves with it.
    const moved = (path: string | undefined): string | undefined =>
      path === undefined || o.projectDir === undefined || o.projectDir === projectDir
        ? path
        : resolve(projectDir, relative(o.projectDir, path));
    if (o.spec === undefined)
      throw new WeftError(
        'WEFT_USAGE',
        `run ${runId} was started by a weft that did not record its plan; it cannot be resumed`,
      );
    if (o.planFile === PLANNER_FILE)
      throw new WeftError(
        'WEFT_USAGE',
        `run ${runId} was the planner's, planning "${o.spec.description ?? 'a goal'}"; resuming it would not save a plan`,
        { hint: 'plan again: weft plan "<goal>" (or weft run --goal "<goal>")' },
      );
    if (state.status === 'succeeded') {
      process.stdout.write(
        opts.json === true
          ? `${JSON.stringify({ runId, status: 'succeeded', resumed: false })}\n`
          : `run ${runId} already succeeded; nothing to resume\n`,
      );
      return EXIT.ok;
    }
    refuseMaskedVars(o.vars ?? {}, o.setVars ?? [], opts.set ?? {}, runId);
    if (created.mode === 'sequential' && opts.jobs !== undefined)
      throw new WeftError(
        'WEFT_USAGE',
        `-j: run ${runId} was started with --sequential, and a resume runs it one task at a time too`,
        { hint: 'leave out -j; `weft run <plan> -j M` starts a run on M workers' },
      );
    // The plan as it was when the run started (not as the file is now), grown by what tasks added.
    const file = moved(o.planFile);
    // A value of a `workspace.copy` file (a `.env`) written in the plan too is masked in the journal's plan.
    const copied = copiedSecrets((o.copied ?? []).map((path) => moved(path) ?? path));
    let spec = withSecrets(o.spec, file, executors, runId, [...varSecrets(opts.set ?? {}), ...copied]);
    // An edited plan file is not what a resume runs: say so, rather than let the edit seem ignored.
    // Secrets are the exception: the journal has them masked, so they come from the file as it is.
    if (file !== undefined && o.planStamp !== undefined && planStamp(file).planStamp !== o.planStamp) {
      const secrets = spec === o.spec ? '' : ', but with the secret values the file holds now';
      process.stderr.write(
        `weft: ${file} changed since run ${runId} started; the resume goes on with the plan as it was then${secrets} (\`weft run ${relative(process.cwd(), file) || file}\` starts a run of the edited plan)\n`,
      );
    }
    for (const e of events) if (e.type === 'plan.expanded') spec = spliceExpansion(spec, e.by, e.tasks as TaskSpec[]);
    const vars = { vars: unmaskedVars(o.vars ?? {}, spec.vars ?? {}, opts.set ?? {}) };
    const options = { executors: catalogOf(executors), file: o.planFile ?? '<journal>', ...vars };
    // Ordered by the durations learned so far, as `weft run` and `weft estimate` order it (a label such as
    // `<planner>` is not a path, and does not move with the project).
    const planFile = o.planFile?.startsWith('<') === true ? o.planFile : (moved(o.planFile) ?? '<journal>');
    const baseDir = moved(o.baseDir) ?? projectDir;
    const scope = { projectDir, planFile, baseDir };
    const { compiled } = await withHistory(store, scope, compilePlan(spec, options), options);
    // A run that was dispatched keeps its queues' prefix: its jobs are there to be adopted.
    const dispatching = opts.dispatch !== undefined || config.dispatch !== undefined;
    const prefix = opts.queuePrefix ?? (dispatching ? o.dispatch?.prefix : undefined);
    const dispatch = chooseDispatch(
      { ...opts, ...(prefix === undefined ? {} : { queuePrefix: prefix }) },
      config,
      projectDir,
    );
    if (dispatch === undefined && o.dispatch !== undefined)
      process.stderr.write(
        `weft: run ${runId} was dispatched to workers; resuming it here runs its tasks locally (give --dispatch to adopt the workers' jobs)\n`,
      );
    return await executeRun({
      runId,
      compiled,
      planFile,
      baseDir,
      projectDir,
      workers: created.mode === 'sequential' ? 1 : (opts.jobs ?? created.workers),
      mode: created.mode,
      failFast: o.failFast === true,
      isolation: o.isolation !== false,
      cache: o.cache !== false,
      executors,
      store,
      display: opts,
      prior: state,
      ...(opts.retry === undefined ? {} : { retry: opts.retry }),
      ...(dispatch === undefined ? {} : { dispatch }),
    });
  } finally {
    await store.close();
  }
}

/**
 * The journal keeps a plan's secrets masked (a key in a `run` line, a password in `env`); a resume
 * needs them back. They come from the plan file, provided that file, masked the same way, is the
 * plan the journal holds — else the resume is refused rather than run with `***` for a password.
 * The secrets' own values cannot be compared (the journal has none): a rotated key is taken as is.
 */
function withSecrets(
  journaled: PlanSpec,
  planFile: string | undefined,
  executors: ReturnType<typeof wire>['executors'],
  runId: string,
  /**
   * Secrets the run masked the plan with beyond the file's own: the resume's `--set` (a secret var
   * the run's `--set` gave may be written in the plan, in a `when`), the `workspace.copy` files'.
   */
  more: readonly string[],
): PlanSpec {
  if (!JSON.stringify(journaled).includes(SECRET_MASK)) return journaled;
  const refuse = (why: string): never => {
    throw new WeftError(
      'WEFT_USAGE',
      `run ${runId}: the journal keeps the plan's secrets masked (${SECRET_MASK}), and ${why}`,
      {
        hint: 'put the plan file back as it was when the run started and export the same secret variables, then `weft resume`',
      },
    );
  };
  if (planFile === undefined || !existsSync(planFile))
    return refuse(`the plan file they come from (${planFile ?? 'unknown'}) is gone`);
  let spec: PlanSpec;
  try {
    spec = loadPlanFile(planFile, { executors: catalogOf(executors) }).compiled.spec;
  } catch (error) {
    return refuse(`the plan file they come from (${planFile}) no longer loads: ${(error as Error).message}`);
  }
  if (isDeepStrictEqual(JSON.parse(JSON.stringify(redactValue(spec, runRedactor(process.env, spec, more)))), journaled))
    return spec;
  return refuse(
    `the plan file they come from (${planFile}) has changed since the run started (or a secret variable is not set)`,
  );
}

const isMasked = (value: unknown): boolean => typeof value === 'string' && value.includes(SECRET_MASK);

/**
 * Refuses, before anything else, a resume that would decide a `when` with `***`: a var named like a
 * secret (`api_token`) that the run's `--set` gave is masked in the journal, so the resume's
 * `--set` must give it again; and a `--set` for any other var, which a resume keeps as it was.
 */
function refuseMaskedVars(
  journaled: Readonly<Record<string, string | number | boolean>>,
  setVars: readonly string[],
  given: Readonly<Record<string, string>>,
  runId: string,
): void {
  const masked = Object.keys(journaled).filter((name) => isMasked(journaled[name]));
  const extra = Object.keys(given).find((name) => !masked.includes(name));
  if (extra !== undefined)
    throw new WeftError(
      'WEFT_USAGE',
      `--set ${extra}: a resume keeps the vars run ${runId} started with; --set gives back only one the journal keeps masked (${SECRET_MASK})`,
      { hint: masked.length === 0 ? 'leave --set out' : `masked here: ${masked.join(', ')}` },
    );
  const missing = masked.find((name) => setVars.includes(name) && given[name] === undefined);
  if (missing !== undefined)
    throw new WeftError(
      'WEFT_USAGE',
      `run ${runId}: var ${missing} was given with --set, and the journal keeps its value masked (${SECRET_MASK})`,
      { hint: `give it again: weft resume ${runId} --set ${missing}=…` },
    );
}

/**
 * The run's vars with the values the journal keeps masked given back: from the resume's `--set`
 * when the run's `--set` gave them (see {@link refuseMaskedVars}), else from the plan as the plan
 * file holds it (restored by {@link withSecrets}).
 */
function unmaskedVars(
  journaled: Readonly<Record<string, string | number | boolean>>,
  planVars: Readonly<Record<string, string | number | boolean>>,
  given: Readonly<Record<string, string>>,
): Record<string, string | number | boolean> {
  const vars = { ...journaled };
  for (const name of Object.keys(journaled).filter((n) => isMasked(journaled[n]))) {
    const value = given[name] ?? planVars[name];
    if (value !== undefined) vars[name] = value;
  }
  return vars;
}

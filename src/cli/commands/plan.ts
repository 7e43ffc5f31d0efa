import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { count } from '../format.js';
import { delimiter, dirname, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { stringify } from 'yaml';
import { WeftError } from '../../core/errors.js';
import { closest } from '../../core/suggest.js';
import type { PlanSpec } from '../../core/plan/plan-schema.js';
import { plannerJsonSchema } from '../../core/plan/planner-schema.js';
import { compilePlan } from '../../core/plan/compile.js';
import { catalogOf } from '../../executors/index.js';
import { checkPlannerAnswer, plannerPrompt, repoLayout, type CheckedPlan } from '../../plan/planner.js';
import type { WeftConfig } from '../config.js';
import { EXIT } from '../exit-codes.js';
import { openJournal } from '../journal.js';
import { newRunId, PLANNER_FILE } from '../run-files.js';
import { wire } from '../wiring.js';
import { printEstimate } from './estimate.js';
import { executeRun, runCommand, type RunCommandOptions } from './run.js';

export interface PlanCommandOptions {
  readonly jobs?: number;
  readonly planner?: string;
  /** Executor the planned tasks run on. @default the planner when it is an agent CLI */
  readonly executor?: string;
  /** Where the plan is saved. @default plan.yaml in the project folder */
  readonly output?: string;
  /** Overwrite `output` when it exists. */
  readonly force?: boolean;
  readonly yes?: boolean;
  readonly json?: boolean;
  readonly dir?: string;
  /** How many answers the planner gets to produce a valid plan. @default 3 */
  readonly attempts?: string;
  readonly progress?: boolean;
  /** The planned run's id (`weft serve` chooses it); the planner's own run is `<id>-planner`. */
  readonly runId?: string;
  /** Folder the planned plan's relative paths resolve against. @default the plan file's folder */
  readonly base?: string;
  /** The planner run's own id (`weft mcp` names it in its answer). @default `<runId>-planner`, or a new one */
  readonly plannerRunId?: string;
}

const AGENT_CLIS = ['claude', 'codex', 'gemini'] as const;

function onPath(bin: string): boolean {
  if (bin.includes('/')) {
    try {
      accessSync(bin, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), join(process.cwd(), 'node_modules', '.bin')]) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** The first agent CLI weft knows that is installed (at its configured path, or on PATH). */
function installedCli(config: WeftConfig, known: ReadonlySet<string>): string | undefined {
  return AGENT_CLIS.find((c) => known.has(c) && onPath(config.executors?.[c]?.bin ?? c));
}

/** `--planner`, then config, then the first agent CLI installed, then an API key that is set. */
export function choosePlanner(given: string | undefined, config: WeftConfig, known: ReadonlySet<string>): string {
  const name =
    given ??
    config.planner ??
    installedCli(config, known) ??
    (process.env.ANTHROPIC_API_KEY !== undefined ? 'anthropic' : undefined) ??
    (process.env.OPENAI_API_KEY !== undefined || config.executors?.openai?.baseUrl !== undefined
      ? 'openai'
      : undefined);
  if (name === undefined) {
    throw new WeftError(
      'WEFT_USAGE',
      'no planner found: no agent CLI (claude, codex, gemini) on PATH and no ANTHROPIC_API_KEY or OPENAI_API_KEY',
      {
        hint: 'install one (npm i -g @anthropic-ai/claude-code), set an API key, or pass --planner <executor>; see README "Planning from a goal"',
      },
    );
  }
  if (!known.has(name)) {
    const near = closest(name, known);
    const from = given === undefined ? 'weft.config.yaml planner' : '--planner';
    throw new WeftError('WEFT_USAGE', `${from}: "${name}" is not an executor that can plan`, {
      hint: `${near === undefined ? '' : `did you mean "${near}"? `}planners: ${[...known].join(', ')}`,
    });
  }
  return name;
}

/** Asks the planner for a plan, checks it like a hand-written one (repairing it a bounded number of times), saves and shows it. */
export async function planGoal(
  goal: string,
  opts: PlanCommandOptions,
): Promise<{ code: number; file?: string; plan?: CheckedPlan }> {
  const { projectDir, executors, config } = wire(opts.dir);
  if (goal.trim() === '')
    throw new WeftError('WEFT_USAGE', 'the goal is empty', { hint: 'say what you want built, e.g. "a todo app"' });
  // Checked before the planner is paid: a plan that cannot be saved, or would replace one, is refused now.
  const file = opts.output === undefined ? join(projectDir, 'plan.yaml') : resolve(opts.output);
  refuseOutput(file, opts.force === true);
  const catalog = catalogOf(executors);
  // Only an agent or an LLM answers a prompt: a shell or function executor cannot plan.
  const planners = new Set([...catalog].filter(([, info]) => info.requires === 'prompt').map(([name]) => name));
  // The flag first: a bad --attempts is the user's to fix whatever planner there is (or is not).
  const attempts = Number(opts.attempts ?? 3);
  if (!/^\d+$/.test(opts.attempts ?? '3') || attempts < 1 || attempts > 21)
    throw new WeftError('WEFT_USAGE', `--attempts expects a whole number from 1 to 21, got "${opts.attempts}"`, {
      hint: '--attempts takes digits only, e.g. --attempts 3 (the default)',
    });
  const planner = choosePlanner(opts.planner, config, planners);
  const workers = opts.jobs ?? 4;
  const executor =
    opts.executor ??
    ((AGENT_CLIS as readonly string[]).includes(planner)
      ? planner
      : (installedCli(config, new Set(executors.keys())) ?? planner));
  const answersOnly = catalog.get(executor)?.answersOnly === true;
  const request = { goal, workers, executor, layout: repoLayout(projectDir), answersOnly };
  const plannerPlan: PlanSpec = {
    name: 'planner',
    description: goal,
    workers: 1,
    tasks: [
      {
        id: 'plan',
        title: `Plan: ${goal.slice(0, 60)}`,
        executor: planner,
        prompt: plannerPrompt(request),
        outputSchema: plannerJsonSchema(request),
        fixAttempts: attempts - 1,
        cache: false,
      },
    ],
  };
  let checked: CheckedPlan | undefined;
  // What the planner's last refused answer was told: the journal keeps only "did not pass its check".
  let told: string | undefined;
  const store = await openJournal(projectDir, config);
  let code: number;
  try {
    code = await executeRun({
      runId: opts.plannerRunId ?? (opts.runId === undefined ? newRunId() : `${opts.runId}-planner`),
      compiled: compilePlan(plannerPlan, { executors: catalog, file: PLANNER_FILE }),
      planFile: PLANNER_FILE,
      baseDir: projectDir,
      projectDir,
      workers: 1,
      mode: 'parallel',
      failFast: true,
      isolation: false,
      cache: false,
      executors,
      store,
      display: { ...(opts.json === true ? { json: true } : {}), progress: opts.progress ?? true },
      validateResult: (_task, result) => {
        const r = checkPlannerAnswer(result.output ?? result.text, request, { executors: catalog });
        if ('feedback' in r) return (told = r.feedback);
        checked = r.plan;
        return undefined;
      },
    });
  } finally {
    await store.close();
  }
  if (checked === undefined) {
    const interrupted = code === EXIT.interrupted;
    const message = interrupted
      ? 'planning stopped before the planner answered; no plan was saved — plan again with the same command'
      : told === undefined
        ? `the planner (${planner}) did not produce a valid plan in ${count(attempts, 'answer')}; \`weft status\` says why`
        : `the planner (${planner}) did not produce a valid plan in ${count(attempts, 'answer')}; its last answer was told:`;
    const hint = interrupted ? undefined : told?.replace(/\nReturn the whole corrected plan\.$/, '');
    process.stderr.write(
      `weft: ${message}\n${hint === undefined ? '' : `${hint.replace(/^/gm, '  ').replace(/[ \t]+$/gm, '')}\n`}`,
    );
    // As every command failing under --json: one error object on stdout (a stop is no failure: a run stopped by Ctrl-C prints none).
    if (opts.json === true && !interrupted)
      process.stdout.write(
        `${JSON.stringify({ error: { code: 'WEFT_RESULT_INVALID', message, ...(hint === undefined ? {} : { hint }) } })}\n`,
      );
    return { code: interrupted || code !== EXIT.ok ? code : EXIT.failed };
  }
  const { analysis } = checked.output;
  const header = [
    `# Planned by weft (${planner}) from the goal: ${goal}`,
    `# ${analysis.complexity}, ${count(checked.spec.tasks.length, 'task')}: ${analysis.reasons.join('; ')}`,
  ].join('\n');
  // A .json plan must be JSON (the loader refuses YAML there), which has no comments for the header.
  writePlan(
    file,
    extname(file).toLowerCase() === '.json'
      ? `${JSON.stringify(checked.spec, null, 2)}\n`
      : `${header}\n${stringify(checked.spec, { lineWidth: 0 })}`,
  );
  if (opts.json !== true) {
    process.stdout.write(
      `\nPlan written to ${file}: ${analysis.complexity} (${analysis.reasons.join('; ')}), ${count(checked.spec.tasks.length, 'task')} on ${count(workers, 'worker')}\n`,
    );
    printEstimate(checked.compiled, { jobs: workers });
  } else
    process.stdout.write(
      `${JSON.stringify({ type: 'plan', file, analysis, tasks: checked.spec.tasks.map((t) => ({ id: t.id, needs: t.needs ?? [], estimate: t.estimate })) })}\n`,
    );
  return { code: EXIT.ok, file, plan: checked };
}

/**
 * A plan file that exists (unless `force`), or a folder it cannot be written in, is refused. Its
 * folder is not made here: a planner that fails would leave it behind (see {@link writePlan}).
 */
function refuseOutput(file: string, force: boolean): void {
  let folder = false;
  try {
    folder = statSync(file).isDirectory();
  } catch {
    // not there, or its folder is not one: the mkdir below says why
  }
  if (folder)
    throw new WeftError('WEFT_USAGE', `${file} is a folder`, {
      hint: 'pass -o with the plan file to write, e.g. -o plans/plan.yaml',
    });
  if (existsSync(file) && !force)
    throw new WeftError('WEFT_USAGE', `${file} already exists`, {
      hint: 'name another file (weft plan -o other.yaml, or weft run other.yaml --goal …), or overwrite it with weft plan --force',
    });
  try {
    // The folders missing on the way are made in the nearest one there, which must be writable.
    accessSync(nearestFolder(dirname(file)), constants.W_OK);
  } catch (error) {
    throw new WeftError('WEFT_USAGE', `cannot write the plan to ${file}: ${(error as Error).message}`, {
      hint: 'pass -o with a path in a folder you can write',
      cause: error,
    });
  }
}

/**
 * `dir`, or the nearest folder above it that exists.
 * @throws {Error} when what is there is not a folder (a file in the way), or cannot be looked at.
 */
function nearestFolder(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    const stat = statSync(at, { throwIfNoEntry: false });
    if (stat !== undefined) {
      if (!stat.isDirectory()) throw new Error(`${at} is not a folder`);
      return at;
    }
    if (dirname(at) === at) return at;
  }
}

/** Saves the plan, making its folder now that there is a plan to put in it. */
function writePlan(file: string, text: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  } catch (error) {
    throw new WeftError('WEFT_USAGE', `cannot write the plan to ${file}: ${(error as Error).message}`, {
      hint: 'pass -o with a path in a folder you can write, and plan again',
      cause: error,
    });
  }
}

/**
 * Plans `goal`, saves the plan, shows its estimate and — with `--yes` or a person's yes — runs it.
 * @param run `weft run --goal`'s own options (`--fail-fast`, `--set`, `--no-isolation`, `--dispatch`,
 *   `--ui`…), which the planned run takes as `weft run <plan>` would. @default none (`weft plan --yes`)
 */
export async function planCommand(
  goal: string,
  opts: PlanCommandOptions,
  run: RunCommandOptions = {},
): Promise<number> {
  const { code, file } = await planGoal(goal, opts);
  if (code !== EXIT.ok || file === undefined) return code;
  if (!(await confirmRun(opts))) {
    if (opts.json !== true)
      process.stdout.write(`Run it with: weft run ${file}${opts.jobs === undefined ? '' : ` -j ${opts.jobs}`}\n`);
    return EXIT.ok;
  }
  return runCommand(file, {
    ...run,
    ...(opts.runId === undefined ? {} : { runId: opts.runId }),
    ...(opts.base === undefined ? {} : { base: opts.base }),
    ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
    ...(opts.json === undefined ? {} : { json: opts.json }),
    ...(opts.dir === undefined ? {} : { dir: opts.dir }),
  });
}

/** `--yes`, or a person saying yes on a terminal. */
async function confirmRun(opts: PlanCommandOptions): Promise<boolean> {
  if (opts.yes === true) return true;
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question('Run this plan now? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

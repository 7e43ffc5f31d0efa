#!/usr/bin/env node
import { Command, CommanderError, Option } from 'commander';
import {
  ConfigValidationError,
  formatPlanIssue,
  isWeftError,
  PlanValidationError,
  WeftError,
  type PlanIssue,
} from '../core/errors.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { mustExit } from './exit-when-done.js';
import { redactValue } from '../core/redact.js';
import { collectVar, parseAttempt, parsePort, parseRunId, parseSweep, parseWorkers, wholeNumber } from './options.js';
import { WEFT_VERSION } from './version.js';
import { conflictProblem } from './flag-conflicts.js';

// Each command's module is imported when it runs: loading them all (git, reports, importers, the
// planner) would be start-up time that every command pays.
const program = new Command()
  .name('weft')
  .description('Run AI agent work in parallel: plans, a critical-path scheduler on M workers, a journal, reports.')
  .version(WEFT_VERSION)
  .showSuggestionAfterError()
  // Its errors are written by main(), as weft's are: one line, then the fix.
  .configureOutput({ outputError: () => undefined })
  .exitOverride();

program
  .command('run')
  .description('run a plan on M workers, critical path first')
  .argument('[plan]', 'plan file (YAML or JSON)')
  .option('--resume', 'continue the most recent unfinished run instead (same as `weft resume`)')
  .option(
    '--goal <goal>',
    'plan the goal with an AI planner first (see `weft plan`), save the plan as [plan] (default plan.yaml), then run it',
  )
  .option('--planner <executor>', 'with --goal: the executor that plans')
  .option(
    '--attempts <n>',
    'with --goal: answers the planner gets to produce a valid plan, 1-21 (default 3; as `weft plan --attempts`)',
  )
  .option('-y, --yes', 'with --goal: run the plan without asking')
  .option('-j, --jobs <M>', "workers: how many tasks run at once (default: the plan's `workers`)", parseWorkers)
  .option('--json', 'print events as JSON lines, then the summary')
  .option('--fail-fast', 'stop at the first failed task')
  .option('--sequential', 'one task at a time in declaration order (debugging)')
  .option('--set <name=value>', 'set a plan variable for `when` conditions (repeatable)', collectVar)
  .option('--no-progress', 'plain lines even on a terminal')
  .option('--no-isolation', 'run every task in the project folder (no git worktrees)')
  .option('--no-cache', 'run every task, even those whose inputs did not change')
  .option('--explain-cache', 'say for each cached task why it hit or missed')
  .option('--dispatch <redis-url>', 'run the tasks on `weft worker` processes through this Redis (redis://host:port)')
  .option('--queue-prefix <prefix>', "with --dispatch: the queues' key prefix, as the workers' --prefix (default weft)")
  .option(
    '--git-remote <url-or-path>',
    'with --dispatch: a git remote shared with `weft worker --clone` workers; tasks in worktrees travel through it',
  )
  .option('--ui', 'serve the live dashboard for this run (prints its URL; see `weft serve`)')
  .option('--port <port>', 'with --ui: the port (default: any free one)', parsePort)
  .option('-C, --dir <dir>', 'project folder holding .weft/ (default: the current folder)')
  // Set by `weft serve` and `weft mcp`, which start runs as detached children: the id they answered
  // with, and the folder the plan's paths resolve against (where an inline plan's tasks run).
  .addOption(new Option('--run-id <id>').hideHelp().argParser(parseRunId))
  .addOption(new Option('--base <dir>').hideHelp())
  .action(async (plan: string | undefined, opts) => {
    refuseUnpaired(opts, plan);
    if (opts.resume === true)
      process.exitCode = await (await import('./commands/resume.js')).resumeCommand(undefined, opts);
    else if (opts.goal !== undefined)
      process.exitCode = await (
        await import('./commands/plan.js')
      ).planCommand(opts.goal, { ...opts, ...(plan === undefined ? {} : { output: plan }) }, opts);
    else if (plan === undefined)
      throw new WeftError('WEFT_USAGE', 'weft run needs a plan file', {
        hint: 'e.g. `weft run examples/app.yaml`, or `weft run --resume`',
      });
    else process.exitCode = await (await import('./commands/run.js')).runCommand(plan, opts);
  });

program
  .command('serve')
  .description("serve the HTTP API and the live dashboard of this project's runs (token required; see README)")
  .option('-p, --port <port>', 'the port (0: any free one)', parsePort, 4873)
  .option('--host <host>', 'the address to listen on; 0.0.0.0 exposes it to the network', '127.0.0.1')
  .option('--json', 'print the address as one JSON line')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (opts) => {
    process.exitCode = await (await import('./commands/serve.js')).serveCommand(opts);
  });

program
  .command('resume')
  .description('continue an interrupted run from its journal (default: the most recent unfinished one)')
  .argument('[run]', 'run id, unique prefix or `latest` (default: the most recent unfinished run)')
  .option(
    '--retry <task>',
    'run again a task with `resume: never` that was cut off (repeatable)',
    (v: string, prev: string[] = []) => [...prev, v],
  )
  .option('-j, --jobs <M>', 'workers', parseWorkers)
  .option('--json', 'print events as JSON lines, then the summary')
  .option('--no-progress', 'plain lines even on a terminal')
  .option('--dispatch <redis-url>', 'run on `weft worker`s through this Redis, adopting their jobs still running')
  .option('--queue-prefix <prefix>', "with --dispatch: the queues' key prefix (default: the run's)")
  .option('--git-remote <url-or-path>', 'with --dispatch: the git remote shared with `weft worker --clone` workers')
  .option(
    '--set <name=value>',
    'give again a secret var the run got from --set (the journal keeps it masked)',
    collectVar,
  )
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string | undefined, opts) => {
    process.exitCode = await (await import('./commands/resume.js')).resumeCommand(run, opts);
  });

program
  .command('worker')
  .description("take tasks from a Redis queue (`weft run --dispatch`) and run them with this machine's executors")
  .requiredOption('--redis <url>', 'the Redis the coordinator dispatches through (redis://host:port)')
  .option(
    '--label <label>',
    'a label tasks may require (`labels: [gpu]`); repeatable',
    (v: string, prev: string[] = []) => [...prev, v],
  )
  .option('--concurrency <n>', 'attempts run at once per queue (default 1)', wholeNumber('--concurrency', 1, 10_000, 4))
  .option(
    '--lock-ms <ms>',
    "how soon a killed worker's attempt is taken as lost, ms (default 30000)",
    wholeNumber('--lock-ms', 1_000, 86_400_000, 30_000),
  )
  .option('--root <dir>', 'only run tasks whose folder is under this one')
  .option(
    '--clone <dir>',
    "keep an own clone of the run's shared git remote here; tasks in worktrees run in worktrees of it",
  )
  .option('--prefix <prefix>', "the queues' key prefix, as the coordinator's --queue-prefix (default weft)")
  .option('--json', 'print what the worker advertises, then one JSON line per attempt')
  .option('-C, --dir <dir>', 'folder whose weft.config.yaml sets up the executors; logs go to its .weft/worker/')
  .action(async (opts) => {
    process.exitCode = await (await import('./commands/worker.js')).workerCommand(opts);
  });

program
  .command('runs')
  .description('list runs, newest first')
  .option('--json', 'as JSON')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (opts) => {
    process.exitCode = await (await import('./commands/inspect.js')).runsCommand(opts);
  });

program
  .command('status')
  .description('where a run stands, task by task (default: the latest run)')
  .argument('[run]', 'run id, unique prefix or `latest` (the default)')
  .option('--json', 'the full summary as JSON')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string | undefined, opts) => {
    process.exitCode = await (await import('./commands/inspect.js')).statusCommand(run, opts);
  });

program
  .command('approve')
  .description('let a task that waits for approval (approval: required) go on')
  .argument('<run>', 'run id, unique prefix or `latest`')
  .argument('<task>', 'task id')
  .option('--json', 'print the decision as JSON')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string, task: string, opts) => {
    process.exitCode = await (await import('./commands/approve.js')).decideCommand('approved', run, task, opts);
  });

program
  .command('reject')
  .description('refuse a task that waits for approval: it ends blocked with the reason')
  .argument('<run>', 'run id, unique prefix or `latest`')
  .argument('<task>', 'task id')
  .option('--reason <text>', 'why (required): shown in the summary and reports')
  .option('--json', 'print the decision as JSON')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string, task: string, opts) => {
    process.exitCode = await (await import('./commands/approve.js')).decideCommand('rejected', run, task, opts);
  });

program
  .command('logs')
  .description("a task's output (stdout; --stderr for stderr)")
  .argument('<run>', 'run id, unique prefix or `latest`')
  .argument('<task>', 'task id')
  .option('-f, --follow', 'keep printing until the task ends')
  .option('--attempt <n>', 'which attempt (default: the latest)', parseAttempt)
  .option('--stderr', 'stderr instead of stdout')
  .option('--json', 'a failure as one JSON object on stdout (the log stays text)')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string, task: string, opts) => {
    process.exitCode = await (await import('./commands/inspect.js')).logsCommand(run, task, opts);
  });

program
  .command('report')
  .description('a run report: html (self-contained, with a Gantt chart and the graph), md or json')
  .argument('[run]', 'run id, unique prefix or `latest` (the default)')
  .option('--format <format>', 'html | md | json (default html, written to the run folder)')
  .option('-o, --output <file>', 'write it here')
  .option('--json', 'same as --format json')
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (run: string | undefined, opts) => {
    process.exitCode = await (await import('./commands/inspect.js')).reportCommand(run, opts);
  });

program
  .command('apply')
  .description("bring a run's integration branch (weft/<run>) into your current branch")
  .argument('[run]', 'run id, unique prefix or `latest` (the default)')
  .option('--merge', 'merge instead of fast-forward only')
  .option('--json', 'print what was applied as JSON')
  .option('-C, --dir <dir>', 'project folder')
  .action(async (run: string | undefined, opts) => {
    process.exitCode = await (await import('./commands/apply.js')).applyCommand(run, opts);
  });

program
  .command('validate')
  .description('check a plan without running anything')
  .argument('<plan>', 'plan file')
  .option('--set <name=value>', 'set a plan variable, as weft run would (repeatable)', collectVar)
  .option('--json', 'print the result as JSON')
  .option('-C, --dir <dir>', 'project folder (its weft.config.yaml and repository checks)')
  .action(async (plan: string, opts) => {
    process.exitCode = await (await import('./commands/validate.js')).validateCommand(plan, opts);
  });

program
  .command('estimate')
  .description('predict makespan, speed-up and the best M on a virtual clock from the estimates')
  .argument('<plan>', 'plan file')
  .addOption(new Option('-j, --jobs <M>', 'workers').argParser(parseWorkers).conflicts('sweep'))
  .option('--sweep <range>', 'try every M in a range, e.g. 1-16', parseSweep)
  .option('--format <format>', 'plan (default), stg (Standard Task Graph file) or wfcommons (workflow trace JSON)')
  .option('--set <name=value>', 'set a plan variable (repeatable)', collectVar)
  .option('--json', 'print the figures as JSON (seconds)')
  .option('--no-history', "use the plan's estimates only, not durations measured in earlier runs")
  .option('-C, --dir <dir>', 'project folder holding .weft/')
  .action(async (plan: string, opts) => {
    process.exitCode = await (await import('./commands/estimate.js')).estimateCommand(plan, opts);
  });

program
  .command('plan')
  .description(
    'turn a goal into a validated plan with an AI planner (an agent CLI or LLM API), show its estimate, and run it with --yes',
  )
  .argument('<goal>', 'what you want built, in words')
  .option('-j, --jobs <M>', 'the worker budget M the plan is made for', parseWorkers)
  .option(
    '--planner <executor>',
    'who plans: claude, codex, gemini, anthropic, openai (default: config `planner`, else the first one installed)',
  )
  .option('--executor <executor>', 'who runs the planned tasks (default: the planner when it is an agent CLI)')
  .option('-o, --output <file>', 'where to save the plan (default: plan.yaml in the project folder)')
  .option('--force', 'overwrite the plan file if it exists')
  .option('--attempts <n>', 'answers the planner gets to produce a valid plan', '3')
  .option('-y, --yes', 'run the plan straight away')
  .option('--json', 'print events and the plan as JSON lines')
  .option('--no-progress', 'plain lines even on a terminal')
  .option('-C, --dir <dir>', 'project folder')
  // Set by `weft serve` when it plans a goal: the planned run's id, and the folder its paths resolve against.
  .addOption(new Option('--run-id <id>').hideHelp().argParser(parseRunId))
  .addOption(new Option('--base <dir>').hideHelp())
  .action(async (goal: string, opts) => {
    process.exitCode = await (await import('./commands/plan.js')).planCommand(goal, opts);
  });

program
  .command('init')
  .description('write a plan from a template (without --template: list the templates)')
  .option(
    '-t, --template <name>',
    'template to start from: fullstack-feature, orion-cycle, parallel-contracts, scout-architect-builders, staged-delivery, test-runner',
  )
  .option('-o, --output <file>', 'where to write the plan ("-" prints it)', 'weft.yaml')
  .option('--set <name=value>', 'set a template variable, e.g. goal="…" or security=false (repeatable)', collectVar)
  .option('--offline', 'shell stand-ins instead of agents: the same graph runs without an API key')
  .option('--force', 'overwrite the output file if it exists')
  .option('--json', 'print the result, or the template list, as JSON')
  .action(async (opts) => {
    process.exitCode = (await import('./commands/init.js')).initCommand(opts);
  });

program
  .command('schema')
  .description('print the JSON Schema of plan files (for editor autocomplete)')
  .option('--config', 'the JSON Schema of weft.config.yaml instead')
  .option('-o, --output <file>', 'write it to a file')
  .option('--json', 'same as the default: the schema is JSON')
  .action(async (opts) => {
    process.exitCode = (await import('./commands/schema.js')).schemaCommand(opts);
  });

program
  .command('mcp')
  .description(
    'an MCP server on stdio for agents to drive weft: plan, estimate, run, status, logs, result, cancel, build_and_deploy',
  )
  .option(
    '-C, --dir <dir>',
    'the folder served: projects and plan files must be inside it (default: the current folder)',
  )
  .action(async (opts) => {
    process.exitCode = await (await import('./commands/mcp.js')).mcpCommand(opts);
  });

// A closed pipe (`weft run … | head`) or a closed terminal (EIO, before its SIGHUP arrives) must not
// kill a run that is spending money: it stops cleanly on the SIGHUP, or goes on unseen.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'EIO') throw error;
  });

/**
 * `--json` among the arguments (before a `--`): the command's caller reads JSON, so an error is
 * also one JSON object on stdout — `{"error":{"code","message","hint"?,"issues"?}}` — whatever the
 * command, even when the arguments themselves are what is wrong.
 */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** What `--json` prints on stdout for an error: one line, no stack. */
interface JsonError {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly hint?: string;
    readonly issues?: readonly PlanIssue[];
  };
}

/**
 * A command line commander refused (an unknown flag or command, a missing argument), as weft says
 * a mistake: the problem, and the fix — commander's did-you-mean, else where the right words are.
 */
function commanderProblem(error: CommanderError, given: string | undefined): { message: string; hint: string } {
  const [first = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
  const command = program.commands.find((c) => c.name() === given);
  const help =
    command === undefined ? '`weft --help` lists the commands' : `\`weft ${command.name()} --help\` shows its usage`;
  if (error.code === 'commander.conflictingOption') return conflictProblem(first, help);
  const similar = /^\(Did you mean (.*)\?\)$/.exec(rest.join(' ').trim())?.[1];
  return { message: first, hint: similar === undefined ? help : `did you mean ${similar}? ${help}` };
}

/** The one error boundary: a user's mistake is one line and an exit code, never a stack trace. */
async function main(argv: string[]): Promise<void> {
  if (argv.length <= 2) {
    // `weft` alone: what it can do, as a usage error so scripts notice.
    process.stderr.write(program.helpInformation());
    process.exitCode = EXIT.usage;
    return;
  }
  const json = wantsJson(argv.slice(2));
  // An error may quote a plan's value, a path or a command: a secret in it (of this environment, the
  // plan's, a secret var's `--set`) is masked.
  let redact: (text: string) => string = (text) => text;
  const report = (error: JsonError['error']): void => {
    if (json) process.stdout.write(`${JSON.stringify({ error: redactValue(error, redact) } satisfies JsonError)}\n`);
  };
  const say = (text: string): void => void process.stderr.write(redact(text));
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // Loaded only on an error: start-up stays as it was.
    // A plan's own secrets too (`env: { API_TOKEN: … }`), and a secret var's `--set` value.
    const files =
      error instanceof PlanValidationError || error instanceof ConfigValidationError
        ? error.issues.map((i) => i.file)
        : [];
    const { errorRedactor, setsOf } = await import('./secrets.js');
    redact = errorRedactor(process.env, [...files, ...argv.slice(2)], setsOf(argv.slice(2)));
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      if (error.exitCode !== 0) {
        const { message, hint } = commanderProblem(error, argv[2]);
        say(`weft: ${message}\n  ${hint}\n`);
        report({ code: 'WEFT_USAGE', message, hint });
      }
      return;
    }
    if (error instanceof PlanValidationError || error instanceof ConfigValidationError) {
      // One line per problem, `file:line:col …` so editors and terminals can jump to it.
      say(`${error.issues.map(formatPlanIssue).join('\n')}\n`);
      report({ code: error.code, message: error.message, issues: error.issues });
      process.exitCode = exitCodeForError(error.code);
      return;
    }
    if (isWeftError(error)) {
      say(`weft: ${error.message}${error.hint === undefined ? '' : `\n  ${error.hint}`}\n`);
      report({ code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) });
      process.exitCode = exitCodeForError(error.code);
      return;
    }
    say(
      `weft: internal error — please report it: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    report({
      code: 'WEFT_INTERNAL',
      message: `internal error — please report it: ${error instanceof Error ? error.message : String(error)}`,
    });
    process.exitCode = EXIT.internal;
  }
}

await main(process.argv);
// Timers a library left running (an exporter retrying to a collector that is down) must not hold
// the terminal after the command is done: end once what was written has gone out.
if (mustExit()) process.stdout.write('', () => process.exit());

/**
 * `weft run` options that only mean something with another: silently ignored, they would mislead.
 * And `--set` with `--goal`: a planned plan declares no vars, so every `--set` would be refused —
 * after the planner had been paid.
 */
function refuseUnpaired(
  opts: {
    port?: number;
    ui?: boolean;
    planner?: string;
    attempts?: string;
    yes?: boolean;
    goal?: string;
    resume?: boolean;
    sequential?: boolean;
    failFast?: boolean;
    isolation?: boolean;
    cache?: boolean;
    explainCache?: boolean;
    jobs?: number;
    set?: Readonly<Record<string, string>>;
  },
  plan: string | undefined,
): void {
  const needs = (flag: string, other: string): never => {
    throw new WeftError('WEFT_USAGE', `${flag} needs ${other}`, { hint: '`weft run --help` says what goes with what' });
  };
  if (opts.port !== undefined && opts.ui !== true) needs('--port', '--ui');
  if (opts.goal === undefined && opts.planner !== undefined) needs('--planner', '--goal');
  if (opts.goal === undefined && opts.attempts !== undefined) needs('--attempts', '--goal');
  if (opts.goal === undefined && opts.yes === true) needs('--yes', '--goal');
  if (opts.sequential === true && opts.jobs !== undefined)
    throw new WeftError('WEFT_USAGE', '--sequential runs one task at a time: it does not go with -j', {
      hint: 'leave out -j, or --sequential to run on M workers',
    });
  if (opts.goal !== undefined && opts.set !== undefined)
    throw new WeftError('WEFT_USAGE', '--set does not go with --goal: a planned plan declares no vars for it to set', {
      hint: 'write the plan first (weft plan "<goal>" -o plan.yaml), declare its vars, then weft run plan.yaml --set name=value',
    });
  if (opts.resume === true && (plan !== undefined || opts.goal !== undefined))
    throw new WeftError('WEFT_USAGE', '--resume continues the most recent unfinished run: it takes no plan or goal', {
      hint: '`weft resume <run>` continues another run; leave --resume out to start this plan',
    });
  // A resumed run keeps how it was started (its journal says); these would be dropped without a word.
  const startOnly = [
    ['--fail-fast', opts.failFast === true],
    ['--sequential', opts.sequential === true],
    ['--no-isolation', opts.isolation === false],
    ['--no-cache', opts.cache === false],
    ['--explain-cache', opts.explainCache === true],
    ['--ui', opts.ui === true],
  ] as const;
  const dropped = startOnly.find(([, given]) => given)?.[0];
  if (opts.resume === true && dropped !== undefined)
    throw new WeftError(
      'WEFT_USAGE',
      `${dropped} does not go with --resume: a resumed run keeps the options it started with`,
      {
        hint:
          '`weft resume --help` lists what a resume takes; leave it out, or start a new run: weft run <plan> ' +
          dropped,
      },
    );
}

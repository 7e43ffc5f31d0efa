import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { quote } from 'shell-quote';
import {
  attemptStem,
  type AbortCause,
  type Executor,
  type TaskContext,
  type TaskOutcome,
} from '../../core/ports/executor.js';
import type { TaskResultData } from '../../core/run/events.js';
import type { TaskSpec } from '../../core/plan/plan-schema.js';
import { attemptLogPaths, makeAttemptDir, tailFile, type AttemptLogPaths } from '../process/log-files.js';
import { scrubFile } from '../process/scrub-file.js';
import { outputPollMs, watchOutput } from '../process/output-watch.js';
import {
  applyLimits,
  processIssues,
  memoryExceededMessage,
  noteStderr,
  type AppliedLimits,
} from '../process/os-limits.js';
import { BWRAP_FIX, findBwrap, refusedWrite, sandboxArgv } from '../process/sandbox.js';
import { SpawnHelperPool } from '../process/spawn-helper.js';
import { helperPrograms, helperSettingOf, type HelperSetting } from '../process/helper-programs.js';
import { helperEnd, spawnTask, type ProcessEnd } from './task-process.js';
import { commandProblem, EMPTY, MAX_COMMAND_LENGTH, parseCommand } from './command.js';
import { checkOutput } from '../agents/structured-output.js';
import { checkNumbers, withDefaults } from '../../core/options.js';

/** The values of {@link ShellExecutorOptions} left out. */
export const SHELL_EXECUTOR_DEFAULTS = { killGraceMs: 3000, tailBytes: 2000 } as const;

/** Options of {@link ShellExecutor}; numbers are checked when it is made. */
export interface ShellExecutorOptions {
  /** How long a task may take to exit after SIGTERM before SIGKILL. @default 3000 */
  readonly killGraceMs?: number;
  /** Bytes of stderr kept in the failure for the report. @default 2000 */
  readonly tailBytes?: number;
  /**
   * Base environment, to which a task's `env` and WEFT_* are added. Through spawn helpers it is
   * read when a helper starts (the CLI stops them when a run ends). @default process.env
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Fork tasks from a small long-lived helper per worker (see process/spawn-helper.ts) rather than
   * from Node, whose every fork blocks its event loop: python's posix_spawn on Linux where python3
   * is installed, else bash. `'bash'` or `'python'` uses only that one; `false` spawns each task
   * from Node. WEFT_SPAWN_HELPER (0, bash, python) in the environment says the same.
   * @default true (python, else bash, else Node)
   */
  readonly spawnHelper?: HelperSetting;
}

/**
 * Runs a task's command as argv without a shell (unless `shell: true`), in its own process group,
 * so a timeout or Ctrl-C kills everything it started. Output goes to per-attempt log files. Tasks
 * are forked by spawn helpers when bash is there (call {@link endRun} when done), else by Node.
 */
export class ShellExecutor implements Executor {
  readonly name = 'shell';
  readonly version = '1';
  readonly info = {
    requires: 'run' as const,
    runsProcess: true,
    check(task: TaskSpec) {
      return [...processIssues(task), ...commandIssues(task)];
    },
  };

  private scratchDir: string | undefined;

  /** `null`: no helpers (switched off, or no bash). */
  private pool: SpawnHelperPool | null | undefined;

  private readonly options: ShellExecutorOptions & { readonly killGraceMs: number; readonly tailBytes: number };

  /** @throws {WeftError} `WEFT_USAGE` when `killGraceMs` or `tailBytes` is not a non-negative integer. */
  constructor(options: ShellExecutorOptions = {}) {
    this.options = withDefaults(SHELL_EXECUTOR_DEFAULTS, options);
    const rule = 'a non-negative integer';
    checkNumbers('ShellExecutor', this.options, { killGraceMs: rule, tailBytes: rule });
  }

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    const { task } = ctx;
    const run = task.run ?? [];
    let argv: readonly string[];
    // A list through the shell keeps its words whole: joined bare, [touch, 'a b'] made two files.
    if (task.shell === true) argv = ['/bin/sh', '-c', typeof run === 'string' ? run : quote(run)];
    else {
      const parsed = parseCommand(run);
      if ('error' in parsed)
        return {
          ok: false,
          failure: {
            message: `command ${parsed.error}; ${parsed.fix ?? 'set shell: true or write run as an argv list'}`,
          },
        };
      argv = parsed.argv;
    }
    // A spawn helper answers this itself; Node's spawn would call a missing cwd a missing command.
    if (this.helpers() === undefined && !existsSync(ctx.workdir))
      return { ok: false, failure: { message: `working directory ${ctx.workdir} does not exist` } };

    const logs = ctx.runDir === undefined ? undefined : attemptLogPaths(ctx.runDir, task.id, ctx.attempt, ctx.trial);
    const fresh = logs !== undefined && makeAttemptDir(logs);
    // What the task's env adds to the base one (copying all of process.env costs ~0.1 ms a task).
    const own: Record<string, string> = {
      ...task.env,
      WEFT_RUN_ID: ctx.runId,
      WEFT_TASK_ID: task.id,
      WEFT_ATTEMPT: String(ctx.attempt),
      WEFT_WORKER: String(ctx.worker),
    };
    if (ctx.iteration !== undefined) own.WEFT_ITERATION = String(ctx.iteration);
    const files = contextFiles(ctx, logs?.dir ?? this.scratch(), fresh);
    Object.assign(own, files.env);
    if (task.sandbox === true) {
      const bwrap = findBwrap(this.options.env ?? process.env);
      if (bwrap === undefined)
        return {
          ok: false,
          failure: { message: `sandbox: bubblewrap (bwrap) is not installed; ${BWRAP_FIX}`, code: 'WEFT_SANDBOX' },
        };
      // Its folder, the one holding WEFT_OUTPUT/WEFT_FEEDBACK and a TMPDIR of its own are all it may write.
      const tmp = join(dirname(files.output), `${ctx.attempt}.tmp`);
      own.TMPDIR = tmp;
      argv = sandboxArgv(bwrap, argv, { workdir: resolve(ctx.workdir), writable: [dirname(files.output), tmp] });
    }
    // Outside the sandbox: entering a cgroup writes to /sys/fs/cgroup, which the sandbox makes read-only.
    const limited = applyLimits(argv, task.limits, `${ctx.runId}.${task.id}.${ctx.attempt}`);
    try {
      return await this.spawnAndRead(ctx, limited?.argv ?? argv, own, logs, files.output, limited);
    } finally {
      limited?.release();
      // The feedback kept beside the logs (a conflict's lines, a check's output) may quote a secret as the logs do.
      const feedback = files.env.WEFT_FEEDBACK;
      if (ctx.redact !== undefined && feedback !== undefined) scrubFile(feedback, ctx.redact.secrets);
      files.dispose();
    }
  }

  private async spawnAndRead(
    ctx: TaskContext,
    argv: readonly string[],
    own: Record<string, string>,
    logs: AttemptLogPaths | undefined,
    outputFile: string,
    limited: AppliedLimits | undefined,
  ): Promise<TaskOutcome> {
    const { task } = ctx;
    const started = Date.now();
    const pool = this.helpers();
    // The watchdog counts output as progress; without log files there is none to see.
    const stopWatching =
      task.stallAfterMs === undefined || logs === undefined
        ? undefined
        : watchOutput([logs.stdout, logs.stderr], outputPollMs(task.stallAfterMs), (e) => ctx.emit(e));
    try {
      return await this.spawnAndWait(ctx, argv, own, logs, outputFile, pool, started, limited);
    } finally {
      stopWatching?.();
    }
  }

  private async spawnAndWait(
    ctx: TaskContext,
    argv: readonly string[],
    own: Record<string, string>,
    logs: AttemptLogPaths | undefined,
    outputFile: string,
    pool: SpawnHelperPool | undefined,
    started: number,
    limited: AppliedLimits | undefined,
  ): Promise<TaskOutcome> {
    const file = argv[0] as string;
    const { tailBytes, killGraceMs } = this.options;
    const cwd = resolve(ctx.workdir);
    let end: ProcessEnd | undefined;
    if (pool !== undefined) {
      const exit = await pool.run({
        argv,
        cwd,
        env: own,
        stdout: logs?.stdout ?? '/dev/null',
        stderr: logs?.stderr,
        signal: ctx.signal,
        killGraceMs,
        stderrTailBytes: tailBytes,
      });
      // A helper that could not be started (or died before forking, twice) never ran the task.
      if (exit !== undefined && !(exit.kind === 'helper-died' && !exit.started)) end = helperEnd(exit, file, cwd);
    }
    end ??= await spawnTask(argv, {
      cwd,
      env: { ...(this.options.env ?? process.env), ...own },
      logs,
      signal: ctx.signal,
      killGraceMs,
      tailBytes,
    });
    const durationMs = (end.endedAt ?? Date.now()) - (end.startedAt ?? started); // a wait to be forked is not the task's time
    // A task that printed a secret (`echo $API_KEY`) leaves no copy of it in its logs (its output file:
    // once read, so that its schema checks what the task wrote, not the mask).
    if (ctx.redact !== undefined)
      for (const path of [logs?.stdout, logs?.stderr]) if (path !== undefined) scrubFile(path, ctx.redact.secrets);
    const outcome = this.outcomeOf(ctx, end, logs, outputFile, limited, durationMs);
    if (ctx.redact !== undefined) scrubFile(outputFile, ctx.redact.secrets);
    return outcome;
  }

  private outcomeOf(
    ctx: TaskContext,
    end: ProcessEnd,
    logs: AttemptLogPaths | undefined,
    outputFile: string,
    limited: AppliedLimits | undefined,
    durationMs: number,
  ): TaskOutcome {
    const { task } = ctx;
    const { tailBytes } = this.options;
    if (end.error !== undefined) return { ok: false, failure: { message: end.error, exitCode: null, signal: null } };

    const { exitCode, signal } = end;
    const ran =
      end.startedAt === undefined
        ? {}
        : { startedAt: end.startedAt, ...(end.endedAt === undefined ? {} : { endedAt: end.endedAt }) };
    const stdoutTail = logs === undefined ? '' : tailFile(logs.stdout, 4000);
    const result = { exitCode, signal, ...(stdoutTail === '' ? {} : { text: stdoutTail }) };
    if (exitCode === 0) {
      // Written to WEFT_OUTPUT, it is the output (over stdout), like GitHub Actions' output file.
      if (existsSync(outputFile)) return { ...outputFileResult(task.outputSchema, outputFile, result), ...ran };
      if (task.outputSchema === undefined || logs === undefined) return { ok: true, result, ...ran };
      return { ...structured(task.outputSchema, logs.stdout, result), ...ran };
    }
    const stderrTail = logs === undefined ? (end.stderrTail ?? '') : tailFile(logs.stderr, tailBytes);
    const aborted = ctx.signal.aborted ? (ctx.signal.reason as AbortCause) : undefined;
    const refused = task.sandbox === true ? refusedWrite(stderrTail) : undefined;
    if (limited !== undefined) noteStderr(limited, stderrTail);
    if (limited?.memoryExceeded() === true && task.limits?.memory !== undefined)
      return {
        ok: false,
        failure: {
          message: `${memoryExceededMessage(task.limits.memory)} (${limited.how}): ${signal !== null ? `killed by ${signal}` : `exited with code ${exitCode}`}`,
          code: 'WEFT_LIMIT_EXCEEDED',
          exitCode,
          signal,
          ...(stderrTail === '' ? {} : { stderrTail }),
        },
        result,
        ...ran,
      };
    // A write the sandbox refused is named, so the user knows it was the sandbox and where.
    const refusal = refused === undefined ? '' : `; the sandbox refused a write outside the task's folder: ${refused}`;
    const message =
      aborted?.kind === 'timeout'
        ? `timed out after ${aborted.ms / 1000}s`
        : signal !== null
          ? `killed by ${signal}`
          : `exited with code ${exitCode}`;
    return {
      ok: false,
      failure: {
        message: `${message} after ${(durationMs / 1000).toFixed(1)}s${refusal}`,
        ...(refused === undefined ? {} : { code: 'WEFT_SANDBOX' as const }),
        exitCode,
        signal,
        timedOut: aborted?.kind === 'timeout',
        ...(stderrTail === '' ? {} : { stderrTail }),
      },
      result,
      ...ran,
    };
  }

  /** Stops the spawn helpers (they are started again if the executor runs another task). */
  async endRun(): Promise<void> {
    await this.pool?.close();
    if (this.scratchDir !== undefined) rmSync(this.scratchDir, { recursive: true, force: true });
    this.scratchDir = undefined;
  }

  /** For runs without a run folder: one scratch folder for the tasks' context files, made on first use. */
  private scratch(): { readonly dir: string } {
    this.scratchDir ??= mkdtempSync(join(tmpdir(), 'weft-shell-'));
    return { dir: this.scratchDir };
  }

  /** The spawn helpers, unless switched off or neither python nor bash is there. */
  private helpers(): SpawnHelperPool | undefined {
    if (this.pool === undefined) {
      const programs = helperPrograms(this.options.spawnHelper ?? helperSettingOf(process.env.WEFT_SPAWN_HELPER));
      this.pool = programs.length === 0 ? null : new SpawnHelperPool(programs, () => this.options.env ?? process.env);
    }
    return this.pool ?? undefined;
  }
}

/** Problems with the task's command that validation reports. */
function commandIssues(task: TaskSpec): { field: string; message: string; fix?: string }[] {
  if (task.run === undefined) return [];
  if (task.shell === true) {
    const text = typeof task.run === 'string' ? task.run : task.run.join(' ');
    // `sh -c ' '` runs nothing and succeeds: a check or a deploy that does nothing.
    if (text.trim() === '') return [{ field: 'run', message: `command ${EMPTY.error}`, fix: EMPTY.fix }];
    return text.length > MAX_COMMAND_LENGTH
      ? [
          {
            field: 'run',
            message: `command is ${text.length} characters long, over the ${MAX_COMMAND_LENGTH} a command may have`,
            fix: 'put the script in a file and run that file',
          },
        ]
      : [];
  }
  const problem = commandProblem(task.run);
  return problem === undefined
    ? []
    : [
        {
          field: 'run',
          message: `command ${problem.error}`,
          fix: problem.fix ?? 'set shell: true, or write run as an argv list',
        },
      ];
}

/** The most stdout a task with `outputSchema` may print: its output is read whole. */
const MAX_OUTPUT_BYTES = 1 << 20;

/**
 * A task with `outputSchema` prints its output as JSON: all of stdout, or its last line (a script
 * may log before it). Checked against the schema, it becomes the task's `output`, which `when`
 * conditions read as `tasks.<id>.output.<key>`.
 */
function structured(schema: Readonly<Record<string, unknown>>, stdout: string, result: TaskResultData): TaskOutcome {
  const text = tailFile(stdout, MAX_OUTPUT_BYTES + 1);
  const fail = (message: string): TaskOutcome => ({
    ok: false,
    failure: { message, code: 'WEFT_OUTPUT_SCHEMA', exitCode: 0, signal: null },
    result,
  });
  if (Buffer.byteLength(text) > MAX_OUTPUT_BYTES)
    return fail(`printed over ${MAX_OUTPUT_BYTES} bytes, but a task with outputSchema prints one JSON value`);
  const value = jsonOf(text) ?? jsonOf(text.slice(text.lastIndexOf('\n') + 1));
  if (value === undefined)
    return fail(
      'printed no JSON, but the task has an outputSchema: print one JSON value (all of stdout, or its last line)',
    );
  const checked = checkOutput(schema, value.json);
  return checked.ok ? { ok: true, result: { ...result, output: checked.value } } : fail(checked.message);
}

/** A task that wrote WEFT_OUTPUT: its JSON is the output, checked against `outputSchema` when there is one. */
function outputFileResult(
  schema: Readonly<Record<string, unknown>> | undefined,
  path: string,
  result: TaskResultData,
): TaskOutcome {
  const fail = (message: string): TaskOutcome => ({
    ok: false,
    failure: { message, code: 'WEFT_OUTPUT_SCHEMA', exitCode: 0, signal: null },
    result,
  });
  const text = tailFile(path, MAX_OUTPUT_BYTES + 1);
  if (Buffer.byteLength(text) > MAX_OUTPUT_BYTES)
    return fail(`wrote over ${MAX_OUTPUT_BYTES} bytes to WEFT_OUTPUT, which holds one JSON value`);
  const value = jsonOf(text);
  if (value === undefined) return fail('wrote no valid JSON to WEFT_OUTPUT: write one JSON value there (or nothing)');
  if (schema === undefined) return { ok: true, result: { ...result, output: value.json as Record<string, unknown> } };
  const checked = checkOutput(schema, value.json);
  return checked.ok ? { ok: true, result: { ...result, output: checked.value } } : fail(checked.message);
}

/** The files an attempt shares with its process, named in its environment, and how to clean up after it. */
interface ContextFiles {
  readonly env: Readonly<Record<string, string>>;
  /** Where the task may write its output (WEFT_OUTPUT). */
  readonly output: string;
  dispose(): void;
}

/**
 * What an agent gets, for a script: `WEFT_FEEDBACK` (a file with the failure routed back to it;
 * only on a fix), `WEFT_INPUTS` (a JSON file with the results of the tasks it needs; only when it
 * needs any), `WEFT_CONTRACTS` (a JSON file: each contract it provides or consumes by name, with
 * its `role`, `provider`, `consumers`, `description` and `schema`; only when it is on a side of
 * one) and `WEFT_OUTPUT` (where JSON it writes becomes its output). They live beside the
 * attempt's logs (`<runDir>/tasks/<id>/<attempt>.*`), or in the executor's scratch folder (removed after the attempt).
 */
function contextFiles(ctx: TaskContext, where: string | { readonly dir: string }, fresh: boolean): ContextFiles {
  const scratch = typeof where !== 'string';
  const dir = scratch ? where.dir : where;
  // In a shared scratch folder, names must not collide between runs and tasks.
  const stem = attemptStem(ctx.attempt, ctx.trial);
  const prefix = scratch ? `${ctx.runId}.${ctx.task.id}.${stem}.` : `${stem}.`;
  const output = join(dir, `${prefix}output.json`);
  // A file left by an earlier life of this attempt number (a crash) must not pass for this one's;
  // a folder made just now holds none.
  if (!fresh) rmSync(output, { force: true });
  const env: Record<string, string> = { WEFT_OUTPUT: output };
  if (ctx.feedback !== undefined) {
    const path = join(dir, `${prefix}feedback.txt`);
    writeFileSync(path, ctx.feedback.endsWith('\n') ? ctx.feedback : `${ctx.feedback}\n`);
    env.WEFT_FEEDBACK = path;
  }
  if (ctx.task.needs.length > 0) {
    const path = join(dir, `${prefix}inputs.json`);
    writeFileSync(path, `${JSON.stringify(ctx.inputs, null, 2)}\n`);
    env.WEFT_INPUTS = path;
  }
  const contracts = ctx.task.contracts;
  if (contracts !== undefined && contracts.length > 0) {
    const path = join(dir, `${prefix}contracts.json`);
    const byName = Object.fromEntries(contracts.map(({ name, ...side }) => [name, side]));
    writeFileSync(path, `${JSON.stringify(byName, null, 2)}\n`);
    env.WEFT_CONTRACTS = path;
  }
  const dispose = (): void => {
    if (scratch)
      for (const path of [output, env.WEFT_FEEDBACK, env.WEFT_INPUTS, env.WEFT_CONTRACTS])
        if (path !== undefined) rmSync(path, { force: true });
  };
  return { env, output, dispose };
}

function jsonOf(text: string): { readonly json: unknown } | undefined {
  try {
    return { json: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

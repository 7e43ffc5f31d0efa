import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { homedir } from 'node:os';
import type { ProgressEvent } from '../../core/run/events.js';
import type { Executor, RunEnd, TaskContext, TaskOutcome } from '../../core/ports/executor.js';
import type { TaskFailure } from '../../core/errors.js';
import type { Price } from '../../core/run/pricing.js';
import type { ExecutorInfo } from '../../core/plan/compile.js';
import { composePrompt } from '../llm/prompt.js';
import { attemptLogPaths, type AttemptLogPaths } from '../process/log-files.js';
import { scrubFile } from '../process/scrub-file.js';
import { spawnLines, type LineProcessExit } from '../process/spawn-lines.js';
import { isRecord, oneLine, type AgentEventParser, type AgentReport } from './agent-report.js';
import { agentOutcome, fail, notFoundMessage, type AgentNames } from './agent-outcome.js';
import { checkCli } from './cli-version.js';
import { dropRunState, runStateDir } from './agent-state.js';
import { agentHomeEntries, BWRAP_FIX, findBwrap, sandboxArgv } from '../process/sandbox.js';
import { applyLimits, cgroupRoot } from '../process/os-limits.js';
import { overMemoryLimit } from './agent-limits.js';
import { checkNumbers } from '../../core/options.js';
import type { AgentSettings } from '../executor-settings.js';

/**
 * Settings shared by the agent CLI executors. The ones `weft.config.yaml` `executors.<name>` sets
 * (`bin`, `model`, `args`, `permissionMode`, `baseUrl`, `apiKeyEnv`) come from
 * `AgentSettingsSchema` in `executor-settings.ts`, where each is described; the rest are for code.
 */
export interface AgentExecutorOptions extends Readonly<AgentSettings> {
  /** Base environment; the user's login and settings come with it. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Root of the per-task CLI state (see `agent-state.ts`). @default $XDG_STATE_HOME/weft/agents */
  readonly stateDir?: string;
  /**
   * How often the CLI itself may retry a failed API call before it gives up and weft's back-off
   * takes over. @default 1 for Claude (its retry reports the server's retry-after) and Codex, 0 for Gemini
   */
  readonly maxRetries?: number;
  /** How long the CLI may take to exit after SIGTERM before SIGKILL. @default 3000 */
  readonly killGraceMs?: number;
  /** Prices for CLIs that report tokens but no cost. @default DEFAULT_PRICES */
  readonly prices?: Readonly<Record<string, Price>>;
}

/** What the subclass needs to know of a CLI. */
export interface CliDescription {
  /** `claude`: names the executor, its provider pool and its state folder. */
  readonly name: string;
  readonly defaultBin: string;
  /** How to get it, shown when the binary is missing. */
  readonly install: string;
  /** The env var a user sets for an API key, named in authentication failures. */
  readonly apiKeyVar: string;
  /** How a user logs in instead, named in authentication failures. */
  readonly login: string;
  /** Lines the CLI always prints on stderr, which say nothing about a failure (left out of its reason). */
  readonly stderrNoise?: RegExp;
}

/**
 * The watchdog's default for agent CLIs (a task's `stallAfter` overrides it): an agent emits an
 * event per message and tool call, so ten silent minutes means a hung tool or a hung CLI.
 */
export const AGENT_STALL_AFTER_MS = 600_000;

/** One spawn of the CLI. */
export interface Invocation {
  readonly args: readonly string[];
  /** Added to the base env (after weft's defaults, before the task's `env`). */
  readonly env: Readonly<Record<string, string>>;
  readonly parser: AgentEventParser;
  /** Runs after the process ended (remove temp files, persist totals). */
  readonly cleanup?: (report: AgentReport) => Promise<void>;
}

/** What {@link AgentCliExecutor.invocation} gets for one spawn. */
export interface InvocationRequest {
  /** The session to continue, if any. */
  readonly sessionId: string | undefined;
  /** The whole prompt: the task's (with inputs) or, when resuming, what to do next. */
  readonly prompt: string;
  /** The base env as the CLI will see it (for finding the user's config). */
  readonly baseEnv: NodeJS.ProcessEnv;
}

/**
 * The agent CLI executors' common part: checks the binary once, spawns the CLI with the prompt as
 * an argv element (no shell) in the task's workdir with stdin closed and in its own process group
 * (killed on abort), tees its raw output into the attempt's log files, turns its JSON events into
 * progress, and maps the end into a {@link TaskOutcome} (see {@link agentOutcome}).
 */
export abstract class AgentCliExecutor implements Executor {
  abstract readonly name: string;
  readonly version = '1';
  abstract readonly info: ExecutorInfo & { readonly requires: 'prompt'; readonly provider: string };

  protected constructor(
    protected readonly cli: CliDescription,
    protected readonly options: AgentExecutorOptions = {},
  ) {
    // Both have defaults that differ by CLI or live in spawnLines: checked when given.
    const rule = 'a non-negative integer';
    checkNumbers(`${cli.name} executor`, options, { maxRetries: rule, killGraceMs: rule });
  }

  /** Deletes the run's per-task CLI state once it succeeded (see `agent-state.ts`). */
  async endRun(end: RunEnd): Promise<void> {
    await dropRunState(this.options.stateDir, this.options.env ?? process.env, end);
  }

  /** The argv, env and parser for one spawn. */
  protected abstract invocation(ctx: TaskContext, request: InvocationRequest): Promise<Invocation>;

  protected get bin(): string {
    return this.options.bin ?? this.cli.defaultBin;
  }

  /** What its failure messages name (see `agent-outcome.ts`). */
  private get names(): AgentNames {
    return { cli: this.cli, executor: this.name, bin: this.bin, apiKeyEnv: this.options.apiKeyEnv };
  }

  /** Env every spawn of this CLI gets on top of the base env (retry caps, base URL, API key). */
  protected defaultEnv(_base: NodeJS.ProcessEnv): Record<string, string> {
    return {};
  }

  /** A reason not to start at all (a setting the CLI would reject without saying why). */
  protected preflight(_ctx: TaskContext, _env: NodeJS.ProcessEnv): string | undefined {
    return undefined;
  }

  /** The model for a task: the task's, else the configured one; `undefined`: the CLI's own default. */
  modelFor(task: { readonly model?: string | undefined }): string | undefined {
    return task.model ?? this.options.model;
  }

  /** `<bin> --version`, once per binary and process; a message saying what to install when it fails. */
  private async checkBin(): Promise<{ ok: true; version: string } | { ok: false; message: string }> {
    const baseEnv = this.options.env ?? process.env;
    const check = await checkCli(this.bin, { ...baseEnv, ...this.defaultEnv(baseEnv) });
    if (check.ok) return check;
    return {
      ok: false,
      message: check.missing ? notFoundMessage(this.names) : check.message,
    };
  }

  /** The CLI must be installed; whether it is logged in only a run can tell (a login needs no variable). */
  async checkSetup(): Promise<string | undefined> {
    const check = await this.checkBin();
    return check.ok ? undefined : check.message;
  }

  async run(ctx: TaskContext): Promise<TaskOutcome> {
    if (!existsSync(ctx.workdir))
      return fail({ message: `working directory ${ctx.workdir} does not exist`, code: 'WEFT_EXECUTOR' });
    const baseEnv = this.options.env ?? process.env;
    const check = await this.checkBin();
    if (!check.ok) return fail({ message: check.message, code: 'WEFT_EXECUTOR' });
    ctx.emit({ kind: 'status', message: `${this.cli.name} ${check.version}` });
    if (ctx.task.sandbox === true && findBwrap(baseEnv) === undefined)
      return fail({ message: `sandbox: bubblewrap (bwrap) is not installed; ${BWRAP_FIX}`, code: 'WEFT_SANDBOX' });
    const refusal = this.preflight(ctx, { ...baseEnv, ...ctx.task.env });
    if (refusal !== undefined) return fail({ message: `${this.cli.name}: ${refusal}`, code: 'WEFT_EXECUTOR' });

    const logs =
      ctx.runDir === undefined ? undefined : openLogs(attemptLogPaths(ctx.runDir, ctx.task.id, ctx.attempt, ctx.trial));
    try {
      let sessionId = ctx.sessionId;
      for (;;) {
        const prompt = sessionId === undefined ? composePrompt(ctx) : resumePrompt(ctx);
        const invocation = await this.invocation(ctx, { sessionId, prompt, baseEnv });
        const { exit, report, shownUsage, overLimit } = await this.spawn(ctx, invocation, baseEnv, logs);
        await invocation.cleanup?.(report);
        if (
          sessionId !== undefined &&
          report.error?.kind === 'session-not-found' &&
          !ctx.signal.aborted &&
          exit.spawnError === undefined
        ) {
          // The session is gone (another machine, state deleted): start over rather than fail forever.
          ctx.emit({ kind: 'status', message: `session ${sessionId} not found; starting a new session` });
          sessionId = undefined;
          continue;
        }
        if (report.usage !== undefined && JSON.stringify(report.usage) !== shownUsage)
          ctx.emit({ kind: 'usage', usage: report.usage });
        const outcome = agentOutcome(ctx, report, exit, this.names);
        const over = overLimit?.(outcome.ok);
        if (over === undefined) return outcome;
        // What it spent and said stays in the report.
        return { ok: false, failure: over, ...(outcome.result === undefined ? {} : { result: outcome.result }) };
      }
    } finally {
      await logs?.close();
      // Whatever the agent printed (a tool's output can hold a secret) leaves no copy of it in the logs.
      if (logs !== undefined && ctx.redact !== undefined)
        for (const path of [logs.paths.stdout, logs.paths.stderr]) scrubFile(path, ctx.redact.secrets);
    }
  }

  /** One run of the CLI: its events become progress as they come; the parser may ask to stop it. */
  private async spawn(
    ctx: TaskContext,
    invocation: Invocation,
    baseEnv: NodeJS.ProcessEnv,
    logs: AttemptLogs | undefined,
  ): Promise<{
    exit: LineProcessExit;
    report: AgentReport;
    shownUsage: string | undefined;
    /** The failure when the attempt went over its memory limit, asked with whether the agent ended well. */
    overLimit?: (ended: boolean) => TaskFailure | undefined;
  }> {
    const { parser } = invocation;
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      ...this.defaultEnv(baseEnv),
      ...invocation.env,
      ...ctx.task.env,
      WEFT_RUN_ID: ctx.runId,
      WEFT_TASK_ID: ctx.task.id,
      WEFT_ATTEMPT: String(ctx.attempt),
      WEFT_WORKER: String(ctx.worker),
      ...(ctx.iteration === undefined ? {} : { WEFT_ITERATION: String(ctx.iteration) }),
    };
    // Claude Code refuses to start inside another Claude Code session it can see.
    delete env['CLAUDECODE'];
    // Aborted by the engine (timeout, Ctrl-C, budget) or by the parser (a retry beyond weft's cap, the turn limit).
    const stop = new AbortController();
    const forward = (): void => stop.abort(ctx.signal.reason);
    if (ctx.signal.aborted) forward();
    else ctx.signal.addEventListener('abort', forward, { once: true });
    let shownUsage: string | undefined;
    const show = (events: ProgressEvent[]): void => {
      for (const event of events) {
        if (event.kind === 'usage') shownUsage = JSON.stringify(event.usage);
        ctx.emit(event);
      }
      if (parser.stopRequest !== undefined && !stop.signal.aborted) {
        ctx.emit({ kind: 'status', message: `stopping ${this.cli.name}: ${oneLine(parser.stopRequest.message, 160)}` });
        stop.abort();
      }
    };
    let [file, ...args] = [this.bin, ...invocation.args];
    if (ctx.task.sandbox === true) {
      const bwrap = findBwrap(baseEnv) as string; // checked in run()
      const home = baseEnv['HOME'] || homedir();
      const entries = agentHomeEntries(this.cli.name, home);
      // The agent's state for this run (its config dir, sessions) stays writable, as does its folder.
      const state = runStateDir(this.options.stateDir, baseEnv, ctx.runId);
      const wrapped = sandboxArgv(bwrap, [file, ...args], {
        workdir: ctx.workdir,
        writable: [state, ...entries.writable],
        readable: entries.readable,
        home,
      });
      [file, ...args] = wrapped as [string, ...string[]];
    }
    // An agent is a process tree like a shell task: the CLI and every tool it runs share one cgroup
    // (outside the sandbox, which makes /sys/fs/cgroup read-only).
    const limits = ctx.task.limits;
    const limited = applyLimits(
      [file, ...args],
      limits,
      `${ctx.runId}.${ctx.task.id}.${ctx.attempt}`,
      cgroupRoot(baseEnv),
    );
    if (limited !== undefined) [file, ...args] = limited.argv as [string, ...string[]];
    try {
      const ran = await spawnLines(file, args, {
        cwd: ctx.workdir,
        env,
        signal: stop.signal,
        onLine: (line) => show(parseLine(parser, line)),
        ...(parser.stderr === undefined ? {} : { onStderrLine: (line: string) => show(parser.stderr?.(line) ?? []) }),
        ...(logs === undefined ? {} : { stdoutLog: logs.stdout, stderrLog: logs.stderr }),
        ...(this.options.killGraceMs === undefined ? {} : { killGraceMs: this.options.killGraceMs }),
      });
      const noise = this.cli.stderrNoise;
      const quiet = noise === undefined ? ran.stderrTail : ran.stderrTail.replace(new RegExp(noise, 'gm'), '').trim();
      const exit = quiet === ran.stderrTail ? ran : { ...ran, stderrTail: quiet };
      const report = parser.finish({ exitCode: exit.exitCode, stderrTail: exit.stderrTail });
      if (limited === undefined || limits?.memory === undefined) return { exit, report, shownUsage };
      // Read now, before release() removes the cgroup.
      const overLimit = overMemoryLimit(limited, limits.memory, exit, stop.signal.aborted, this.cli.name);
      return { exit, report, shownUsage, overLimit };
    } finally {
      ctx.signal.removeEventListener('abort', forward);
      limited?.release();
    }
  }
}

/** The attempt's log files, open for the CLI's raw output. */
interface AttemptLogs {
  readonly paths: AttemptLogPaths;
  readonly stdout: WriteStream;
  readonly stderr: WriteStream;
  close(): Promise<void>;
}

function openLogs(paths: AttemptLogPaths): AttemptLogs {
  mkdirSync(paths.dir, { recursive: true });
  const stdout = createWriteStream(paths.stdout);
  const stderr = createWriteStream(paths.stderr);
  const end = (s: WriteStream): Promise<void> => new Promise((resolve) => s.end(resolve));
  return { paths, stdout, stderr, close: async () => void (await Promise.all([end(stdout), end(stderr)])) };
}

/** One stdout line to the parser: JSON objects as events, anything else as text. */
function parseLine(parser: AgentEventParser, line: string): ProgressEvent[] {
  const trimmed = line.trim();
  if (trimmed === '') return [];
  let parsed: unknown;
  try {
    parsed = trimmed.startsWith('{') ? JSON.parse(trimmed) : undefined;
  } catch {
    parsed = undefined;
  }
  return isRecord(parsed) ? parser.event(parsed) : (parser.text?.(trimmed) ?? []);
}

/**
 * What a resumed session is told: the fix request for a routed-back fix, else to carry on (the
 * workdir may have been reset since). The task and its inputs are repeated so nothing depends on
 * the old conversation having got far.
 */
export function resumePrompt(ctx: TaskContext): string {
  if (ctx.feedback !== undefined) return composePrompt(ctx);
  return [
    'Your previous attempt at this task ended before it finished. Check the files as they are now (they may have been reset), then carry on and finish the task:',
    '',
    composePrompt(ctx),
  ].join('\n');
}

import type { TaskContext } from '../../core/ports/executor.js';
import {
  AgentCliExecutor,
  type AgentExecutorOptions,
  type Invocation,
  type InvocationRequest,
  AGENT_STALL_AFTER_MS,
} from './agent-cli-executor.js';
import { processIssues } from '../process/os-limits.js';
import { GeminiEvents } from './gemini-events.js';
import { geminiApprovalMode } from './permission-mode.js';
import { outputInstruction } from './structured-output.js';

/**
 * Runs a task with Gemini CLI, headless:
 *
 * `gemini -o stream-json [-m M] --approval-mode <mode> --skip-trust [--allowed-tools T…]
 *  [--resume <session>] [args…] --prompt=<prompt>`
 *
 * in the task's workdir (`--skip-trust`: weft chose to run the agent there, and an untrusted
 * folder would end a headless run with exit 55; `--prompt=` keeps a prompt that starts with "-"
 * a prompt). Gemini CLI has no schema flag: with `outputSchema` the prompt asks for a bare JSON
 * answer, which weft parses and validates. It has no flag or env var for its retries or turns
 * either, and only reads settings from the user's and the workspace's files (or root-owned
 * system files), so weft applies `maxRetries` (default 0) and `maxTurns` itself, watching its
 * output, and stops it when they are passed (see {@link GeminiEvents}). Its state needs no
 * isolation (see `agent-state.ts`). `GOOGLE_GEMINI_BASE_URL` and `GEMINI_API_KEY` come from
 * `baseUrl` / `apiKeyEnv` when set; `GEMINI_CLI_NO_RELAUNCH=true` unless the environment says
 * otherwise (a second start of a large bundle, only for a bigger heap).
 */
export class GeminiExecutor extends AgentCliExecutor {
  readonly name = 'gemini';
  readonly info = {
    requires: 'prompt' as const,
    provider: 'gemini',
    stallAfterMs: AGENT_STALL_AFTER_MS,
    runsProcess: true,
    check: processIssues,
  };

  constructor(options: AgentExecutorOptions = {}) {
    super(
      {
        name: 'gemini',
        defaultBin: 'gemini',
        install: 'npm i -g @google/gemini-cli',
        apiKeyVar: 'GEMINI_API_KEY',
        login: 'log in by running `gemini` once',
      },
      options,
    );
  }

  protected override defaultEnv(base: NodeJS.ProcessEnv): Record<string, string> {
    const env: Record<string, string> = {};
    if (base['GEMINI_CLI_NO_RELAUNCH'] === undefined) env['GEMINI_CLI_NO_RELAUNCH'] = 'true';
    if (this.options.baseUrl !== undefined) env['GOOGLE_GEMINI_BASE_URL'] = this.options.baseUrl;
    const key = this.options.apiKeyEnv === undefined ? undefined : base[this.options.apiKeyEnv];
    if (key !== undefined) env['GEMINI_API_KEY'] = key;
    return env;
  }

  protected invocation(ctx: TaskContext, request: InvocationRequest): Promise<Invocation> {
    const { task } = ctx;
    const model = this.modelFor(ctx.task);
    const args = ['-o', 'stream-json'];
    if (model !== undefined) args.push('-m', model);
    args.push(
      '--approval-mode',
      geminiApprovalMode(task.permissionMode ?? this.options.permissionMode),
      '--skip-trust',
    );
    if (task.allowedTools !== undefined && task.allowedTools.length > 0)
      args.push('--allowed-tools', ...task.allowedTools);
    if (request.sessionId !== undefined) args.push('--resume', request.sessionId);
    args.push(...(this.options.args ?? []));
    const prompt =
      task.outputSchema === undefined ? request.prompt : `${request.prompt}\n${outputInstruction(task.outputSchema)}`;
    args.push(`--prompt=${prompt}`);
    const parser = new GeminiEvents({
      ...(model === undefined ? {} : { model }),
      ...(this.options.prices === undefined ? {} : { prices: this.options.prices }),
      maxRetries: this.options.maxRetries ?? 0,
      ...(task.maxTurns === undefined ? {} : { maxTurns: task.maxTurns }),
    });
    return Promise.resolve({ args, env: {}, parser });
  }
}

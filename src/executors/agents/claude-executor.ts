import type { TaskContext } from '../../core/ports/executor.js';
import {
  AgentCliExecutor,
  type AgentExecutorOptions,
  type Invocation,
  type InvocationRequest,
  AGENT_STALL_AFTER_MS,
} from './agent-cli-executor.js';
import { processIssues } from '../process/os-limits.js';
import { claudeConfigEnv, taskStateDir } from './agent-state.js';
import { ClaudeEvents } from './claude-events.js';
import { claudePermissionMode } from './permission-mode.js';

/**
 * Runs a task with Claude Code, headless:
 *
 * `claude -p --output-format stream-json --verbose [--model M] [--max-turns N]
 *  --permission-mode <mode> [--json-schema <schema>] [--resume <session>] [args…]
 *  [--allowedTools T…] -- <prompt>`
 *
 * in the task's workdir, with `CLAUDE_CODE_MAX_RETRIES` capped (default 1: its one retry honours
 * and reports the server's retry-after, which weft then reuses) and a per-task config dir that
 * keeps the user's login and settings (see `agent-state.ts`). `ANTHROPIC_BASE_URL` and
 * `ANTHROPIC_API_KEY` come from `baseUrl` / `apiKeyEnv` when set.
 *
 * @example
 * new ClaudeExecutor({ model: 'sonnet', permissionMode: 'acceptEdits' })
 */
export class ClaudeExecutor extends AgentCliExecutor {
  readonly name = 'claude';
  readonly info = {
    requires: 'prompt' as const,
    provider: 'claude',
    stallAfterMs: AGENT_STALL_AFTER_MS,
    runsProcess: true,
    check: processIssues,
  };

  constructor(options: AgentExecutorOptions = {}) {
    super(
      {
        name: 'claude',
        defaultBin: 'claude',
        install: 'npm i -g @anthropic-ai/claude-code',
        apiKeyVar: 'ANTHROPIC_API_KEY',
        login: 'log in with `claude` then /login',
      },
      options,
    );
  }

  protected override defaultEnv(base: NodeJS.ProcessEnv): Record<string, string> {
    const env: Record<string, string> = { CLAUDE_CODE_MAX_RETRIES: String(this.options.maxRetries ?? 1) };
    if (this.options.baseUrl !== undefined) env['ANTHROPIC_BASE_URL'] = this.options.baseUrl;
    const key = this.options.apiKeyEnv === undefined ? undefined : base[this.options.apiKeyEnv];
    if (key !== undefined) env['ANTHROPIC_API_KEY'] = key;
    return env;
  }

  protected override preflight(ctx: TaskContext, env: NodeJS.ProcessEnv): string | undefined {
    const mode = claudePermissionMode(ctx.task.permissionMode ?? this.options.permissionMode);
    // Claude exits 1 without a word in this case.
    if (mode === 'bypassPermissions' && process.getuid?.() === 0 && env['IS_SANDBOX'] !== '1') {
      return 'permission mode bypassPermissions is refused when running as root; set IS_SANDBOX=1 in the task env if this machine is a sandbox, or use acceptEdits';
    }
    return undefined;
  }

  protected async invocation(ctx: TaskContext, request: InvocationRequest): Promise<Invocation> {
    const { task } = ctx;
    const dir = await taskStateDir(this.options.stateDir, request.baseEnv, ctx.runId, 'claude', task.id);
    const env = await claudeConfigEnv(dir, request.baseEnv);
    const model = this.modelFor(ctx.task);
    const args = ['-p', '--output-format', 'stream-json', '--verbose'];
    if (model !== undefined) args.push('--model', model);
    if (task.maxTurns !== undefined) args.push('--max-turns', String(task.maxTurns));
    args.push('--permission-mode', claudePermissionMode(task.permissionMode ?? this.options.permissionMode));
    if (task.outputSchema !== undefined) args.push('--json-schema', JSON.stringify(task.outputSchema));
    if (request.sessionId !== undefined) args.push('--resume', request.sessionId);
    args.push(...(this.options.args ?? []));
    // Variadic, so last; `--` ends it and keeps a prompt that starts with "-" a prompt.
    if (task.allowedTools !== undefined && task.allowedTools.length > 0)
      args.push('--allowedTools', ...task.allowedTools);
    args.push('--', request.prompt);
    return { args, env, parser: new ClaudeEvents(this.options.prices) };
  }
}

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TaskContext } from '../../core/ports/executor.js';
import {
  AgentCliExecutor,
  type AgentExecutorOptions,
  type Invocation,
  type InvocationRequest,
  AGENT_STALL_AFTER_MS,
} from './agent-cli-executor.js';
import { processIssues } from '../process/os-limits.js';
import { taskStateDir } from './agent-state.js';
import { CodexEvents, type CodexTotals } from './codex-events.js';
import { codexSandboxMode } from './permission-mode.js';

/**
 * Runs a task with the Codex CLI, headless. A new session:
 *
 * `codex exec [provider] --json --skip-git-repo-check -C <workdir> -s <sandbox> [-m M]
 *  [--output-schema <file>] [args…] -- <prompt>`
 *
 * and to continue one (`exec resume` takes neither `-C` nor `-s`: it runs in the process cwd,
 * which is the workdir, and would default to read-only):
 *
 * `codex exec resume [provider] -c sandbox_mode="<sandbox>" --json --skip-git-repo-check [-m M]
 *  [--output-schema <file>] [args…] -- <thread_id> <prompt>`
 *
 * `[provider]`, only with `baseUrl`: `-c model_provider=weft -c model_providers.weft={…}` with
 * `stream_max_retries`/`request_max_retries` = `maxRetries` (default 1). Codex applies those caps
 * to custom providers only, so against OpenAI itself its built-in retries stand (a few, with
 * back-off); an unreachable endpoint it retries forever, which the task's `timeout` ends.
 * `apiKeyEnv` names the provider's `env_key`, or without `baseUrl` is passed as `CODEX_API_KEY`.
 * Each task gets its own `CODEX_SQLITE_HOME` (see `agent-state.ts`). `maxTurns` and
 * `allowedTools` have no Codex equivalent and are ignored; `--output-schema` needs a schema
 * OpenAI's strict mode accepts (`additionalProperties: false`, every property required).
 */
export class CodexExecutor extends AgentCliExecutor {
  readonly name = 'codex';
  readonly info = {
    requires: 'prompt' as const,
    provider: 'codex',
    stallAfterMs: AGENT_STALL_AFTER_MS,
    runsProcess: true,
    check: processIssues,
  };

  constructor(options: AgentExecutorOptions = {}) {
    super(
      {
        name: 'codex',
        defaultBin: 'codex',
        install: 'npm i -g @openai/codex',
        apiKeyVar: 'OPENAI_API_KEY',
        login: 'log in with `codex login`',
        // Printed whenever its stdin is no terminal, also after a failure: not a reason.
        stderrNoise: /^Reading additional input from stdin\.\.\.\n?/,
      },
      options,
    );
  }

  protected override defaultEnv(base: NodeJS.ProcessEnv): Record<string, string> {
    const key =
      this.options.apiKeyEnv === undefined || this.options.baseUrl !== undefined
        ? undefined
        : base[this.options.apiKeyEnv];
    return key === undefined ? {} : { CODEX_API_KEY: key };
  }

  private providerArgs(): string[] {
    if (this.options.baseUrl === undefined) return [];
    const n = this.options.maxRetries ?? 1;
    const provider = `{name="weft",base_url=${JSON.stringify(this.options.baseUrl)},env_key=${JSON.stringify(this.options.apiKeyEnv ?? 'OPENAI_API_KEY')},wire_api="responses",stream_max_retries=${n},request_max_retries=${n}}`;
    return ['-c', 'model_provider=weft', '-c', `model_providers.weft=${provider}`];
  }

  protected async invocation(ctx: TaskContext, request: InvocationRequest): Promise<Invocation> {
    const { task } = ctx;
    const dir = await taskStateDir(this.options.stateDir, request.baseEnv, ctx.runId, 'codex', task.id);
    const sandbox = codexSandboxMode(task.permissionMode ?? this.options.permissionMode);
    const model = this.modelFor(ctx.task);
    const resuming = request.sessionId !== undefined;
    const args = resuming
      ? ['exec', 'resume', ...this.providerArgs(), '-c', `sandbox_mode="${sandbox}"`]
      : ['exec', ...this.providerArgs()];
    args.push('--json', '--skip-git-repo-check');
    if (!resuming) args.push('-C', ctx.workdir, '-s', sandbox);
    if (model !== undefined) args.push('-m', model);
    let schemaFile: string | undefined;
    if (task.outputSchema !== undefined) {
      schemaFile = join(dir, `output-schema-${ctx.attempt}.json`);
      await writeFile(schemaFile, JSON.stringify(task.outputSchema));
      args.push('--output-schema', schemaFile);
    }
    args.push(...(this.options.args ?? []), '--');
    if (request.sessionId !== undefined) args.push(request.sessionId);
    args.push(request.prompt);

    const previous = request.sessionId === undefined ? undefined : await readTotals(dir, request.sessionId);
    const parser = new CodexEvents({
      ...(model === undefined ? {} : { model }),
      ...(this.options.prices === undefined ? {} : { prices: this.options.prices }),
      ...(previous === undefined ? {} : { previous }),
    });
    return {
      args,
      env: { CODEX_SQLITE_HOME: dir },
      parser,
      cleanup: async (report) => {
        if (schemaFile !== undefined) await rm(schemaFile, { force: true });
        if (report.sessionId !== undefined && parser.totals !== undefined)
          await writeFile(totalsFile(dir, report.sessionId), JSON.stringify(parser.totals));
      },
    };
  }
}

function totalsFile(dir: string, threadId: string): string {
  return join(dir, `thread-${threadId.replace(/[^A-Za-z0-9-]/g, '_')}.json`);
}

/** The thread's totals as of its last run here, if weft saw it. */
async function readTotals(dir: string, threadId: string): Promise<CodexTotals | undefined> {
  try {
    const value = JSON.parse(await readFile(totalsFile(dir, threadId), 'utf8')) as Partial<CodexTotals>;
    return typeof value.input === 'number' && typeof value.output === 'number'
      ? { input: value.input, output: value.output, cached: value.cached ?? 0, cacheWrite: value.cacheWrite ?? 0 }
      : undefined;
  } catch {
    return undefined;
  }
}

import type { TaskFailure } from '../../core/errors.js';
import type { TaskResultData } from '../../core/run/events.js';
import type { AbortCause, TaskContext, TaskOutcome } from '../../core/ports/executor.js';
import type { LineProcessExit } from '../process/spawn-lines.js';
import { isTransient, oneLine, type AgentError, type AgentReport } from './agent-report.js';
import type { CliDescription } from './agent-cli-executor.js';
import { checkOutput, parseJsonAnswer, schemaFix } from './structured-output.js';

/** What an agent's failure messages name, so that a user knows what to fix. */
export interface AgentNames {
  readonly cli: CliDescription;
  /** The executor's name, as under `executors.<name>` in `weft.config.yaml`. */
  readonly executor: string;
  /** The binary weft spawns. */
  readonly bin: string;
  /** The configured `apiKeyEnv`, if any (named instead of the CLI's own variable). */
  readonly apiKeyEnv: string | undefined;
}

/** The message for a CLI that is not installed: what to install, or which setting names the binary. */
export function notFoundMessage(names: AgentNames): string {
  return `${names.cli.name} not found: ${names.cli.install}, or set executors.${names.executor}.bin (tried \`${names.bin}\`)`;
}

/**
 * Maps the end of one CLI run into a {@link TaskOutcome}: success as the CLI signalled it, validated
 * against `outputSchema`; otherwise the failure a user needs — rate limits and overloads as transient
 * failures that the engine backs off from without counting them against the task.
 */
export function agentOutcome(
  ctx: TaskContext,
  report: AgentReport,
  exit: LineProcessExit,
  names: AgentNames,
): TaskOutcome {
  const { name } = names.cli;
  if (exit.spawnError !== undefined) {
    const e = exit.spawnError;
    return fail({
      message: e.code === 'ENOENT' ? notFoundMessage(names) : `could not start ${names.bin}: ${e.message}`,
      code: 'WEFT_EXECUTOR',
      exitCode: null,
      signal: null,
    });
  }
  for (const note of report.notes ?? []) ctx.emit({ kind: 'status', message: note });
  const text =
    report.notes === undefined || report.notes.length === 0
      ? report.text
      : `${report.text}\n\n[weft] ${report.notes.join('\n[weft] ')}`;
  const result: TaskResultData = {
    exitCode: exit.exitCode,
    ...(exit.signal === null ? {} : { signal: exit.signal }),
    ...(text === '' ? {} : { text }),
    ...(report.usage === undefined ? {} : { usage: report.usage }),
    ...(report.sessionId === undefined ? {} : { sessionId: report.sessionId }),
  };
  const stderrTail = exit.stderrTail === '' ? {} : { stderrTail: exit.stderrTail };
  const seconds = `${(exit.durationMs / 1000).toFixed(1)}s`;

  if (ctx.signal.aborted) {
    const cause = ctx.signal.reason as AbortCause | undefined;
    const why =
      cause?.kind === 'timeout'
        ? `timed out after ${cause.ms / 1000}s`
        : cause?.kind === 'budget'
          ? `stopped: ${cause.reason}`
          : `cancelled${cause?.kind === 'cancelled' ? `: ${cause.reason}` : ''}`;
    return {
      ok: false,
      failure: {
        message: `${name} ${why}`,
        exitCode: exit.exitCode,
        signal: exit.signal,
        timedOut: cause?.kind === 'timeout',
        ...stderrTail,
      },
      result,
    };
  }

  if (!report.completed)
    return { ok: false, failure: { ...agentFailure(report.error, exit, seconds, names), ...stderrTail }, result };

  const schema = ctx.task.outputSchema;
  if (schema === undefined) return { ok: true, result };
  const answer =
    report.output !== undefined ? { ok: true as const, value: report.output } : parseJsonAnswer(report.text);
  const checked = answer.ok
    ? checkOutput(schema, answer.value)
    : { ok: false as const, message: 'the answer is not JSON, but the task has an outputSchema' };
  if (!checked.ok) {
    // Routed back to the same session as a fix.
    return {
      ok: false,
      failure: {
        message: `${name}: ${checked.message}`,
        code: 'WEFT_OUTPUT_SCHEMA',
        exitCode: exit.exitCode,
        fix: schemaFix(checked.message, schema),
      },
      result,
    };
  }
  return { ok: true, result: { ...result, output: checked.value } };
}

/** A run that did not complete: the error the CLI reported, or how it ended without one. */
function agentFailure(
  error: AgentError | undefined,
  exit: LineProcessExit,
  seconds: string,
  names: AgentNames,
): TaskFailure {
  const { name } = names.cli;
  const base = { exitCode: exit.exitCode, signal: exit.signal };
  if (error === undefined) {
    const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    return {
      ...base,
      message: `${name} ${how} after ${seconds} without reporting a result${exit.stderrTail === '' ? '' : `: ${oneLine(exit.stderrTail.split('\n').at(-1) ?? '', 200)}`}`,
      code: 'WEFT_EXECUTOR',
    };
  }
  const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
  if (error.kind === 'auth') {
    const key = names.apiKeyEnv ?? names.cli.apiKeyVar;
    return {
      ...base,
      message: `${name}: authentication failed${status}: ${oneLine(error.message, 300)} — set ${key}${names.apiKeyEnv === undefined ? ` (or executors.${names.executor}.apiKeyEnv)` : ''}, or ${names.cli.login}`,
      code: 'WEFT_AGENT_AUTH',
    };
  }
  if (isTransient(error.kind)) {
    const what =
      error.kind === 'rate-limit'
        ? 'rate limited'
        : error.kind === 'overloaded'
          ? 'provider overloaded'
          : 'API unreachable';
    return {
      ...base,
      message: `${name}: ${what}${status}: ${oneLine(error.message, 300)}`,
      code: 'WEFT_RATE_LIMITED',
      transient: true,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    };
  }
  if (error.kind === 'max-turns')
    return { ...base, message: `${name}: ${oneLine(error.message, 300)}`, code: 'WEFT_AGENT_MAX_TURNS' };
  return { ...base, message: `${name}: ${oneLine(error.message, 400)}${status}`, code: 'WEFT_EXECUTOR' };
}

/** A failure without a result. */
export function fail(failure: TaskFailure): TaskOutcome {
  return { ok: false, failure };
}

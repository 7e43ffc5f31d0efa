/**
 * The JSON-event parsers of the agent CLI executors, fed lines recorded from the real pinned CLIs
 * (Claude Code 2.1.197, Codex 0.169.0, Gemini CLI 0.61.0) against FakeLlmServer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../core/run/events.js';
import {
  classifyApiError,
  retryAfterFromText,
  summarizeTool,
  type AgentEventParser,
  type AgentReport,
  type ProcessEnd,
} from './agent-report.js';
import { ClaudeEvents } from './claude-events.js';
import { CodexEvents } from './codex-events.js';
import { GeminiEvents } from './gemini-events.js';
import { claudePermissionMode, codexSandboxMode, geminiApprovalMode } from './permission-mode.js';
import { checkOutput, parseJsonAnswer } from './structured-output.js';

function feed(
  parser: AgentEventParser,
  lines: string,
  end: ProcessEnd = { exitCode: 0, stderrTail: '' },
): { progress: ProgressEvent[]; report: AgentReport } {
  const progress: ProgressEvent[] = [];
  for (const line of lines.split('\n')) {
    if (line.trim() === '') continue;
    progress.push(...parser.event(JSON.parse(line) as Record<string, unknown>));
  }
  return { progress, report: parser.finish(end) };
}

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', `${name}.jsonl`), 'utf8');

describe('ClaudeEvents', () => {
  it('reports session, tools, text and the result usage with Claude’s own cost', () => {
    const { progress, report } = feed(new ClaudeEvents(), fixture('claude-tools'));

    expect(progress[0]).toEqual({ kind: 'session', sessionId: '4f6290c5-0f86-4172-978e-fd462ce7cdf6' });
    expect(progress.filter((p) => p.kind === 'tool').map((p) => p.message)).toEqual([
      'Write /tmp/weft-fixture/work/hello.txt',
      'Bash echo ran > ran.txt',
    ]);
    expect(progress.filter((p) => p.kind === 'text').map((p) => p.message)).toEqual(['Wrote hello.txt']);
    // Live usage per API call, priced from the table (the CLI reports output only at the end).
    expect(progress.filter((p) => p.kind === 'usage').at(-1)?.usage).toMatchObject({
      model: 'claude-opus-4-8',
      inputTokens: 350,
      cacheReadTokens: 30,
    });
    expect(report).toEqual({
      completed: true,
      text: 'Wrote hello.txt',
      sessionId: '4f6290c5-0f86-4172-978e-fd462ce7cdf6',
      usage: {
        model: 'claude-opus-4-8',
        inputTokens: 350,
        outputTokens: 27,
        cacheReadTokens: 30,
        cacheWriteTokens: 0,
        costUsd: 0.0022900000000000004,
      },
    });
  });

  it('takes structured_output and hides the StructuredOutput tool call', () => {
    const { progress, report } = feed(new ClaudeEvents(), fixture('claude-schema'));

    expect(progress.filter((p) => p.kind === 'tool')).toEqual([]);
    expect(report).toMatchObject({ completed: true, output: { answer: '42' }, text: '{"answer":"42"}' });
  });

  it('turns a 429 after the CLI’s own retry into a rate-limit error with the server’s retry-after', () => {
    const { progress, report } = feed(new ClaudeEvents(), fixture('claude-rate-limited'), {
      exitCode: 1,
      stderrTail: '',
    });

    expect(progress).toContainEqual({
      kind: 'status',
      message: 'API error 429 (rate_limit); claude retries in 2.0s (1/1)',
    });
    expect(report.completed).toBe(false);
    expect(report.error).toEqual({
      kind: 'rate-limit',
      status: 429,
      message: 'API Error: Request rejected (429) · fake-llm: rate limit exceeded',
      retryAfterMs: 2000,
    });
  });

  it('reports permission denials as notes, not as failure', () => {
    const result = {
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'Done',
      session_id: 's1',
      total_cost_usd: 0.01,
      usage: { input_tokens: 10, output_tokens: 2 },
      permission_denials: [{ tool_name: 'Bash', tool_use_id: 't1', tool_input: { command: 'npm test' } }],
    };
    const { report } = feed(new ClaudeEvents(), JSON.stringify(result));

    expect(report).toMatchObject({
      completed: true,
      text: 'Done',
      notes: ['claude was denied Bash npm test (allow it with allowedTools or permissionMode)'],
    });
  });

  it('recognises a missing session, an auth error, the turn limit and a usage limit', () => {
    const missing = {
      type: 'result',
      subtype: 'error_during_execution',
      is_error: true,
      session_id: 'x',
      errors: ['No conversation found with session ID: x'],
    };
    expect(feed(new ClaudeEvents(), JSON.stringify(missing), { exitCode: 1, stderrTail: '' }).report.error?.kind).toBe(
      'session-not-found',
    );

    const auth = {
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: 401,
      result: 'Failed to authenticate. API Error: 401 invalid x-api-key',
    };
    expect(feed(new ClaudeEvents(), JSON.stringify(auth), { exitCode: 1, stderrTail: '' }).report.error).toMatchObject({
      kind: 'auth',
      status: 401,
    });

    const turns = { type: 'result', subtype: 'error_max_turns', is_error: true, num_turns: 3 };
    expect(feed(new ClaudeEvents(), JSON.stringify(turns), { exitCode: 1, stderrTail: '' }).report.error).toMatchObject(
      { kind: 'max-turns', message: 'stopped after 3 turns (maxTurns): error_max_turns' },
    );

    const resetAt = Math.floor(Date.now() / 1000) + 3600;
    const limit = {
      type: 'result',
      subtype: 'success',
      is_error: true,
      api_error_status: 429,
      result: `Claude AI usage limit reached|${resetAt}`,
    };
    const error = feed(new ClaudeEvents(), JSON.stringify(limit), { exitCode: 1, stderrTail: '' }).report.error;
    expect(error?.kind).toBe('rate-limit');
    expect(error?.retryAfterMs).toBeGreaterThan(3_590_000);
  });

  it('says what stderr said when there is no result at all', () => {
    const { report } = feed(new ClaudeEvents(), '', { exitCode: 1, stderrTail: 'Error: something broke' });
    expect(report).toMatchObject({ completed: false, error: { kind: 'other', message: 'Error: something broke' } });
  });
});

describe('CodexEvents', () => {
  it('reports the thread, tools with unwrapped commands, the last message and priced usage', () => {
    const { progress, report } = feed(new CodexEvents({ model: 'gpt-5.5' }), fixture('codex-tools'));

    expect(progress[0]).toEqual({ kind: 'session', sessionId: '01a1fe33-13bd-7120-8bb5-49c4781e4cdc' });
    expect(progress.filter((p) => p.kind === 'tool').map((p) => p.message)).toEqual([
      'edit /tmp/weft-fixture/work/hello.txt (add)',
      'shell echo ran > ran.txt',
    ]);
    expect(report).toMatchObject({
      completed: true,
      text: 'Wrote hello.txt',
      sessionId: '01a1fe33-13bd-7120-8bb5-49c4781e4cdc',
    });
    expect(report.usage).toMatchObject({ model: 'gpt-5.5', inputTokens: 320, outputTokens: 27, cacheReadTokens: 30 });
    expect(report.usage?.costUsd).toBeGreaterThan(0);
  });

  it('subtracts the thread’s previous totals when resuming (exec resume reports the running total)', () => {
    const parser = new CodexEvents({ previous: { input: 100, cached: 0, cacheWrite: 0, output: 10 } });
    const { report } = feed(
      parser,
      JSON.stringify({
        type: 'turn.completed',
        usage: { input_tokens: 300, cached_input_tokens: 0, output_tokens: 30 },
      }),
    );

    expect(report.usage).toMatchObject({ inputTokens: 200, outputTokens: 20 });
    expect(parser.totals).toEqual({ input: 300, cached: 0, cacheWrite: 0, output: 30 });
  });

  it('treats top-level error events as status and turn.failed as the failure', () => {
    const { progress, report } = feed(new CodexEvents(), fixture('codex-rate-limited'), {
      exitCode: 1,
      stderrTail: 'Reading additional input from stdin...',
    });

    expect(progress.filter((p) => p.kind === 'status').map((p) => p.message)).toContain(
      'Reconnecting... 1/1 (exceeded retry limit, last status: 429 Too Many Requests)',
    );
    expect(report).toMatchObject({
      completed: false,
      error: { kind: 'rate-limit', message: 'exceeded retry limit, last status: 429 Too Many Requests' },
    });
  });

  it('recognises a missing thread on resume, and a usage limit with its wait', () => {
    expect(
      feed(new CodexEvents(), '', {
        exitCode: 1,
        stderrTail: 'Error: thread/resume: thread/resume failed: no rollout found for thread id 01a1 (code -32600)',
      }).report.error?.kind,
    ).toBe('session-not-found');

    const failed = {
      type: 'turn.failed',
      error: { message: "You've hit your usage limit. Upgrade to Pro or try again in 2 hours 5 minutes." },
    };
    expect(feed(new CodexEvents(), JSON.stringify(failed), { exitCode: 1, stderrTail: '' }).report.error).toMatchObject(
      { kind: 'rate-limit', retryAfterMs: 7_500_000 },
    );
  });
});

describe('GeminiEvents', () => {
  it('reports the session, tools, the last message as the text and priced stats', () => {
    const { progress, report } = feed(new GeminiEvents(), fixture('gemini-tools'));

    expect(progress[0]).toEqual({ kind: 'session', sessionId: 'b429e30b-1f8b-40f8-92f0-d0b4a79e9c56' });
    expect(progress.filter((p) => p.kind === 'tool').map((p) => p.message)).toEqual([
      'write_file /tmp/weft-fixture/work/hello2.txt',
      'run_shell_command echo ran > ran2.txt',
    ]);
    expect(progress.filter((p) => p.kind === 'text').map((p) => p.message)).toEqual(['Wrote hello.txt']);
    expect(report).toMatchObject({
      completed: true,
      text: 'Wrote hello.txt',
      usage: { model: 'gemini-2.5-flash', inputTokens: 320, outputTokens: 27, cacheReadTokens: 30 },
    });
    expect(report.usage?.costUsd).toBeGreaterThan(0);
  });

  it('reads a 429 from the exit code and the suggested retry from the message', () => {
    const { report } = feed(new GeminiEvents(), fixture('gemini-rate-limited'), { exitCode: 173, stderrTail: '' });

    expect(report.completed).toBe(false);
    expect(report.error).toMatchObject({ kind: 'rate-limit', status: 429, retryAfterMs: 7000 });
    expect(report.error?.message).toMatch(/^fake-llm: rate limit exceeded/);
  });

  it('asks to stop at the CLI’s first retry beyond the cap, with the wait it announced', () => {
    const parser = new GeminiEvents({ maxRetries: 0 });
    const progress = [
      'Attempt 1 failed: fake-llm: rate limit exceeded',
      'Suggested retry after 7s.. Retrying after 7412ms...',
    ].flatMap((line) => parser.stderr(line));

    expect(progress).toEqual([
      {
        kind: 'status',
        message:
          'gemini: Attempt 1 failed: fake-llm: rate limit exceeded Suggested retry after 7s.; it retries in 7.4s',
      },
    ]);
    expect(parser.stopRequest).toMatchObject({ kind: 'rate-limit', retryAfterMs: 7412 });
    expect(parser.finish({ exitCode: null, stderrTail: '' })).toMatchObject({
      completed: false,
      error: { kind: 'rate-limit', retryAfterMs: 7412 },
    });

    const patient = new GeminiEvents({ maxRetries: 1 });
    patient.stderr('Attempt 1 failed with status 503. Retrying with backoff...');
    expect(patient.stopRequest).toBeUndefined();
    patient.stderr('Attempt 2 failed with status 503. Retrying with backoff...');
    expect(patient.stopRequest).toMatchObject({ kind: 'overloaded' });
  });

  it('counts model turns and asks to stop past maxTurns', () => {
    const parser = new GeminiEvents({ maxTurns: 1 });
    const tool = (n: number): string =>
      [
        JSON.stringify({
          type: 'tool_use',
          tool_name: 'run_shell_command',
          tool_id: `t${n}`,
          parameters: { command: 'ls' },
        }),
        JSON.stringify({ type: 'tool_result', tool_id: `t${n}`, status: 'success' }),
      ].join('\n');
    feed(parser, tool(1));
    expect(parser.stopRequest).toBeUndefined();
    feed(parser, tool(2));
    expect(parser.stopRequest).toEqual({ kind: 'max-turns', message: 'stopped after 1 turns (maxTurns)' });
  });

  it('recognises a missing session (exit 42) and an auth failure (exit 145)', () => {
    expect(
      feed(new GeminiEvents(), '', {
        exitCode: 42,
        stderrTail: 'Error resuming session: No previous sessions found for this project.',
      }).report.error?.kind,
    ).toBe('session-not-found');
    const auth = {
      type: 'result',
      status: 'error',
      error: {
        type: 'unknown',
        message: '[API Error: {"error":{"code":401,"message":"bad key","status":"UNAUTHENTICATED"}}]',
      },
    };
    expect(
      feed(new GeminiEvents(), JSON.stringify(auth), { exitCode: 145, stderrTail: '' }).report.error,
    ).toMatchObject({ kind: 'auth', status: 401 });
  });
});

describe('agent helpers', () => {
  it('classifies API errors by status first, then by message', () => {
    expect(classifyApiError(401, 'x')).toBe('auth');
    expect(classifyApiError(529, 'x')).toBe('overloaded');
    expect(classifyApiError(400, 'prompt is too long')).toBe('other');
    expect(classifyApiError(undefined, 'Selected model is at capacity. Please try a different model.')).toBe(
      'overloaded',
    );
    expect(classifyApiError(undefined, 'unexpected status 401 Unauthorized: bad key')).toBe('auth');
    expect(classifyApiError(undefined, 'API Error: Unable to connect to API (ConnectionRefused)')).toBe('network');
  });

  it('reads the wait out of retry messages', () => {
    expect(retryAfterFromText('Suggested retry after 7s.')).toBe(7000);
    expect(retryAfterFromText('Please retry in 37.5s.')).toBe(37_500);
    expect(retryAfterFromText('try again in 1 hour, 2 minutes and 3 seconds')).toBe(3_723_000);
    expect(retryAfterFromText('Claude AI usage limit reached|2000000000', 1_999_999_000_000)).toBe(1_000_000);
    expect(retryAfterFromText('Please wait and try again later.')).toBeUndefined();
  });

  it('summarises tool calls by their most telling argument', () => {
    expect(summarizeTool('Bash', { command: 'npm test', description: 'Run tests' })).toBe('Bash npm test');
    expect(summarizeTool('Glob', { glob: '**/*.ts' })).toBe('Glob {"glob":"**/*.ts"}');
    expect(summarizeTool('TodoWrite', {})).toBe('TodoWrite');
  });

  it('maps one permission mode onto each CLI', () => {
    expect([claudePermissionMode(undefined), codexSandboxMode(undefined), geminiApprovalMode(undefined)]).toEqual([
      'acceptEdits',
      'workspace-write',
      'auto_edit',
    ]);
    expect([
      claudePermissionMode('yolo'),
      codexSandboxMode('bypassPermissions'),
      geminiApprovalMode('danger-full-access'),
    ]).toEqual(['bypassPermissions', 'danger-full-access', 'yolo']);
    expect([claudePermissionMode('read-only'), codexSandboxMode('plan'), geminiApprovalMode('plan')]).toEqual([
      'plan',
      'read-only',
      'plan',
    ]);
    expect([claudePermissionMode('dontAsk'), geminiApprovalMode('default')]).toEqual(['dontAsk', 'default']);
  });

  it('finds and checks a JSON answer', () => {
    expect(parseJsonAnswer('Here it is:\n```json\n{"a":1}\n```')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonAnswer('The answer is {"a":2}.')).toEqual({ ok: true, value: { a: 2 } });
    expect(parseJsonAnswer('no json')).toEqual({ ok: false });
    const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
    expect(checkOutput(schema, { a: 1 })).toEqual({ ok: true, value: { a: 1 } });
    expect(checkOutput(schema, { a: 'x' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^the answer does not match outputSchema: a /),
    });
  });
});

/**
 * The real Claude Code, Codex and Gemini CLI binaries (pinned devDependencies) run headlessly
 * against FakeLlmServer: what a user would see on stdout, on disk and in the exit code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codexEnv, FAKE_API_KEY, makeAgentDirs } from './agent-env.js';
import type { Event } from './cli-harness.js';
import { claude, codex, codexItems, gap, gemini, geminiText, harness, ofType, only } from './cli-harness.js';
import { step } from './fake-llm-server.js';
import { CLI_BINS, runCli } from './run-cli.js';

const TIMEOUT = 60_000;

/**
 * The CLIs spend most of their time starting up, so the four suites run side by side (each
 * test has its own server, HOME and cwd) while the tests inside a suite run one after another.
 */
function lane(name: string, body: () => void): void {
  describe(name, { concurrent: true }, body);
}
const test = it.sequential;
lane('Claude Code against FakeLlmServer', () => {
  test('returns the scripted text with the session id and usage', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue(
      'anthropic',
      step.text('Hello from the fake model', { usage: { input: 120, output: 7, cached: 30 } }),
    );

    const run = await claude(h, 'Say hello');

    expect(run.exitCode).toBe(0);
    const init = ofType(run, 'system').find((e) => e['subtype'] === 'init') as Event;
    expect(init).toMatchObject({ cwd: h.dirs.cwd, session_id: expect.any(String) });
    const result = only(run, 'result');
    expect(result).toMatchObject({
      subtype: 'success',
      is_error: false,
      result: 'Hello from the fake model',
      session_id: init['session_id'],
      num_turns: 1,
      usage: { input_tokens: 120, output_tokens: 7, cache_read_input_tokens: 30 },
    });
    expect(result['total_cost_usd']).toBeGreaterThan(0);
    const [turn] = h.llm.turns('anthropic');
    expect(turn).toMatchObject({ path: '/v1/messages', query: { beta: 'true' }, stream: true });
    expect(turn?.headers).toMatchObject({ 'x-api-key': FAKE_API_KEY, 'x-claude-code-session-id': init['session_id'] });
    expect(turn?.userTexts).toContain('Say hello');
    expect(h.llm.verify()).toEqual([]);
  });

  test(
    'writes a file with Write, runs a command with Bash, then gives the final text',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      const target = join(h.dirs.cwd, 'hello.txt');
      h.llm.enqueue(
        'anthropic',
        step.writeFile(target, 'hello from claude\n'),
        step.shell('echo ran > ran.txt'),
        step.text('Wrote hello.txt'),
      );

      const run = await claude(h, 'Create hello.txt', ['--permission-mode', 'acceptEdits', '--allowedTools', 'Bash']);

      expect(only(run, 'result')).toMatchObject({
        is_error: false,
        result: 'Wrote hello.txt',
        num_turns: 3,
        permission_denials: [],
      });
      expect(only(run, 'result')['usage']).toMatchObject({ input_tokens: 300, output_tokens: 30 });
      expect(await readFile(target, 'utf8')).toBe('hello from claude\n');
      expect(await readFile(join(h.dirs.cwd, 'ran.txt'), 'utf8')).toBe('ran\n');
      const [, second, third] = h.llm.turns();
      expect(second?.toolResults).toEqual([
        { callId: 'toolu_fake_1_0', output: expect.stringContaining('File created successfully'), isError: false },
      ]);
      expect(third?.toolResults.at(-1)).toMatchObject({ callId: 'toolu_fake_2_0', isError: false });
      expect(h.llm.verify()).toEqual([]);
    },
  );

  test('denies Bash under the default permission mode yet reports success', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('anthropic', step.shell('touch denied.txt'), step.text('Done'));

    const run = await claude(h, 'Touch a file');

    const result = only(run, 'result');
    expect(result).toMatchObject({ is_error: false, result: 'Done' });
    expect(result['permission_denials']).toEqual([expect.objectContaining({ tool_name: 'Bash' })]);
    expect(h.llm.turns()[1]?.toolResults[0]).toMatchObject({ isError: true });
    await expect(readFile(join(h.dirs.cwd, 'denied.txt'))).rejects.toThrow();
  });

  test(
    'returns --json-schema output as structured_output (the model calls StructuredOutput)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      // Claude ends the run on the StructuredOutput call: no final text step is needed.
      h.llm.enqueue('anthropic', step.json({ answer: '42' }));

      const run = await claude(h, 'What is the answer?', ['--json-schema', JSON.stringify(schema)]);

      expect(only(run, 'result')).toMatchObject({
        is_error: false,
        structured_output: { answer: '42' },
        result: '{"answer":"42"}',
      });
      expect(h.llm.turns()[0]?.offeredTools).toContain('StructuredOutput');
      expect(h.llm.verify()).toEqual([]);
    },
  );

  test('continues a session with --resume', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('anthropic', step.text('First answer'), step.text('Second answer'));
    const first = only(await claude(h, 'First prompt'), 'result');

    const run = await claude(h, 'Second prompt', ['--resume', String(first['session_id'])]);

    // Usage covers this run only.
    expect(only(run, 'result')).toMatchObject({
      is_error: false,
      result: 'Second answer',
      session_id: first['session_id'],
      usage: { input_tokens: 100, output_tokens: 10 },
    });
    expect(h.llm.turns()[1]?.userTexts).toEqual(expect.arrayContaining(['First prompt', 'Second prompt']));
  });

  test.for([
    ['400', step.badRequest('model: unknown model'), 400, 'API Error: 400 model: unknown model'],
    ['401', step.unauthorized(), 401, 'Failed to authenticate'],
  ] as const)('reports a %s as is_error:true, exit 1', { timeout: TIMEOUT }, async ([, error, status, text], ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('anthropic', error);

    const run = await claude(h, 'Hi');

    expect(run.exitCode).toBe(1);
    const result = only(run, 'result');
    expect(result).toMatchObject({ subtype: 'success', is_error: true, api_error_status: status });
    expect(result['result']).toContain(text);
    expect(h.llm.turns()).toHaveLength(1);
  });

  test('waits retry-after on a 429, then succeeds (CLAUDE_CODE_MAX_RETRIES=1)', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('anthropic', step.rateLimited(2), step.text('After the retry'));

    const run = await claude(h, 'Hi', [], { maxRetries: 1 });

    expect(only(run, 'result')).toMatchObject({ is_error: false, result: 'After the retry' });
    expect(h.llm.turns().map((t) => t.reply)).toEqual(['error 429', 'text']);
    expect(gap(h.llm, 1)).toBeGreaterThanOrEqual(1_900);
  });

  test.for([
    ['429', step.rateLimited(1, { times: Infinity }), 429],
    ['529 overloaded_error', step.overloaded({ times: Infinity }), 529],
  ] as const)(
    'gives up on a repeated %s after its capped retry',
    { timeout: TIMEOUT },
    async ([, error, status], ctx) => {
      const h = await harness(ctx);
      h.llm.enqueue('anthropic', error);

      const run = await claude(h, 'Hi', [], { maxRetries: 1 });

      expect(run.exitCode).toBe(1);
      expect(only(run, 'result')).toMatchObject({ is_error: true, api_error_status: status });
      expect(h.llm.turns()).toHaveLength(2);
    },
  );
});

lane('Codex against FakeLlmServer', () => {
  test('completes a turn with the final agent_message and usage', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue(
      'openai',
      step.text('Hello from the fake model', { usage: { input: 120, output: 7, cached: 30, reasoning: 3 } }),
    );

    const run = await codex(h, 'Say hello');

    expect(run.exitCode).toBe(0);
    const threadId = only(run, 'thread.started')['thread_id'];
    expect(codexItems(run, 'agent_message').at(-1)).toMatchObject({ text: 'Hello from the fake model' });
    expect(only(run, 'turn.completed')['usage']).toEqual({
      input_tokens: 120,
      cached_input_tokens: 30,
      cache_write_input_tokens: 0,
      output_tokens: 7,
      reasoning_output_tokens: 3,
    });
    expect(ofType(run, 'turn.failed')).toEqual([]);
    const [turn] = h.llm.turns('openai');
    expect(turn).toMatchObject({ path: '/v1/responses', model: 'gpt-5.5', stream: true });
    expect(turn?.headers).toMatchObject({ authorization: `Bearer ${FAKE_API_KEY}`, 'session-id': threadId });
    expect(turn?.userTexts).toContain('Say hello');
    expect(h.llm.verify()).toEqual([]);
  });

  test('writes a file with apply_patch and runs a command with exec_command', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue(
      'openai',
      step.writeFile('hello.txt', 'hello from codex\n'),
      step.shell('echo ran > ran.txt'),
      step.text('Wrote hello.txt'),
    );

    const run = await codex(h, 'Create hello.txt');

    expect(ofType(run, 'turn.completed')).toHaveLength(1);
    expect(codexItems(run, 'file_change')).toEqual([
      expect.objectContaining({ status: 'completed', changes: [{ path: join(h.dirs.cwd, 'hello.txt'), kind: 'add' }] }),
    ]);
    expect(codexItems(run, 'command_execution')).toEqual([
      expect.objectContaining({ command: "/bin/bash -lc 'echo ran > ran.txt'", exit_code: 0, status: 'completed' }),
    ]);
    expect(codexItems(run, 'agent_message').at(-1)).toMatchObject({ text: 'Wrote hello.txt' });
    expect(await readFile(join(h.dirs.cwd, 'hello.txt'), 'utf8')).toBe('hello from codex\n');
    expect(await readFile(join(h.dirs.cwd, 'ran.txt'), 'utf8')).toBe('ran\n');
    expect(h.llm.turns()[2]?.toolResults.map((r) => r.name)).toEqual(['apply_patch', 'exec_command']);
    expect(h.llm.verify()).toEqual([]);
  });

  test(
    'answers --output-schema with JSON text (sent as text.format json_schema)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      const schemaFile = join(h.dirs.root, 'schema.json');
      const schema = {
        type: 'object',
        properties: { answer: { type: 'string' } },
        required: ['answer'],
        additionalProperties: false,
      };
      await writeFile(schemaFile, JSON.stringify(schema));
      h.llm.enqueue('openai', step.json({ answer: '42' }));

      const run = await codex(h, 'What is the answer?', ['--output-schema', schemaFile]);

      expect(JSON.parse(String(codexItems(run, 'agent_message').at(-1)?.['text']))).toEqual({ answer: '42' });
      expect(h.llm.turns()[0]?.body).toMatchObject({ text: { format: { type: 'json_schema', strict: true, schema } } });
      expect(h.llm.verify()).toEqual([]);
    },
  );

  test(
    'continues a thread with `exec resume` (needs -c sandbox_mode; usage is the thread total)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      h.llm.enqueue(
        'openai',
        step.text('First answer'),
        step.shell('echo resumed > resumed.txt'),
        step.text('Second answer'),
      );
      const threadId = String(only(await codex(h, 'First prompt'), 'thread.started')['thread_id']);

      // `exec resume` takes neither -C nor -s: it works in the process cwd and defaults to read-only.
      const { env, args } = await codexEnv(h.llm, { home: h.dirs.home });
      const argv = [
        'exec',
        'resume',
        ...args,
        '-c',
        'sandbox_mode="workspace-write"',
        '--json',
        '--skip-git-repo-check',
        threadId,
        'Second prompt',
      ];
      const run = await runCli(CLI_BINS.codex, argv, { cwd: h.dirs.cwd, env });

      expect(only(run, 'thread.started')['thread_id']).toBe(threadId);
      expect(codexItems(run, 'agent_message').at(-1)).toMatchObject({ text: 'Second answer' });
      expect(only(run, 'turn.completed')['usage']).toMatchObject({ input_tokens: 300, output_tokens: 30 });
      expect(await readFile(join(h.dirs.cwd, 'resumed.txt'), 'utf8')).toBe('resumed\n');
      expect(h.llm.turns()[1]?.userTexts).toEqual(expect.arrayContaining(['First prompt', 'Second prompt']));
    },
  );

  test.for([
    ['400', step.badRequest('prompt is too long'), 'prompt is too long'],
    ['401', step.unauthorized(), 'unexpected status 401 Unauthorized'],
    ['429 without retries', step.rateLimited(1), 'exceeded retry limit, last status: 429 Too Many Requests'],
    ['503 server_is_overloaded', step.overloaded(), 'Selected model is at capacity'],
  ] as const)('fails the turn on a %s, exit 1', { timeout: TIMEOUT }, async ([, error, message], ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('openai', error);

    const run = await codex(h, 'Hi');

    expect(run.exitCode).toBe(1);
    expect(only(run, 'turn.failed')['error']['message']).toContain(message);
    expect(ofType(run, 'turn.completed')).toEqual([]);
    expect(h.llm.turns()).toHaveLength(1);
  });

  test(
    'waits retry-after on a 429, then succeeds; the retry shows as a non-fatal `error` event',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      h.llm.enqueue('openai', step.rateLimited(2), step.text('After the retry'));

      const run = await codex(h, 'Hi', [], { maxRetries: 1 });

      expect(ofType(run, 'error').map((e) => e['message'])).toEqual([
        'Reconnecting... 1/1 (exceeded retry limit, last status: 429 Too Many Requests)',
      ]);
      expect(ofType(run, 'turn.failed')).toEqual([]);
      expect(codexItems(run, 'agent_message').at(-1)).toMatchObject({ text: 'After the retry' });
      expect(gap(h.llm, 1)).toBeGreaterThanOrEqual(1_900);
    },
  );

  test('never gives up on an unreachable endpoint, whatever its retry caps', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    await h.llm.close();

    const { env, args } = await codexEnv(h.llm, { home: h.dirs.home });
    const argv = ['exec', ...args, '--json', '--skip-git-repo-check', '-C', h.dirs.cwd, 'Hi'];
    const run = await runCli(CLI_BINS.codex, argv, { cwd: h.dirs.cwd, env, timeoutMs: 6_000 });

    expect(run.timedOut).toBe(true);
    expect(ofType(run, 'error').map((e) => e['message'])).toContain(
      'Reconnecting... waiting for network (Connection failed: error sending request)',
    );
    expect(ofType(run, 'turn.failed')).toEqual([]);
  });
});

lane('Gemini CLI against FakeLlmServer', () => {
  test('returns the scripted text with status success and token stats', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('gemini', step.text('Hello from the fake model', { usage: { input: 120, output: 7, cached: 30 } }));

    const run = await gemini(h, 'Say hello');

    expect(run.exitCode).toBe(0);
    expect(only(run, 'init')).toMatchObject({ session_id: expect.any(String), model: 'gemini-2.5-flash' });
    expect(geminiText(run)).toBe('Hello from the fake model');
    expect(only(run, 'result')).toMatchObject({
      status: 'success',
      stats: { input_tokens: 120, output_tokens: 7, cached: 30, tool_calls: 0 },
    });
    const [turn] = h.llm.turns('gemini');
    expect(turn).toMatchObject({
      path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent',
      query: { alt: 'sse' },
    });
    expect(turn?.headers).toMatchObject({ 'x-goog-api-key': FAKE_API_KEY });
    expect(turn?.userTexts).toContain('Say hello');
    expect(h.llm.verify()).toEqual([]);
  });

  test('writes a file with write_file and runs a command with run_shell_command', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    const target = join(h.dirs.cwd, 'hello.txt');
    h.llm.enqueue(
      'gemini',
      step.writeFile(target, 'hello from gemini\n'),
      step.shell('echo ran > ran.txt'),
      step.text('Wrote hello.txt'),
    );

    const run = await gemini(h, 'Create hello.txt');

    expect(ofType(run, 'tool_use').map((e) => e['tool_name'])).toEqual(['write_file', 'run_shell_command']);
    expect(ofType(run, 'tool_result').map((e) => e['status'])).toEqual(['success', 'success']);
    expect(geminiText(run)).toBe('Wrote hello.txt');
    expect(only(run, 'result')).toMatchObject({ status: 'success', stats: { tool_calls: 2, input_tokens: 300 } });
    expect(await readFile(target, 'utf8')).toBe('hello from gemini\n');
    expect(await readFile(join(h.dirs.cwd, 'ran.txt'), 'utf8')).toBe('ran\n');
    expect(h.llm.turns()[2]?.toolResults).toEqual([
      expect.objectContaining({ callId: 'call_fake_1_0', name: 'write_file', isError: false }),
      expect.objectContaining({ callId: 'call_fake_2_0', name: 'run_shell_command', isError: false }),
    ]);
    expect(h.llm.verify()).toEqual([]);
  });

  test('continues a session with --resume', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    h.llm.enqueue('gemini', step.text('First answer'), step.text('Second answer'));
    const sessionId = String(only(await gemini(h, 'First prompt'), 'init')['session_id']);

    const run = await gemini(h, 'Second prompt', ['--resume', sessionId]);

    // Stats cover this run only.
    expect(only(run, 'result')).toMatchObject({ status: 'success', stats: { input_tokens: 100, output_tokens: 10 } });
    expect(geminiText(run)).toBe('Second answer');
    expect(h.llm.turns()[1]?.userTexts).toEqual(expect.arrayContaining(['First prompt', 'Second prompt']));
  });

  test.for([
    ['400', step.badRequest('prompt is too long'), 144],
    ['401', step.unauthorized(), 145],
    ['429 without retries', step.rateLimited(1), 173],
    ['503 overloaded', step.overloaded(), 247],
  ] as const)(
    'ends with status error on a %s (exit code = HTTP status & 0xff)',
    { timeout: TIMEOUT },
    async ([, error, exitCode], ctx) => {
      const h = await harness(ctx);
      h.llm.enqueue('gemini', error);

      const run = await gemini(h, 'Hi');

      expect(run.exitCode).toBe(exitCode);
      expect(only(run, 'result')).toMatchObject({
        status: 'error',
        error: { message: expect.stringContaining('API Error') },
      });
      expect(h.llm.turns()).toHaveLength(1);
    },
  );

  test(
    'retries a 429 after at least 5 s whatever retry-after says, then succeeds',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await harness(ctx);
      h.llm.enqueue('gemini', step.rateLimited(1), step.text('After the retry'));

      const run = await gemini(h, 'Hi', [], { maxRetries: 1 });

      expect(only(run, 'result')).toMatchObject({ status: 'success' });
      expect(geminiText(run)).toBe('After the retry');
      expect(gap(h.llm, 1)).toBeGreaterThanOrEqual(4_900);
      expect(run.stderr).toContain('Retrying after');
    },
  );
});

lane('parallel agents on one server', () => {
  test('each agent follows its own script, chosen by a marker in its prompt', { timeout: TIMEOUT }, async (ctx) => {
    const h = await harness(ctx);
    const dirsB = await makeAgentDirs();
    const dirsC = await makeAgentDirs();
    ctx.onTestFinished(() => Promise.all([dirsB.cleanup(), dirsC.cleanup()]).then(() => undefined));
    const a = h.llm.script(
      { marker: '[task-a]' },
      step.writeFile(join(h.dirs.cwd, 'a.txt'), 'A\n'),
      step.text('A done'),
    );
    const b = h.llm.script(
      { marker: '[task-b]' },
      step.rateLimited(0),
      step.writeFile(join(dirsB.cwd, 'b.txt'), 'B\n'),
      step.text('B done'),
    );
    const c = h.llm.script({ marker: '[task-c]' }, step.writeFile('c.txt', 'C\n'), step.text('C done'));

    const [runA, runB, runC] = await Promise.all([
      claude(h, 'Write a.txt [task-a]', ['--permission-mode', 'acceptEdits']),
      claude({ llm: h.llm, dirs: dirsB }, 'Write b.txt [task-b]', ['--permission-mode', 'acceptEdits'], {
        maxRetries: 1,
      }),
      codex({ llm: h.llm, dirs: dirsC }, 'Write c.txt [task-c]'),
    ]);

    expect(only(runA, 'result')).toMatchObject({ is_error: false, result: 'A done' });
    expect(only(runB, 'result')).toMatchObject({ is_error: false, result: 'B done' });
    expect(codexItems(runC, 'agent_message').at(-1)).toMatchObject({ text: 'C done' });
    expect(await readFile(join(h.dirs.cwd, 'a.txt'), 'utf8')).toBe('A\n');
    expect(await readFile(join(dirsB.cwd, 'b.txt'), 'utf8')).toBe('B\n');
    expect(await readFile(join(dirsC.cwd, 'c.txt'), 'utf8')).toBe('C\n');
    expect([a.requests.length, b.requests.length, c.requests.length]).toEqual([2, 3, 2]);
    expect(h.llm.verify()).toEqual([]);
  });
});

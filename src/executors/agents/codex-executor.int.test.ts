/**
 * CodexExecutor with the real Codex binary (pinned devDependency) against FakeLlmServer, each test
 * in its own HOME (so its own CODEX_HOME), workdir and run folder. The executor is configured the
 * way a user points Codex at a compatible server: `baseUrl` + `apiKeyEnv`.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codexEnv } from '../../../test/support/fake-llm/agent-env.js';
import type { AgentExecutorOptions } from './agent-cli-executor.js';
import { CodexExecutor } from './codex-executor.js';
import {
  agentHarness,
  agentTask,
  CLI_BINS,
  abortStuck,
  messages,
  step,
  type AgentHarness,
} from './testing/agent-harness.js';

const TIMEOUT = 60_000;

async function codex(h: AgentHarness, options: AgentExecutorOptions = {}): Promise<CodexExecutor> {
  const { env } = await codexEnv(h.llm, { home: h.home });
  return new CodexExecutor({
    bin: CLI_BINS.codex,
    env,
    baseUrl: `${h.llm.url}/v1`,
    apiKeyEnv: 'LOCAL_API_KEY',
    model: 'gpt-5.5',
    args: ['-c', 'analytics.enabled=false', '--disable', 'plugins'],
    ...options,
  });
}

describe('CodexExecutor against the real codex', { concurrent: true }, () => {
  it(
    'returns the last agent message with priced usage and the thread id; logs go to the run folder',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue('openai', step.text('Hello from the fake model', { usage: { input: 120, output: 7, cached: 30 } }));

      const { outcome, progress } = await h.run(await codex(h), agentTask({ id: 'hello', prompt: 'Say hello' }));

      expect(outcome).toMatchObject({
        ok: true,
        result: { exitCode: 0, text: 'Hello from the fake model', sessionId: expect.any(String) },
      });
      if (!outcome.ok) return;
      expect(outcome.result.usage).toMatchObject({
        model: 'gpt-5.5',
        inputTokens: 120,
        outputTokens: 7,
        cacheReadTokens: 30,
      });
      expect(outcome.result.usage?.costUsd).toBeGreaterThan(0);
      expect(messages(progress, 'status')[0]).toBe('codex 0.169.0');
      expect(progress).toContainEqual({ kind: 'session', sessionId: outcome.result.sessionId });
      const turn = h.llm.turns()[0];
      expect(turn).toMatchObject({ path: '/v1/responses', model: 'gpt-5.5' });
      expect(turn?.headers['session-id']).toBe(outcome.result.sessionId);
      expect(await readFile(join(h.runDir, 'tasks', 'hello', '1.stdout.log'), 'utf8')).toContain(
        '"type":"turn.completed"',
      );
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'writes a file in the workdir with apply_patch (workspace-write by default) and reports the tool call',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const workdir = await h.workdir('tree');
      h.llm.enqueue('openai', step.writeFile('hello.txt', 'hello from codex\n'), step.text('Wrote hello.txt'));

      const { outcome, progress } = await h.run(
        await codex(h),
        agentTask({ id: 'write', prompt: 'Create hello.txt' }),
        { workdir },
      );

      expect(outcome).toMatchObject({ ok: true, result: { text: 'Wrote hello.txt' } });
      expect(await readFile(join(workdir, 'hello.txt'), 'utf8')).toBe('hello from codex\n');
      expect(messages(progress, 'tool')).toEqual([`edit ${join(workdir, 'hello.txt')} (add)`]);
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'sends outputSchema as --output-schema and validates the answer; a mismatch fails with a fix request',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const outputSchema = {
        type: 'object',
        properties: { answer: { type: 'string' } },
        required: ['answer'],
        additionalProperties: false,
      };
      h.llm.script({ marker: '[good]' }, step.json({ answer: '42' }));
      h.llm.script({ marker: '[bad]' }, step.json({ answer: 42 }));
      const executor = await codex(h);

      const [good, bad] = await Promise.all([
        h.run(executor, agentTask({ id: 'good', prompt: 'What is the answer? [good]', outputSchema }), {
          workdir: await h.workdir('good'),
        }),
        h.run(executor, agentTask({ id: 'bad', prompt: 'What is the answer? [bad]', outputSchema }), {
          workdir: await h.workdir('bad'),
        }),
      ]);

      expect(good.outcome).toMatchObject({ ok: true, result: { output: { answer: '42' } } });
      expect(h.llm.turns().find((t) => t.userTexts.some((u) => u.includes('[good]')))?.body).toMatchObject({
        text: { format: { type: 'json_schema', strict: true, schema: outputSchema } },
      });
      expect(bad.outcome).toMatchObject({
        ok: false,
        failure: {
          code: 'WEFT_OUTPUT_SCHEMA',
          message: expect.stringMatching(/^codex: the answer does not match outputSchema: answer /),
          fix: expect.stringContaining('matches this JSON Schema'),
        },
      });
      // The schema file is gone once the attempt ends.
      const state = join(h.home, '.local', 'state', 'weft', 'agents', 'run-1', 'codex', 'good');
      expect((await readdir(state)).filter((f) => f.startsWith('output-schema'))).toEqual([]);
    },
  );

  it('fails on a 400, and names the env var to set on a 401', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.script({ marker: '[400]' }, step.badRequest('prompt is too long'));
    h.llm.script({ marker: '[401]' }, step.error('unauthorized', { times: Infinity }));
    const executor = await codex(h);

    const [bad, auth] = await Promise.all([
      h.run(executor, agentTask({ id: 'bad', prompt: 'Hi [400]' }), { workdir: await h.workdir('bad') }),
      h.run(executor, agentTask({ id: 'auth', prompt: 'Hi [401]' }), { workdir: await h.workdir('auth') }),
    ]);

    expect(bad.outcome).toMatchObject({
      ok: false,
      failure: { code: 'WEFT_EXECUTOR', exitCode: 1, message: expect.stringContaining('prompt is too long') },
    });
    expect(auth.outcome).toMatchObject({
      ok: false,
      failure: {
        code: 'WEFT_AGENT_AUTH',
        message: expect.stringContaining('authentication failed: unexpected status 401 Unauthorized'),
      },
    });
    if (!auth.outcome.ok)
      expect(auth.outcome.failure.message).toContain('— set LOCAL_API_KEY, or log in with `codex login`');
    for (const a of [bad, auth]) if (!a.outcome.ok) expect(a.outcome.failure.transient).toBeUndefined();
    // Codex says this on every run without a terminal: it is no part of why one failed.
    for (const a of [bad, auth])
      if (!a.outcome.ok)
        expect(a.outcome.failure.stderrTail ?? '').not.toContain('Reading additional input from stdin');
  });

  it('returns a 429 as a transient failure after the provider’s capped retry', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('openai', step.rateLimited(1, { times: Infinity }));

    const { outcome, progress } = await h.run(await codex(h), agentTask({ id: 'limited', prompt: 'Hi' }));

    // Codex reports neither the body nor retry-after of the 429, so weft's back-off decides the wait.
    expect(outcome).toMatchObject({
      ok: false,
      failure: {
        transient: true,
        code: 'WEFT_RATE_LIMITED',
        message: 'codex: rate limited: exceeded retry limit, last status: 429 Too Many Requests',
      },
    });
    expect(h.llm.turns()).toHaveLength(2);
    expect(messages(progress, 'status')).toContain(
      'Reconnecting... 1/1 (exceeded retry limit, last status: 429 Too Many Requests)',
    );
  });

  it(
    'resumes the thread with `exec resume` in the workdir, sends the fix request, and counts only the new tokens',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const workdir = await h.workdir('tree');
      h.llm.enqueue('openai', step.text('First answer'), step.writeFile('fixed.txt', 'fixed\n'), step.text('Fixed'));
      const executor = await codex(h);
      const task = agentTask({ id: 'fixme', prompt: 'Write the greeting' });
      const fix = 'Merge conflict in greeting.txt: keep both lines';

      const { outcome, sessionId } = await h.runAndFix(executor, task, fix, { workdir });

      expect(outcome).toMatchObject({
        ok: true,
        result: { text: 'Fixed', sessionId, usage: { inputTokens: 200, outputTokens: 20 } },
      });
      // Still workspace-write after resuming.
      expect(await readFile(join(workdir, 'fixed.txt'), 'utf8')).toBe('fixed\n');
      const second = h.llm.turns()[1];
      expect(second?.headers['session-id']).toBe(sessionId);
      expect(second?.userTexts).toContain('Write the greeting');
      expect(second?.userTexts.at(-1)).toContain('Merge conflict in greeting.txt: keep both lines');
    },
  );

  it(
    'kills the process group when the attempt is aborted (Codex itself would wait forever)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue('openai', step.hang());
      const { outcome, atSession, left } = await abortStuck(h, await codex(h, { killGraceMs: 1000 }), {
        kind: 'cancelled',
        reason: 'Ctrl-C',
      });

      expect(outcome).toMatchObject({ ok: false, failure: { message: 'codex cancelled: Ctrl-C' } });
      expect(atSession.length).toBeGreaterThan(0); // its CLI was found running by its WEFT_* env
      expect(left).toEqual([]);
    },
  );

  it(
    'runs parallel sessions against one fresh CODEX_HOME, each with its own SQLite state',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const ids = ['a', 'b', 'c'];

      const { attempts, workdirs } = await h.runInParallel(await codex(h), ids, { relativePaths: true });

      for (const [i, id] of ids.entries()) {
        expect(attempts[i]?.outcome).toMatchObject({ ok: true, result: { text: `${id} done` } });
        expect(await readFile(join(workdirs[i] as string, `${id}.txt`), 'utf8')).toBe(`${id}\n`);
        expect(
          existsSync(join(h.home, '.local', 'state', 'weft', 'agents', 'run-1', 'codex', id, 'state_5.sqlite')),
        ).toBe(true);
      }
      expect(existsSync(join(h.home, '.codex', 'state_5.sqlite'))).toBe(false);
      expect(h.llm.verify()).toEqual([]);
    },
  );
});

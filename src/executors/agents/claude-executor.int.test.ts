/**
 * ClaudeExecutor with the real Claude Code binary (pinned devDependency) against FakeLlmServer,
 * each test in its own HOME, workdir and run folder.
 */
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeEnv } from '../../../test/support/fake-llm/agent-env.js';
import { redactorOf } from '../../core/redact.js';
import type { AgentExecutorOptions } from './agent-cli-executor.js';
import { ClaudeExecutor } from './claude-executor.js';
import { preemptedNote } from '../../core/run/policies/preempt.js';
import {
  abortOnSession,
  agentHarness,
  agentTask,
  CLI_BINS,
  abortStuck,
  messages,
  step,
  type AgentHarness,
} from './testing/agent-harness.js';

const TIMEOUT = 60_000;

async function claude(h: AgentHarness, options: AgentExecutorOptions = {}): Promise<ClaudeExecutor> {
  const { env } = await claudeEnv(h.llm, { home: h.home });
  return new ClaudeExecutor({ bin: CLI_BINS.claude, env, ...options });
}

describe('ClaudeExecutor against the real claude', { concurrent: true }, () => {
  it(
    'returns the text with usage, Claude’s cost and the session; logs go to the run folder',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue(
        'anthropic',
        step.text('Hello from the fake model', { usage: { input: 120, output: 7, cached: 30 } }),
      );

      const { outcome, progress } = await h.run(await claude(h), agentTask({ id: 'hello', prompt: 'Say hello' }));

      expect(outcome).toMatchObject({
        ok: true,
        result: { exitCode: 0, text: 'Hello from the fake model', sessionId: expect.any(String) },
      });
      if (!outcome.ok) return;
      expect(outcome.result.usage).toMatchObject({
        model: 'claude-opus-4-8',
        inputTokens: 150,
        outputTokens: 7,
        cacheReadTokens: 30,
        costUsd: expect.any(Number),
      });
      expect(outcome.result.usage?.costUsd).toBeGreaterThan(0);
      expect(messages(progress, 'status')[0]).toBe('claude 2.1.197');
      expect(progress).toContainEqual({ kind: 'session', sessionId: outcome.result.sessionId });
      expect(progress.filter((p) => p.kind === 'usage').at(-1)?.usage).toEqual(outcome.result.usage);
      expect(messages(progress, 'text')).toEqual(['Hello from the fake model']);
      const stdoutLog = await readFile(join(h.runDir, 'tasks', 'hello', '1.stdout.log'), 'utf8');
      expect(stdoutLog).toContain('"type":"result"');
      expect(existsSync(join(h.runDir, 'tasks', 'hello', '1.stderr.log'))).toBe(true);
      expect(h.llm.turns()[0]?.userTexts).toContain('Say hello');
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'leaves no copy of a secret in its logs: what the model said is masked once the attempt ends',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const secret = 'sk-ant-leaked-0123456789';
      h.llm.enqueue('anthropic', step.text(`The key is ${secret}`));

      const { outcome } = await h.run(await claude(h), agentTask({ id: 'leak', prompt: 'Print the key' }), {
        redact: redactorOf([secret]),
      });

      expect(outcome).toMatchObject({ ok: true });
      const stdoutLog = await readFile(join(h.runDir, 'tasks', 'leak', '1.stdout.log'), 'utf8');
      expect(stdoutLog).toContain('The key is ***');
      expect(stdoutLog).not.toContain(secret);
    },
  );

  it(
    'writes a file in the workdir with Write (acceptEdits by default) and reports the tool call',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const workdir = await h.workdir('tree');
      h.llm.enqueue(
        'anthropic',
        step.writeFile(join(workdir, 'hello.txt'), 'hello from claude\n'),
        step.text('Wrote hello.txt'),
      );

      const { outcome, progress } = await h.run(
        await claude(h),
        agentTask({ id: 'write', prompt: 'Create hello.txt' }),
        { workdir },
      );

      expect(outcome).toMatchObject({ ok: true, result: { text: 'Wrote hello.txt' } });
      expect(await readFile(join(workdir, 'hello.txt'), 'utf8')).toBe('hello from claude\n');
      expect(messages(progress, 'tool')).toEqual([`Write ${join(workdir, 'hello.txt')}`]);
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'passes outputSchema as --json-schema and returns the structured output (Claude makes the model fix a mismatch)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const outputSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      h.llm.enqueue('anthropic', step.json({ answer: 42 }), step.json({ answer: '42' }));

      const { outcome } = await h.run(
        await claude(h),
        agentTask({ id: 'answer', prompt: 'What is the answer?', outputSchema }),
      );

      expect(outcome).toMatchObject({ ok: true, result: { output: { answer: '42' } } });
      const [first, second] = h.llm.turns();
      expect(first?.offeredTools).toContain('StructuredOutput');
      expect(second?.toolResults).toEqual([
        expect.objectContaining({
          isError: true,
          output: 'Output does not match required schema: /answer: must be string',
        }),
      ]);
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it('fails on a 400 with the API’s message, not transient', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.badRequest('model: unknown model'));

    const { outcome } = await h.run(await claude(h), agentTask({ id: 'bad', prompt: 'Hi' }));

    expect(outcome).toMatchObject({
      ok: false,
      failure: { message: 'claude: API Error: 400 model: unknown model (HTTP 400)', exitCode: 1 },
    });
    if (!outcome.ok) expect(outcome.failure.transient).toBeUndefined();
  });

  it('names the env var to set on a 401', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.error('unauthorized', { times: Infinity }));

    const { outcome } = await h.run(await claude(h), agentTask({ id: 'auth', prompt: 'Hi' }));

    expect(outcome).toMatchObject({
      ok: false,
      failure: {
        code: 'WEFT_AGENT_AUTH',
        message: expect.stringContaining('set ANTHROPIC_API_KEY (or executors.claude.apiKeyEnv), or log in'),
      },
    });
    if (!outcome.ok) expect(outcome.failure.transient).toBeUndefined();
  });

  it(
    'returns a 429 as a transient failure with the server’s retry-after, after one capped CLI retry',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue('anthropic', step.rateLimited(1, { times: Infinity }));

      const started = Date.now();
      const { outcome, progress } = await h.run(await claude(h), agentTask({ id: 'limited', prompt: 'Hi' }));

      expect(outcome).toMatchObject({
        ok: false,
        failure: {
          transient: true,
          retryAfterMs: 1000,
          code: 'WEFT_RATE_LIMITED',
          message: expect.stringMatching(/^claude: rate limited \(HTTP 429\)/),
        },
      });
      expect(h.llm.turns()).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(messages(progress, 'status')).toContain('API error 429 (rate_limit); claude retries in 1.0s (1/1)');
    },
  );

  it('resumes the session with --resume and sends the fix request', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.text('First answer'), step.text('Fixed'));
    const executor = await claude(h);
    const task = agentTask({ id: 'fixme', prompt: 'Write the greeting' });

    const { outcome, sessionId } = await h.runAndFix(executor, task, 'Merge conflict in greeting.txt: keep both lines');

    expect(outcome).toMatchObject({
      ok: true,
      result: { text: 'Fixed', sessionId, usage: { inputTokens: 100, outputTokens: 10 } },
    });
    const second = h.llm.turns()[1];
    expect(second?.headers['x-claude-code-session-id']).toBe(sessionId);
    expect(second?.userTexts).toContain('Write the greeting');
    expect(second?.userTexts.at(-1)).toContain('Merge conflict in greeting.txt: keep both lines');
  });

  it('resumes the session of a preempted attempt, told it was paused', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.hang(), step.text('Carried on'));
    const executor = await claude(h, { killGraceMs: 1000 });
    const task = agentTask({ id: 'long', prompt: 'Write the long report' });
    const controller = new AbortController();
    const first = await h.run(executor, task, {
      signal: controller.signal,
      onProgress: abortOnSession(controller, { kind: 'preempted', by: 'hotfix' }),
    });
    expect(first.outcome.ok).toBe(false);
    const sessionId = first.progress.find((p) => p.kind === 'session')?.sessionId as string;
    expect(sessionId).toBeDefined();

    // What the engine hands the next attempt of a preempted agent task: its session and the note.
    const { outcome } = await h.run(executor, task, { attempt: 2, sessionId, feedback: preemptedNote('hotfix') });

    expect(outcome).toMatchObject({ ok: true, result: { text: 'Carried on', sessionId } });
    const second = h.llm.turns().at(-1);
    expect(second?.headers['x-claude-code-session-id']).toBe(sessionId);
    expect(second?.userTexts.at(-1)).toContain('You were paused for an urgent task ("hotfix"); continue');
  });

  it('starts a new session when the one to resume is gone', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.text('Fresh start'));

    const { outcome, progress } = await h.run(await claude(h), agentTask({ id: 'lost', prompt: 'Hi' }), {
      sessionId: '6f1c2d7e-0000-4000-8000-000000000000',
    });

    expect(outcome).toMatchObject({ ok: true, result: { text: 'Fresh start' } });
    expect(messages(progress, 'status')).toContain(
      'session 6f1c2d7e-0000-4000-8000-000000000000 not found; starting a new session',
    );
  });

  it('kills the process group when the attempt is aborted', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('anthropic', step.hang());
    const { outcome, atSession, left } = await abortStuck(h, await claude(h, { killGraceMs: 1000 }), {
      kind: 'timeout',
      ms: 5000,
    });

    expect(outcome).toMatchObject({ ok: false, failure: { message: 'claude timed out after 5s', timedOut: true } });
    expect(atSession.length).toBeGreaterThan(0); // its CLI was found running by its WEFT_* env
    expect(left).toEqual([]);
  });

  it(
    'runs parallel sessions in one HOME without sharing config: each its own, all with the user’s settings',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      // The user's own state: a global config that must stay as it was, and settings that must apply.
      const userConfig = JSON.stringify({ numStartups: 7, hasCompletedOnboarding: true, userID: 'u1' });
      await writeFile(join(h.home, '.claude.json'), userConfig);
      await mkdir(join(h.home, '.claude'), { recursive: true });
      await writeFile(join(h.home, '.claude', 'settings.json'), JSON.stringify({ model: 'claude-sonnet-4-5' }));
      const ids = ['a', 'b', 'c'];

      const { attempts, workdirs } = await h.runInParallel(await claude(h), ids);

      for (const [i, id] of ids.entries()) {
        expect(attempts[i]?.outcome).toMatchObject({ ok: true, result: { text: `${id} done` } });
        expect(await readFile(join(workdirs[i] as string, `${id}.txt`), 'utf8')).toBe(`${id}\n`);
        const config = join(h.home, '.local', 'state', 'weft', 'agents', 'run-1', 'claude', id);
        expect(lstatSync(join(config, 'settings.json')).isSymbolicLink()).toBe(true);
        expect(await readdir(join(config, 'projects'))).toHaveLength(1);
      }
      expect(new Set(h.llm.turns().map((t) => t.model))).toEqual(new Set(['claude-sonnet-4-5']));
      expect(await readFile(join(h.home, '.claude.json'), 'utf8')).toBe(userConfig);
      expect(existsSync(join(h.home, '.claude', 'projects'))).toBe(false);
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'keeps the user’s OAuth login: credentials stay where the user’s claude keeps them',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      await mkdir(join(h.home, '.claude'), { recursive: true });
      const credentials = {
        claudeAiOauth: {
          accessToken: 'sk-ant-oat01-fake',
          refreshToken: 'sk-ant-ort01-fake',
          expiresAt: Date.now() + 3_600_000,
          scopes: ['user:inference', 'user:profile'],
          subscriptionType: 'max',
        },
      };
      await writeFile(join(h.home, '.claude', '.credentials.json'), JSON.stringify(credentials), { mode: 0o600 });
      h.llm.enqueue('anthropic', step.text('Logged in'));
      const { env } = await claudeEnv(h.llm, { home: h.home });
      const { ANTHROPIC_API_KEY: _key, ...withoutKey } = env;

      const { outcome } = await h.run(
        new ClaudeExecutor({ bin: CLI_BINS.claude, env: withoutKey }),
        agentTask({ id: 'oauth', prompt: 'Hi' }),
      );

      expect(outcome).toMatchObject({ ok: true, result: { text: 'Logged in' } });
      expect(h.llm.turns()[0]?.headers.authorization).toBe('Bearer sk-ant-oat01-fake');
      expect(
        existsSync(join(h.home, '.local', 'state', 'weft', 'agents', 'run-1', 'claude', 'oauth', '.credentials.json')),
      ).toBe(false);
    },
  );

  it('says how to install claude when the binary is missing', async (ctx) => {
    const h = await agentHarness(ctx);
    const { outcome } = await h.run(
      new ClaudeExecutor({ bin: 'claude-not-installed-xyz', env: { PATH: process.env['PATH'] ?? '' } }),
      agentTask({ id: 'none', prompt: 'Hi' }),
    );

    expect(outcome).toMatchObject({
      ok: false,
      failure: {
        message:
          'claude not found: npm i -g @anthropic-ai/claude-code, or set executors.claude.bin (tried `claude-not-installed-xyz`)',
      },
    });
  });
});

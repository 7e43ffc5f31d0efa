/**
 * GeminiExecutor with the real Gemini CLI binary (pinned devDependency) against FakeLlmServer,
 * each test in its own HOME, workdir and run folder. Gemini CLI starts slowly (2–6 s on two busy
 * cores), so tests that can share a run do.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { geminiEnv } from '../../../test/support/fake-llm/agent-env.js';
import type { AgentExecutorOptions } from './agent-cli-executor.js';
import { GeminiExecutor } from './gemini-executor.js';
import {
  agentHarness,
  agentTask,
  CLI_BINS,
  abortStuck,
  messages,
  step,
  type AgentHarness,
} from './testing/agent-harness.js';

const TIMEOUT = 90_000;

async function gemini(h: AgentHarness, options: AgentExecutorOptions = {}): Promise<GeminiExecutor> {
  const { env } = await geminiEnv(h.llm, { home: h.home });
  // What weft itself must take care of: trust (--skip-trust) and the retry cap (the CLI's default is 10 attempts).
  const { GEMINI_CLI_TRUST_WORKSPACE: _trust, ...userEnv } = env;
  const settingsFile = join(h.home, '.gemini', 'settings.json');
  const settings = JSON.parse(await readFile(settingsFile, 'utf8')) as { general: Record<string, unknown> };
  delete settings.general['maxAttempts'];
  await writeFile(settingsFile, JSON.stringify(settings));
  return new GeminiExecutor({ bin: CLI_BINS.gemini, env: userEnv, model: 'gemini-2.5-flash', ...options });
}

describe('GeminiExecutor against the real gemini', { concurrent: true }, () => {
  it(
    'returns the text with priced usage and the session, and writes a file with write_file',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const workdir = await h.workdir('tree');
      h.llm.enqueue(
        'gemini',
        step.writeFile(join(workdir, 'hello.txt'), 'hello from gemini\n'),
        step.text('Wrote hello.txt', { usage: { input: 120, output: 7, cached: 30 } }),
      );

      const { outcome, progress } = await h.run(
        await gemini(h),
        agentTask({ id: 'hello', prompt: 'Create hello.txt' }),
        { workdir },
      );

      expect(outcome).toMatchObject({
        ok: true,
        result: { exitCode: 0, text: 'Wrote hello.txt', sessionId: expect.any(String) },
      });
      if (!outcome.ok) return;
      expect(outcome.result.usage).toMatchObject({
        model: 'gemini-2.5-flash',
        inputTokens: 220,
        outputTokens: 17,
        cacheReadTokens: 30,
      });
      expect(outcome.result.usage?.costUsd).toBeGreaterThan(0);
      expect(await readFile(join(workdir, 'hello.txt'), 'utf8')).toBe('hello from gemini\n');
      expect(messages(progress, 'status')[0]).toBe('gemini 0.61.0');
      expect(messages(progress, 'tool')).toEqual([`write_file ${join(workdir, 'hello.txt')}`]);
      expect(progress).toContainEqual({ kind: 'session', sessionId: outcome.result.sessionId });
      expect(await readFile(join(h.runDir, 'tasks', 'hello', '1.stdout.log'), 'utf8')).toContain('"type":"result"');
      expect(h.llm.verify()).toEqual([]);
    },
  );

  it(
    'asks for JSON when the task has an outputSchema and validates it; a mismatch fails with a fix request',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const outputSchema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      h.llm.script({ marker: '[good]' }, step.json({ answer: '42' }));
      h.llm.script({ marker: '[bad]' }, step.text('The answer is 42.'));
      const executor = await gemini(h);

      const [good, bad] = await Promise.all([
        h.run(executor, agentTask({ id: 'good', prompt: 'What is the answer? [good]', outputSchema }), {
          workdir: await h.workdir('good'),
        }),
        h.run(executor, agentTask({ id: 'bad', prompt: 'What is the answer? [bad]', outputSchema }), {
          workdir: await h.workdir('bad'),
        }),
      ]);

      expect(good.outcome).toMatchObject({ ok: true, result: { output: { answer: '42' } } });
      expect(
        h.llm
          .turns()
          .find((t) => t.userTexts.some((u) => u.includes('[good]')))
          ?.userTexts.at(-1),
      ).toContain(JSON.stringify(outputSchema));
      expect(bad.outcome).toMatchObject({
        ok: false,
        failure: {
          code: 'WEFT_OUTPUT_SCHEMA',
          message: 'gemini: the answer is not JSON, but the task has an outputSchema',
          fix: expect.any(String),
        },
      });
    },
  );

  it(
    'fails on a 401 naming the env var, and returns a 429 at once as transient with the suggested wait',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.script({ marker: '[401]' }, step.unauthorized());
      h.llm.script({ marker: '[429]' }, step.rateLimited(7));
      const executor = await gemini(h);

      const started = Date.now();
      const [auth, limited] = await Promise.all([
        h.run(executor, agentTask({ id: 'auth', prompt: 'Hi [401]' }), { workdir: await h.workdir('auth') }),
        h.run(executor, agentTask({ id: 'limited', prompt: 'Hi [429]' }), { workdir: await h.workdir('limited') }),
      ]);

      expect(auth.outcome).toMatchObject({
        ok: false,
        failure: {
          code: 'WEFT_AGENT_AUTH',
          exitCode: 145,
          message: expect.stringContaining(
            '— set GEMINI_API_KEY (or executors.gemini.apiKeyEnv), or log in by running `gemini` once',
          ),
        },
      });
      if (!auth.outcome.ok) expect(auth.outcome.failure.transient).toBeUndefined();
      // Stopped at its own first retry (it would wait at least 5 s, up to 10 times): one request each,
      // and the wait it announced (the server's 7 s plus jitter) is weft's.
      expect(limited.outcome).toMatchObject({
        ok: false,
        failure: {
          transient: true,
          code: 'WEFT_RATE_LIMITED',
          message: expect.stringMatching(/^gemini: rate limited: fake-llm: rate limit exceeded/),
        },
      });
      if (!limited.outcome.ok) expect(limited.outcome.failure.retryAfterMs).toBeGreaterThanOrEqual(7000);
      expect(messages(limited.progress, 'status').some((m) => m.startsWith('stopping gemini: '))).toBe(true);
      expect(h.llm.turns()).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(30_000);
    },
  );

  it('resumes the session with --resume and sends the fix request', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('gemini', step.text('First answer'), step.text('Fixed'));
    const executor = await gemini(h);
    const task = agentTask({ id: 'fixme', prompt: 'Write the greeting' });

    const { outcome, sessionId } = await h.runAndFix(executor, task, 'Merge conflict in greeting.txt: keep both lines');

    expect(outcome).toMatchObject({
      ok: true,
      result: { text: 'Fixed', sessionId, usage: { inputTokens: 100, outputTokens: 10 } },
    });
    const second = h.llm.turns()[1];
    expect(second?.userTexts).toContain('Write the greeting');
    expect(second?.userTexts.at(-1)).toContain('Merge conflict in greeting.txt: keep both lines');
  });

  it('kills the process group when the attempt is aborted', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    h.llm.enqueue('gemini', step.hang());
    const { outcome, atSession, left } = await abortStuck(h, await gemini(h, { killGraceMs: 1000 }), {
      kind: 'timeout',
      ms: 2000,
    });

    expect(outcome).toMatchObject({ ok: false, failure: { message: 'gemini timed out after 2s', timedOut: true } });
    expect(atSession.length).toBeGreaterThan(0); // its CLI was found running by its WEFT_* env
    expect(left).toEqual([]);
  });

  it('runs parallel sessions in one HOME, each in its own workdir', { timeout: TIMEOUT }, async (ctx) => {
    const h = await agentHarness(ctx);
    const ids = ['a', 'b', 'c'];

    const { attempts, workdirs } = await h.runInParallel(await gemini(h), ids);

    for (const [i, id] of ids.entries()) {
      expect(attempts[i]?.outcome).toMatchObject({ ok: true, result: { text: `${id} done` } });
      expect(await readFile(join(workdirs[i] as string, `${id}.txt`), 'utf8')).toBe(`${id}\n`);
    }
    const registry = JSON.parse(await readFile(join(h.home, '.gemini', 'projects.json'), 'utf8')) as {
      projects: Record<string, string>;
    };
    expect(Object.keys(registry.projects).sort()).toEqual([...workdirs].sort());
    expect(h.llm.verify()).toEqual([]);
  });
});

/**
 * AnthropicExecutor and OpenAiExecutor through their SDKs against FakeLlmServer: what a task
 * gets back (text, structured output, usage and cost) and how provider failures come out.
 */
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import type { Executor, TaskContext, TaskOutcome } from '../../core/ports/executor.js';
import type { ResolvedTask } from '../../core/plan/graph.js';
import { FakeLlmServer, step } from '../../../test/support/fake-llm/fake-llm-server.js';
import { AnthropicExecutor, OpenAiExecutor } from './llm-executor.js';
import { testContext, testTask } from '../testing/task-context.js';

function task(partial: Partial<ResolvedTask> & { readonly id: string }): ResolvedTask {
  return testTask({ executor: 'llm', ...partial });
}

function run(executor: Executor, t: ResolvedTask, extra: Partial<TaskContext> = {}): Promise<TaskOutcome> {
  return executor.run(testContext(t, extra));
}

async function server({ onTestFinished }: TestContext): Promise<FakeLlmServer> {
  const llm = await FakeLlmServer.start();
  onTestFinished(() => llm.close());
  return llm;
}

const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

const providers = [
  {
    name: 'AnthropicExecutor',
    provider: 'anthropic' as const,
    make: (llm: FakeLlmServer) => new AnthropicExecutor({ baseUrl: llm.url, apiKey: 'k', model: 'claude-sonnet-4-6' }),
    model: 'claude-sonnet-4-6',
    path: '/v1/messages',
  },
  {
    name: 'OpenAiExecutor',
    provider: 'openai' as const,
    make: (llm: FakeLlmServer) => new OpenAiExecutor({ baseUrl: `${llm.url}/v1`, apiKey: 'k' }),
    model: 'gpt-5-mini',
    path: '/v1/chat/completions',
  },
];

describe('without an API key', () => {
  it.each([
    [
      'anthropic',
      () => new AnthropicExecutor({ env: {} }),
      'ANTHROPIC_API_KEY is not set: export your API key as ANTHROPIC_API_KEY (or name the variable that holds it with executors.anthropic.apiKeyEnv in weft.config.yaml)',
    ],
    [
      'openai',
      () => new OpenAiExecutor({ env: { OPENAI_API_KEY: '' } }),
      'OPENAI_API_KEY is not set: export your API key as OPENAI_API_KEY (or name the variable that holds it with executors.openai.apiKeyEnv in weft.config.yaml)',
    ],
    [
      'anthropic, apiKeyEnv',
      () => new AnthropicExecutor({ apiKeyEnv: 'TEAM_KEY', env: {} }),
      'TEAM_KEY is not set: export your API key as TEAM_KEY (executors.anthropic.apiKeyEnv in weft.config.yaml names it)',
    ],
    [
      // The provider's own key is not sent instead: it would go to the server the config chose for another key.
      'openai, a baseUrl and apiKeyEnv unset, OPENAI_API_KEY set',
      () =>
        new OpenAiExecutor({
          baseUrl: 'http://127.0.0.1:9/v1',
          apiKeyEnv: 'OLLAMA_API_KEY',
          env: { OPENAI_API_KEY: 'sk-real-openai-key' },
        }),
      'OLLAMA_API_KEY is not set: export your API key as OLLAMA_API_KEY (executors.openai.apiKeyEnv in weft.config.yaml names it)',
    ],
  ])('%s: fails at once saying which variable to set, without calling the API', async (_name, make, message) => {
    expect(await run(make(), task({ id: 't', prompt: 'Hi' }))).toEqual({
      ok: false,
      failure: { message, code: 'WEFT_EXECUTOR' },
    });
  });

  it('a local OpenAI-compatible server (a baseUrl) needs none', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue('openai', step.text('local'));
    expect(
      await run(new OpenAiExecutor({ baseUrl: `${llm.url}/v1`, env: {} }), task({ id: 't', prompt: 'Hi' })),
    ).toMatchObject({ ok: true, result: { text: 'local' } });
  });
});

describe.each(providers)('$name against FakeLlmServer', ({ provider, make, model, path }) => {
  it('returns the text with usage priced from the table', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue(provider, step.text('Hello from the fake model', { usage: { input: 1000, output: 100 } }));
    const usage: unknown[] = [];

    const outcome = await run(make(llm), task({ id: 't', prompt: 'Say hello' }), { emit: (e) => usage.push(e.usage) });

    expect(outcome).toEqual({
      ok: true,
      result: {
        text: 'Hello from the fake model',
        usage: expect.objectContaining({ model, inputTokens: 1000, outputTokens: 100, costUsd: expect.any(Number) }),
      },
    });
    if (outcome.ok) expect(outcome.result.usage?.costUsd).toBeGreaterThan(0);
    expect(usage).toEqual([outcome.ok ? outcome.result.usage : undefined]);
    expect(llm.turns()[0]).toMatchObject({ path, model, userTexts: ['Say hello'] });
    expect(llm.verify()).toEqual([]);
  });

  it('returns structured output validated against outputSchema', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue(provider, step.json({ answer: '42' }));

    const outcome = await run(make(llm), task({ id: 't', prompt: 'What is the answer?', outputSchema: schema }));

    expect(outcome).toMatchObject({ ok: true, result: { output: { answer: '42' } } });
    const body = llm.turns()[0]?.body;
    if (provider === 'anthropic') expect(body).toMatchObject({ tool_choice: { type: 'tool', name: 'answer' } });
    else
      expect(body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } } });
  });

  it('fails when the answer does not match outputSchema, as a fix that quotes the answer', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue(provider, step.json({ answer: 42 }));

    const outcome = await run(make(llm), task({ id: 't', prompt: 'What is the answer?', outputSchema: schema }));

    expect(outcome).toMatchObject({
      ok: false,
      failure: {
        message: expect.stringMatching(/^the answer does not match outputSchema: answer /),
        code: 'WEFT_OUTPUT_SCHEMA',
        fix: expect.stringMatching(/^the answer does not match outputSchema: answer [^]*Your answer was:\n.*42/),
      },
    });
    if (!outcome.ok) expect(outcome.failure.transient).toBeUndefined();
  });

  it('returns a 429 with retry-after as a transient failure with retryAfterMs, without retrying itself', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue(provider, step.rateLimited(2, { times: Infinity }));

    const outcome = await run(make(llm), task({ id: 't', prompt: 'Hi' }));

    expect(outcome).toMatchObject({
      ok: false,
      failure: {
        transient: true,
        retryAfterMs: 2000,
        code: 'WEFT_RATE_LIMITED',
        message: expect.stringMatching(/^HTTP 429: /),
      },
    });
    expect(llm.turns()).toHaveLength(1);
  });

  it('fails a 400 as the task’s own failure', async (ctx) => {
    const llm = await server(ctx);
    llm.enqueue(provider, step.badRequest('model: unknown model'));

    const outcome = await run(make(llm), task({ id: 't', prompt: 'Hi' }));

    expect(outcome).toMatchObject({
      ok: false,
      failure: { transient: false, message: expect.stringContaining('HTTP 400') },
    });
  });
});

/**
 * FakeLlmServer on its own, driven by the official Anthropic and OpenAI SDKs (so the wire format is
 * checked by the providers' own parsers) and by plain HTTP for Gemini, lookups and proxying.
 */
import Anthropic from '@anthropic-ai/sdk';
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import type { TestContext } from 'vitest';
import { describe, expect, it } from 'vitest';
import { FakeLlmServer, step } from './fake-llm-server.js';

async function start({ onTestFinished }: TestContext): Promise<FakeLlmServer> {
  const llm = await FakeLlmServer.start();
  onTestFinished(() => llm.close());
  return llm;
}

const anthropic = (llm: FakeLlmServer): Anthropic => new Anthropic({ baseURL: llm.url, apiKey: 'k', maxRetries: 0 });
const openai = (llm: FakeLlmServer): OpenAI => new OpenAI({ baseURL: `${llm.url}/v1`, apiKey: 'k', maxRetries: 0 });
const WRITE_TOOL = { name: 'Write', input_schema: { type: 'object' as const, properties: {} } };

/** The `data:` payloads of an SSE body. */
function sseData(body: string): unknown[] {
  return body
    .split('\n\n')
    .flatMap((event) => event.split('\n').filter((line) => line.startsWith('data: ')))
    .map((line) => JSON.parse(line.slice('data: '.length)) as unknown);
}

function postGemini(llm: FakeLlmServer, body: unknown, method = 'streamGenerateContent?alt=sse'): Promise<Response> {
  return fetch(`${llm.url}/v1beta/models/gemini-2.5-flash:${method}`, { method: 'POST', body: JSON.stringify(body) });
}

describe('FakeLlmServer: Anthropic Messages', () => {
  it('streams text with usage that the Anthropic SDK assembles', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('anthropic', step.text('Hello there', { usage: { input: 12, output: 3, cached: 4 } }));

    const message = await anthropic(llm)
      .messages.stream({ model: 'claude-x', max_tokens: 10, messages: [{ role: 'user', content: 'Hi [m1]' }] })
      .finalMessage();

    expect(message.content).toEqual([{ type: 'text', text: 'Hello there' }]);
    expect(message).toMatchObject({
      stop_reason: 'end_turn',
      model: 'claude-x',
      usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 4 },
    });
    expect(llm.turns('anthropic')[0]).toMatchObject({
      path: '/v1/messages',
      userTexts: ['Hi [m1]'],
      stream: true,
      script: 'anthropic',
      reply: 'text',
    });
  });

  it('streams a Write tool call, then records the tool result that comes back', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('anthropic', step.writeFile('/w/a.txt', 'A\n'), step.text('done'));
    const client = anthropic(llm);

    const first = await client.messages
      .stream({ model: 'm', max_tokens: 10, tools: [WRITE_TOOL], messages: [{ role: 'user', content: 'write' }] })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'tool_use', id: 'toolu_fake_1_0', name: 'Write', input: { file_path: '/w/a.txt', content: 'A\n' } },
    ]);

    await client.messages.create({
      model: 'm',
      max_tokens: 10,
      tools: [WRITE_TOOL],
      messages: [
        { role: 'user', content: 'write' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_fake_1_0', content: [{ type: 'text', text: 'ok' }] }],
        },
      ],
    });
    expect(llm.turns()[1]?.toolResults).toEqual([{ callId: 'toolu_fake_1_0', output: 'ok', isError: false }]);
    expect(llm.verify()).toEqual([]);
  });

  it('answers step.json with the tool an API client forces (tool_choice), without streaming', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('anthropic', step.json({ answer: '42' }));

    const message = await anthropic(llm).messages.create({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'answer' }],
      tools: [{ name: 'answer', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'tool', name: 'answer' },
    });

    expect(message.content).toEqual([
      { type: 'tool_use', id: 'toolu_fake_1_0', name: 'answer', input: { answer: '42' } },
    ]);
    expect(llm.turns()[0]?.stream).toBe(false);
  });

  it('answers 429 with retry-after and 529 with overloaded_error', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('anthropic', step.rateLimited(7), step.overloaded());
    const call = (): Promise<unknown> =>
      anthropic(llm).messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] });

    const limited = await call().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')).toBe('7');
    const overloaded = await call().catch((e: unknown) => e);
    expect(overloaded).toMatchObject({
      status: 529,
      error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
  });

  it('refuses a tool the CLI did not offer, and says so in verify()', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('anthropic', step.shell('ls'));

    const error = await anthropic(llm)
      .messages.create({ model: 'm', max_tokens: 1, tools: [WRITE_TOOL], messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 400 });
    expect(llm.verify()).toEqual(['#1 POST /v1/messages: Claude did not offer tool `Bash`; offered: Write']);
  });
});

describe('FakeLlmServer: OpenAI Responses', () => {
  it('streams text with usage that the OpenAI SDK assembles', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.text('Hello there', { usage: { input: 12, output: 3, cached: 4, reasoning: 2 } }));

    const response = await openai(llm).responses.stream({ model: 'gpt-5.5', input: 'Hi' }).finalResponse();

    expect(response.output_text).toBe('Hello there');
    expect(response.usage).toMatchObject({
      input_tokens: 12,
      output_tokens: 3,
      input_tokens_details: { cached_tokens: 4 },
      output_tokens_details: { reasoning_tokens: 2 },
    });
    expect(llm.turns('openai')[0]).toMatchObject({ path: '/v1/responses', model: 'gpt-5.5', userTexts: ['Hi'] });
  });

  it('renders writeFile as a freeform apply_patch call and shell as exec_command', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue(
      'openai',
      step.tools([
        { kind: 'write-file', path: 'a.txt', content: 'A\nB\n' },
        { kind: 'shell', command: 'ls' },
      ]),
    );
    const tools = [
      { type: 'custom' as const, name: 'apply_patch' },
      { type: 'function' as const, name: 'exec_command', parameters: {}, strict: false },
    ];

    const response = await openai(llm).responses.stream({ model: 'gpt-5.5', input: 'go', tools }).finalResponse();

    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'custom_tool_call',
        name: 'apply_patch',
        call_id: 'call_fake_1_0',
        input: '*** Begin Patch\n*** Add File: a.txt\n+A\n+B\n*** End Patch\n',
      }),
      expect.objectContaining({
        type: 'function_call',
        name: 'exec_command',
        call_id: 'call_fake_1_1',
        arguments: '{"cmd":"ls"}',
      }),
    ]);
  });

  it('names the tool results Codex sends back', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.text('ok'));

    await openai(llm).responses.create({
      model: 'gpt-5.5',
      input: [
        { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'listing' },
      ],
    });

    expect(llm.turns()[0]?.toolResults).toEqual([{ callId: 'c1', name: 'exec_command', output: 'listing' }]);
  });

  it('answers errors in the OpenAI error shape', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.rateLimited(3));

    const error = await openai(llm)
      .responses.create({ model: 'm', input: 'x' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('3');
  });
});

describe('FakeLlmServer: OpenAI Chat Completions', () => {
  it('answers text without streaming, with usage the OpenAI SDK reads', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.text('Hello there', { usage: { input: 12, output: 3, cached: 4 } }));

    const completion = await openai(llm).chat.completions.create({
      model: 'gpt-5-mini',
      messages: [{ role: 'user', content: 'Hi [c1]' }],
    });

    expect(completion.choices[0]).toMatchObject({
      message: { role: 'assistant', content: 'Hello there' },
      finish_reason: 'stop',
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens: 12,
      completion_tokens: 3,
      prompt_tokens_details: { cached_tokens: 4 },
    });
    expect(llm.turns('openai')[0]).toMatchObject({
      path: '/v1/chat/completions',
      model: 'gpt-5-mini',
      stream: false,
      userTexts: ['Hi [c1]'],
      reply: 'text',
    });
  });

  it('streams text and a tool call that the SDK assembles, with usage when asked for', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue(
      'openai',
      { kind: 'tool-calls', text: 'Looking', calls: [{ kind: 'raw', name: 'lookup', input: { q: 'weft' } }] },
      step.text('Found it'),
    );
    const tools = [
      { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
    ];
    const client = openai(llm);

    const first = await client.chat.completions
      .stream({
        model: 'm',
        messages: [{ role: 'user', content: 'find' }],
        tools,
        stream_options: { include_usage: true },
      })
      .finalChatCompletion();
    expect(first.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        content: 'Looking',
        tool_calls: [
          { id: 'call_fake_1_0', type: 'function', function: { name: 'lookup', arguments: '{"q":"weft"}' } },
        ],
      },
    });
    expect(first.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 10 });

    const chunks: string[] = [];
    const stream = await client.chat.completions.create({
      model: 'm',
      stream: true,
      messages: [
        { role: 'user', content: 'find' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_fake_1_0', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_fake_1_0', content: 'weft is an orchestrator' },
      ],
    });
    for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta.content ?? '');
    expect(chunks.join('')).toBe('Found it');
    expect(llm.turns()[1]?.toolResults).toEqual([
      { callId: 'call_fake_1_0', name: 'lookup', output: 'weft is an orchestrator' },
    ]);
  });

  it('answers errors in the OpenAI error shape', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.rateLimited(2));

    const error = await openai(llm)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('2');
  });
});

describe('FakeLlmServer: Gemini', () => {
  it('streams text in chunks, usage on the last one', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', step.text('Hello there', { usage: { input: 12, output: 3 } }));

    const res = await postGemini(llm, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });

    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const chunks = sseData(await res.text()) as {
      candidates: { content: { parts: { text: string }[] }; finishReason?: string }[];
      usageMetadata?: unknown;
    }[];
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('Hello there');
    expect(chunks.at(-1)).toMatchObject({
      candidates: [{ finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
    });
    expect(llm.turns('gemini')[0]).toMatchObject({
      model: 'gemini-2.5-flash',
      stream: true,
      query: { alt: 'sse' },
      userTexts: ['Hi'],
    });
  });

  it('renders writeFile as a write_file functionCall, also without streaming', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', step.writeFile('/w/a.txt', 'A'));
    const tools = [{ functionDeclarations: [{ name: 'write_file' }] }];

    const res = await postGemini(
      llm,
      { contents: [{ role: 'user', parts: [{ text: 'go' }] }], tools },
      'generateContent',
    );

    expect(await res.json()).toMatchObject({
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              {
                functionCall: {
                  id: 'call_fake_1_0',
                  name: 'write_file',
                  args: { file_path: '/w/a.txt', content: 'A' },
                },
              },
            ],
          },
        },
      ],
    });
  });

  it('answers 429 with RetryInfo and retry-after', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', step.rateLimited(2));

    const res = await postGemini(llm, { contents: [] });

    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({
      error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ retryDelay: '2s' }] },
    });
  });
});

describe('FakeLlmServer: scripts', () => {
  it('routes by marker before the default script, and repeats steps `times` times', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('openai', step.text('default'));
    const a = llm.script({ marker: '[a]' }, step.text('a', { times: 2 }), (req) =>
      step.text(`echo ${req.userTexts.at(-1) ?? ''}`),
    );
    const say = async (input: string): Promise<string> =>
      (await openai(llm).responses.create({ model: 'm', input })).output_text;

    expect([await say('x [a]'), await say('plain'), await say('y [a]'), await say('z [a]')]).toEqual([
      'a',
      'default',
      'a',
      'echo z [a]',
    ]);
    expect(a.requests.map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(llm.verify()).toEqual([]);
  });

  it('answers 400 when a script is used up and reports it, as well as unplayed steps', async (ctx) => {
    const llm = await start(ctx);
    llm.script({ provider: 'gemini', name: 'g' }, step.text('one'));
    llm.enqueue('anthropic', step.text('never played'));

    expect((await postGemini(llm, { contents: [] })).status).toBe(200);
    const second = await postGemini(llm, { contents: [{ role: 'user', parts: [{ text: 'again' }] }] });

    expect(second.status).toBe(400);
    expect(llm.verify()).toEqual([
      '#2 POST /v1beta/models/gemini-2.5-flash:streamGenerateContent: no scripted step left in script g (prompt: "again")',
      'script anthropic: 1 step(s) never played',
    ]);
  });

  it('answers 500 when a step function throws, and says so in verify()', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', () => {
      throw new Error('bad script');
    });

    expect((await postGemini(llm, { contents: [] })).status).toBe(500);
    expect(llm.verify()).toEqual([
      'fake-llm crashed on POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse: bad script',
    ]);
  });

  it('holds a hanging request open until the server closes', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', step.hang());

    const pending = postGemini(llm, { contents: [] }).then(
      () => 'answered',
      () => 'cut',
    );
    await expect.poll(() => llm.turns().length).toBe(1);
    await llm.close();

    expect(await pending).toBe('cut');
    expect(llm.turns()[0]?.reply).toBe('hang');
  });
});

describe('FakeLlmServer: everything else', () => {
  it('answers lookups harmlessly and records them', async (ctx) => {
    const llm = await start(ctx);

    expect((await fetch(`${llm.url}/`, { method: 'HEAD' })).status).toBe(200);
    expect(await (await fetch(`${llm.url}/v1/models`)).json()).toMatchObject({ data: [] });
    expect((await fetch(`${llm.url}/nope`)).status).toBe(404);
    expect(llm.requests.map((r) => [r.kind, r.method, r.path, r.reply])).toEqual([
      ['lookup', 'HEAD', '/', 'lookup'],
      ['lookup', 'GET', '/v1/models', 'lookup'],
      ['lookup', 'GET', '/nope', 'not found'],
    ]);
  });

  it('refuses CONNECT to another host (a CLI honouring HTTPS_PROXY) and reports it', async (ctx) => {
    const llm = await start(ctx);
    const { port } = new URL(llm.url);

    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'CONNECT', path: 'api.anthropic.com:443' });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });

    expect(status).toBe(403);
    expect(llm.verify()).toEqual(['#1 tried to reach api.anthropic.com:443 (off 127.0.0.1)']);
  });

  it('serves a proxied request for itself as if it came direct', async (ctx) => {
    const llm = await start(ctx);
    llm.enqueue('gemini', step.text('hi'));
    const { port } = new URL(llm.url);

    const status = await new Promise<number | undefined>((resolve, reject) => {
      const path = `${llm.url}/v1beta/models/g:generateContent`;
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end('{}');
    });

    expect(status).toBe(200);
    expect(llm.verify()).toEqual([]);
  });
});

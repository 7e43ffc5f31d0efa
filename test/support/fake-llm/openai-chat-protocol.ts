/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`, JSON or SSE), as weft's OpenAiExecutor and
 * every OpenAI-compatible client uses it. Shares the `openai` provider (and its script) with the
 * Responses API.
 */
import type { ContentStep, Inspection, ProviderProtocol, Reply } from './protocol.js';
import {
  asArray,
  bodyBasics,
  isRecord,
  jsonReply,
  ScriptProblem,
  SSE_HEADERS,
  splitInTwo,
  sseEvent,
  usageOf,
} from './protocol.js';
import { openaiError } from './openai-protocol.js';
import type { RecordedRequest, ToolResult } from './recorded-request.js';
import { flattenOutput } from './recorded-request.js';
import type { ToolCall } from './steps.js';

interface FunctionCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Neutral calls become `write_file` / `shell` functions, which the client must have offered. */
function functionCall(call: ToolCall, request: RecordedRequest, id: string): FunctionCall {
  const { name, input } =
    call.kind === 'write-file'
      ? { name: 'write_file', input: { path: call.path, content: call.content } }
      : call.kind === 'shell'
        ? { name: 'shell', input: { command: call.command } }
        : { name: call.name, input: call.input };
  if (!request.offeredTools.includes(name))
    throw new ScriptProblem(
      `the client did not offer tool \`${name}\`; offered: ${request.offeredTools.join(', ') || 'none'}`,
    );
  return {
    id,
    type: 'function',
    function: { name, arguments: typeof input === 'string' ? input : JSON.stringify(input) },
  };
}

function answer(step: ContentStep, request: RecordedRequest): { content: string | null; toolCalls: FunctionCall[] } {
  switch (step.kind) {
    case 'text':
      return { content: step.text, toolCalls: [] };
    case 'json':
      return { content: JSON.stringify(step.value), toolCalls: [] };
    case 'tool-calls':
      return {
        content: step.text ?? null,
        toolCalls: step.calls.map((call, i) => functionCall(call, request, `call_fake_${request.seq}_${i}`)),
      };
  }
}

/** `/v1/chat/completions` (or `/chat/completions` for clients whose base URL has no `/v1`). */
export const openaiChatProtocol: ProviderProtocol = {
  provider: 'openai',

  isModelCall: (method, path) => method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions'),

  inspect(body): Inspection {
    const b = isRecord(body) ? body : {};
    const userTexts: string[] = [];
    const toolResults: ToolResult[] = [];
    const names = new Map<string, string>();
    for (const message of asArray(b['messages'])) {
      if (!isRecord(message)) continue;
      const content = message['content'];
      if (message['role'] === 'user') {
        if (typeof content === 'string') userTexts.push(content);
        for (const part of asArray(content))
          if (isRecord(part) && typeof part['text'] === 'string') userTexts.push(part['text']);
      }
      if (message['role'] === 'assistant') {
        for (const call of asArray(message['tool_calls'])) {
          if (isRecord(call) && isRecord(call['function']))
            names.set(String(call['id']), String(call['function']['name']));
        }
      }
      if (message['role'] === 'tool') {
        const callId = String(message['tool_call_id']);
        const name = names.get(callId);
        toolResults.push({ callId, ...(name === undefined ? {} : { name }), output: flattenOutput(content) });
      }
    }
    return { ...bodyBasics(b), userTexts, toolResults };
  },

  reply(step, request): Reply {
    const u = usageOf(step);
    const { content, toolCalls } = answer(step, request);
    const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
    const base = {
      id: `chatcmpl-fake-${request.seq}`,
      created: Math.floor(Date.now() / 1000),
      model: step.model ?? request.model ?? 'gpt-fake',
      system_fingerprint: null,
    };
    const usage = {
      prompt_tokens: u.input,
      completion_tokens: u.output,
      total_tokens: u.input + u.output,
      prompt_tokens_details: { cached_tokens: u.cached },
      completion_tokens_details: { reasoning_tokens: u.reasoning },
    };
    if (!request.stream) {
      const message = {
        role: 'assistant',
        content,
        refusal: null,
        ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
      };
      return jsonReply(200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
        usage,
      });
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null): unknown => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
    const chunks: unknown[] = [chunk({ role: 'assistant', content: '' }, null)];
    if (content !== null) for (const piece of splitInTwo(content)) chunks.push(chunk({ content: piece }, null));
    toolCalls.forEach((call, index) => {
      chunks.push(
        chunk(
          {
            tool_calls: [
              { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
            ],
          },
          null,
        ),
      );
      for (const piece of splitInTwo(call.function.arguments))
        chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
    });
    chunks.push(chunk({}, finish));
    const body = isRecord(request.body) ? request.body : {};
    if (isRecord(body['stream_options']) && body['stream_options']['include_usage'] === true)
      chunks.push({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    return {
      status: 200,
      headers: { ...SSE_HEADERS },
      chunks: [...chunks.map((c) => sseEvent(undefined, c)), 'data: [DONE]\n\n'],
    };
  },

  error: openaiError,
};

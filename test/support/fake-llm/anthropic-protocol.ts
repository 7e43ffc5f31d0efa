/** Anthropic Messages API (`POST /v1/messages`, SSE), as Claude Code uses it. */
import type { ContentStep, ErrorStep, Inspection, ProviderProtocol, Reply } from './protocol.js';
import {
  bodyBasics,
  asArray,
  defaultErrorMessage,
  isRecord,
  jsonReply,
  retryHeaders,
  ScriptProblem,
  SSE_HEADERS,
  splitInTwo,
  sseEvent,
  usageOf,
} from './protocol.js';
import type { RecordedRequest, ToolResult } from './recorded-request.js';
import { flattenOutput } from './recorded-request.js';
import type { ErrorKind, ToolCall } from './steps.js';

const ERRORS: Record<ErrorKind, { status: number; type: string }> = {
  'bad-request': { status: 400, type: 'invalid_request_error' },
  unauthorized: { status: 401, type: 'authentication_error' },
  'rate-limited': { status: 429, type: 'rate_limit_error' },
  overloaded: { status: 529, type: 'overloaded_error' },
  'server-error': { status: 500, type: 'api_error' },
};

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

function toolUse(call: ToolCall, request: RecordedRequest): { name: string; input: unknown } {
  const { name, input } =
    call.kind === 'write-file'
      ? { name: 'Write', input: { file_path: call.path, content: call.content } }
      : call.kind === 'shell'
        ? { name: 'Bash', input: { command: call.command, description: 'Run the scripted command' } }
        : { name: call.name, input: call.input };
  if (!request.offeredTools.includes(name)) {
    throw new ScriptProblem(`Claude did not offer tool \`${name}\`; offered: ${request.offeredTools.join(', ')}`);
  }
  return { name, input };
}

function blocksFor(step: ContentStep, request: RecordedRequest): Block[] {
  const id = (i: number): string => `toolu_fake_${request.seq}_${i}`;
  switch (step.kind) {
    case 'text':
      return [{ type: 'text', text: step.text }];
    case 'json': {
      // With --json-schema Claude offers StructuredOutput and insists it is called; an API client
      // that forces a tool (`tool_choice: {type: "tool"}`) gets its answer as that tool's input.
      const forced =
        isRecord(request.body) &&
        isRecord(request.body['tool_choice']) &&
        request.body['tool_choice']['type'] === 'tool'
          ? String(request.body['tool_choice']['name'])
          : undefined;
      const tool = request.offeredTools.includes('StructuredOutput')
        ? 'StructuredOutput'
        : forced !== undefined && request.offeredTools.includes(forced)
          ? forced
          : undefined;
      return tool !== undefined
        ? [{ type: 'tool_use', id: id(0), name: tool, input: step.value }]
        : [{ type: 'text', text: JSON.stringify(step.value) }];
    }
    case 'tool-calls':
      return [
        ...(step.text === undefined ? [] : [{ type: 'text' as const, text: step.text }]),
        ...step.calls.map((call, i) => ({ type: 'tool_use' as const, id: id(i), ...toolUse(call, request) })),
      ];
  }
}

/** Claude Code's endpoint; `Write`/`Bash` for the neutral tool calls. */
export const anthropicProtocol: ProviderProtocol = {
  provider: 'anthropic',

  isModelCall: (method, path) => method === 'POST' && path === '/v1/messages',

  inspect(body): Inspection {
    const b = isRecord(body) ? body : {};
    const userTexts: string[] = [];
    const toolResults: ToolResult[] = [];
    for (const message of asArray(b['messages'])) {
      if (!isRecord(message) || message['role'] !== 'user') continue;
      const content = message['content'];
      if (typeof content === 'string') userTexts.push(content);
      for (const block of asArray(content)) {
        if (!isRecord(block)) continue;
        if (block['type'] === 'text' && typeof block['text'] === 'string') userTexts.push(block['text']);
        if (block['type'] === 'tool_result') {
          toolResults.push({
            callId: String(block['tool_use_id']),
            output: flattenOutput(block['content']),
            isError: block['is_error'] === true,
          });
        }
      }
    }
    return { ...bodyBasics(b), userTexts, toolResults };
  },

  reply(step, request): Reply {
    const usage = usageOf(step);
    const blocks = blocksFor(step, request);
    const stopReason = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
    const id = `msg_fake_${request.seq}`;
    const model = step.model ?? request.model ?? 'claude-fake';
    const startUsage = {
      input_tokens: usage.input,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: usage.cached,
      output_tokens: 1,
    };
    if (!request.stream) {
      return jsonReply(200, {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: blocks,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: { ...startUsage, output_tokens: usage.output },
      });
    }
    const events: string[] = [
      sseEvent('message_start', {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: startUsage,
        },
      }),
    ];
    blocks.forEach((block, index) => {
      if (block.type === 'text') {
        events.push(
          sseEvent('content_block_start', {
            type: 'content_block_start',
            index,
            content_block: { type: 'text', text: '' },
          }),
        );
        for (const text of splitInTwo(block.text)) {
          events.push(
            sseEvent('content_block_delta', {
              type: 'content_block_delta',
              index,
              delta: { type: 'text_delta', text },
            }),
          );
        }
      } else {
        events.push(
          sseEvent('content_block_start', {
            type: 'content_block_start',
            index,
            content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
          }),
        );
        for (const partial_json of splitInTwo(JSON.stringify(block.input))) {
          events.push(
            sseEvent('content_block_delta', {
              type: 'content_block_delta',
              index,
              delta: { type: 'input_json_delta', partial_json },
            }),
          );
        }
      }
      events.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
    });
    events.push(
      sseEvent('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: { output_tokens: usage.output },
      }),
      sseEvent('message_stop', { type: 'message_stop' }),
    );
    return { status: 200, headers: { ...SSE_HEADERS, 'request-id': `req_fake_${request.seq}` }, chunks: events };
  },

  error(step: ErrorStep): Reply {
    const { status, type } = ERRORS[step.error];
    return jsonReply(
      step.status ?? status,
      { type: 'error', error: { type, message: step.message ?? defaultErrorMessage(step.error) } },
      retryHeaders(step),
    );
  },
};

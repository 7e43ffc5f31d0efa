/** OpenAI Responses API (`POST /v1/responses`, SSE), as Codex uses it with a custom model provider. */
import type { ContentStep, ErrorStep, Inspection, ProviderProtocol, Reply } from './protocol.js';
import {
  addFilePatch,
  asArray,
  bodyBasics,
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

const ERRORS: Record<ErrorKind, { status: number; type: string; code: string | null }> = {
  'bad-request': { status: 400, type: 'invalid_request_error', code: null },
  unauthorized: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key' },
  'rate-limited': { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  overloaded: { status: 503, type: 'server_error', code: 'server_is_overloaded' },
  'server-error': { status: 500, type: 'server_error', code: null },
};

/** OpenAI's error body for a scripted error, shared by the Responses and Chat Completions APIs. */
export function openaiError(step: ErrorStep): Reply {
  const { status, type, code } = ERRORS[step.error];
  return jsonReply(
    step.status ?? status,
    { error: { message: step.message ?? defaultErrorMessage(step.error), type, param: null, code } },
    retryHeaders(step),
  );
}

type Item =
  | {
      type: 'message';
      id: string;
      role: 'assistant';
      status: 'completed';
      content: { type: 'output_text'; text: string; annotations: [] }[];
    }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'completed' }
  | { type: 'custom_tool_call'; id: string; call_id: string; name: string; input: string; status: 'completed' };

function offeredType(request: RecordedRequest, name: string): string | undefined {
  const tools = isRecord(request.body) ? asArray(request.body['tools']) : [];
  const tool = tools.find((t) => isRecord(t) && t['name'] === name);
  return isRecord(tool) ? String(tool['type']) : undefined;
}

function toolItem(call: ToolCall, request: RecordedRequest, n: string): Item {
  const ids = { id: `fc_fake_${n}`, call_id: `call_fake_${n}`, status: 'completed' as const };
  const fn = (name: string, args: unknown): Item => ({
    type: 'function_call',
    ...ids,
    name,
    arguments: JSON.stringify(args),
  });
  const custom = (name: string, input: string): Item => ({ type: 'custom_tool_call', ...ids, name, input });
  const offered = request.offeredTools.join(', ');
  switch (call.kind) {
    case 'write-file': {
      const patch = addFilePatch(call.path, call.content);
      const type = offeredType(request, 'apply_patch');
      if (type === 'custom') return custom('apply_patch', patch);
      if (type === 'function') return fn('apply_patch', { input: patch });
      throw new ScriptProblem(
        `Codex did not offer \`apply_patch\` to model ${request.model ?? '?'} (offered: ${offered}); ` +
          'use a model Codex knows (e.g. gpt-5.5) or step.shell',
      );
    }
    case 'shell': {
      if (offeredType(request, 'exec_command') !== undefined) return fn('exec_command', { cmd: call.command });
      if (offeredType(request, 'shell_command') !== undefined) return fn('shell_command', { command: call.command });
      if (offeredType(request, 'shell') !== undefined) return fn('shell', { command: ['bash', '-lc', call.command] });
      throw new ScriptProblem(`Codex offered no shell tool (offered: ${offered})`);
    }
    case 'raw':
      if (offeredType(request, call.name) === undefined) {
        throw new ScriptProblem(`Codex did not offer tool \`${call.name}\`; offered: ${offered}`);
      }
      return typeof call.input === 'string' ? custom(call.name, call.input) : fn(call.name, call.input);
  }
}

function message(id: string, text: string): Item {
  return {
    type: 'message',
    id,
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

function itemsFor(step: ContentStep, request: RecordedRequest): Item[] {
  const msgId = `msg_fake_${request.seq}`;
  switch (step.kind) {
    case 'text':
      return [message(msgId, step.text)];
    case 'json':
      return [message(msgId, JSON.stringify(step.value))];
    case 'tool-calls':
      return [
        ...(step.text === undefined ? [] : [message(msgId, step.text)]),
        ...step.calls.map((call, i) => toolItem(call, request, `${request.seq}_${i}`)),
      ];
  }
}

/** The SSE events that stream one output item. */
function itemEvents(item: Item, output_index: number): { type: string; [k: string]: unknown }[] {
  const added = { type: 'response.output_item.added', output_index, item: { ...item } };
  const done = { type: 'response.output_item.done', output_index, item };
  switch (item.type) {
    case 'message': {
      const text = item.content[0]?.text ?? '';
      const at = { item_id: item.id, output_index, content_index: 0 };
      return [
        { ...added, item: { ...item, status: 'in_progress', content: [] } },
        { type: 'response.content_part.added', ...at, part: { type: 'output_text', text: '', annotations: [] } },
        ...splitInTwo(text).map((delta) => ({ type: 'response.output_text.delta', ...at, delta })),
        { type: 'response.output_text.done', ...at, text },
        { type: 'response.content_part.done', ...at, part: item.content[0] },
        done,
      ];
    }
    case 'function_call':
      return [
        { ...added, item: { ...item, arguments: '', status: 'in_progress' } },
        ...splitInTwo(item.arguments).map((delta) => ({
          type: 'response.function_call_arguments.delta',
          item_id: item.id,
          output_index,
          delta,
        })),
        { type: 'response.function_call_arguments.done', item_id: item.id, output_index, arguments: item.arguments },
        done,
      ];
    case 'custom_tool_call':
      return [
        { ...added, item: { ...item, input: '', status: 'in_progress' } },
        { type: 'response.custom_tool_call_input.delta', item_id: item.id, output_index, delta: item.input },
        { type: 'response.custom_tool_call_input.done', item_id: item.id, output_index, input: item.input },
        done,
      ];
  }
}

/** Codex's endpoint; `apply_patch`/`exec_command` for the neutral tool calls. */
export const openaiProtocol: ProviderProtocol = {
  provider: 'openai',

  isModelCall: (method, path) => method === 'POST' && (path === '/v1/responses' || path === '/responses'),

  inspect(body): Inspection {
    const b = isRecord(body) ? body : {};
    const userTexts: string[] = [];
    const toolResults: ToolResult[] = [];
    const names = new Map<string, string>();
    if (typeof b['input'] === 'string') userTexts.push(b['input']);
    for (const item of asArray(b['input'])) {
      if (!isRecord(item)) continue;
      if ((item['type'] === 'message' || item['type'] === undefined) && item['role'] === 'user') {
        const content = item['content'];
        if (typeof content === 'string') userTexts.push(content);
        for (const part of asArray(content))
          if (isRecord(part) && typeof part['text'] === 'string') userTexts.push(part['text']);
      }
      if (
        (item['type'] === 'function_call' || item['type'] === 'custom_tool_call') &&
        typeof item['call_id'] === 'string'
      ) {
        names.set(item['call_id'], String(item['name']));
      }
      if (item['type'] === 'function_call_output' || item['type'] === 'custom_tool_call_output') {
        const callId = String(item['call_id']);
        const name = names.get(callId);
        toolResults.push({ callId, ...(name === undefined ? {} : { name }), output: flattenOutput(item['output']) });
      }
    }
    return { ...bodyBasics(b), userTexts, toolResults };
  },

  reply(step, request): Reply {
    const u = usageOf(step);
    const items = itemsFor(step, request);
    const id = `resp_fake_${request.seq}`;
    const base = {
      id,
      object: 'response',
      created_at: Math.floor(Date.now() / 1000),
      model: request.model ?? 'gpt-fake',
    };
    const usage = {
      input_tokens: u.input,
      input_tokens_details: { cached_tokens: u.cached },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.input + u.output,
    };
    const completed = { ...base, status: 'completed', output: items, usage };
    if (!request.stream) return jsonReply(200, completed);
    const events = [
      { type: 'response.created', response: { ...base, status: 'in_progress', output: [] } },
      { type: 'response.in_progress', response: { ...base, status: 'in_progress', output: [] } },
      ...items.flatMap((item, i) => itemEvents(item, i)),
      { type: 'response.completed', response: completed },
    ];
    return {
      status: 200,
      headers: { ...SSE_HEADERS, 'x-request-id': `req_fake_${request.seq}` },
      chunks: events.map((e, sequence_number) => sseEvent(e.type, { ...e, sequence_number })),
    };
  },

  error: openaiError,
};

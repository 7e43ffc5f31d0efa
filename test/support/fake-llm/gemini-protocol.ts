/** Gemini API (`POST /v1beta/models/<m>:streamGenerateContent?alt=sse` and `:generateContent`), as Gemini CLI uses it. */
import type { ContentStep, ErrorStep, Inspection, ProviderProtocol, Reply } from './protocol.js';
import {
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

const MODEL_CALL = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(streamGenerateContent|generateContent)$/;

const ERRORS: Record<ErrorKind, { status: number; code: string }> = {
  'bad-request': { status: 400, code: 'INVALID_ARGUMENT' },
  unauthorized: { status: 401, code: 'UNAUTHENTICATED' },
  'rate-limited': { status: 429, code: 'RESOURCE_EXHAUSTED' },
  overloaded: { status: 503, code: 'UNAVAILABLE' },
  'server-error': { status: 500, code: 'INTERNAL' },
};

type Part = { text: string } | { functionCall: { id: string; name: string; args: unknown } };

function functionCall(call: ToolCall, request: RecordedRequest, id: string): Part {
  const { name, args } =
    call.kind === 'write-file'
      ? { name: 'write_file', args: { file_path: call.path, content: call.content } }
      : call.kind === 'shell'
        ? { name: 'run_shell_command', args: { command: call.command, description: 'Run the scripted command' } }
        : { name: call.name, args: call.input };
  if (!request.offeredTools.includes(name)) {
    throw new ScriptProblem(`Gemini CLI did not offer tool \`${name}\`; offered: ${request.offeredTools.join(', ')}`);
  }
  return { functionCall: { id, name, args } };
}

function partsFor(step: ContentStep, request: RecordedRequest): Part[] {
  switch (step.kind) {
    case 'text':
      return [{ text: step.text }];
    case 'json':
      return [{ text: JSON.stringify(step.value) }];
    case 'tool-calls':
      return [
        ...(step.text === undefined ? [] : [{ text: step.text }]),
        ...step.calls.map((call, i) => functionCall(call, request, `call_fake_${request.seq}_${i}`)),
      ];
  }
}

/** Gemini CLI's endpoints; `write_file`/`run_shell_command` for the neutral tool calls. */
export const geminiProtocol: ProviderProtocol = {
  provider: 'gemini',

  isModelCall: (method, path) => method === 'POST' && MODEL_CALL.test(path),

  inspect(body, path): Inspection {
    const b = isRecord(body) ? body : {};
    const match = MODEL_CALL.exec(path);
    const userTexts: string[] = [];
    const toolResults: ToolResult[] = [];
    for (const content of asArray(b['contents'])) {
      if (!isRecord(content) || content['role'] !== 'user') continue;
      for (const part of asArray(content['parts'])) {
        if (!isRecord(part)) continue;
        if (typeof part['text'] === 'string' && part['thought'] !== true) userTexts.push(part['text']);
        const fr = part['functionResponse'];
        if (isRecord(fr)) {
          const response = isRecord(fr['response']) ? fr['response'] : {};
          toolResults.push({
            ...(typeof fr['id'] === 'string' ? { callId: fr['id'] } : {}),
            name: String(fr['name']),
            output: flattenOutput('error' in response ? response['error'] : response),
            isError: 'error' in response,
          });
        }
      }
    }
    const offeredTools = asArray(b['tools']).flatMap((t) =>
      isRecord(t) ? asArray(t['functionDeclarations']).flatMap((f) => (isRecord(f) ? [String(f['name'])] : [])) : [],
    );
    return {
      model: match?.[1],
      stream: match?.[2] === 'streamGenerateContent',
      userTexts,
      toolResults,
      offeredTools,
    };
  },

  reply(step, request): Reply {
    const u = usageOf(step);
    const usageMetadata = {
      promptTokenCount: u.input,
      candidatesTokenCount: u.output,
      totalTokenCount: u.input + u.output + u.reasoning,
      ...(u.cached > 0 ? { cachedContentTokenCount: u.cached } : {}),
      ...(u.reasoning > 0 ? { thoughtsTokenCount: u.reasoning } : {}),
    };
    const parts = partsFor(step, request);
    const chunk = (p: Part[], last: boolean): unknown => ({
      candidates: [{ content: { role: 'model', parts: p }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
      ...(last ? { usageMetadata } : {}),
      modelVersion: request.model ?? 'gemini-fake',
      responseId: `resp_fake_${request.seq}`,
    });
    if (!request.stream) return jsonReply(200, chunk(parts, true));
    // Stream text in two pieces; function calls arrive whole, as the real API sends them.
    const [first, ...rest] = parts;
    const chunks =
      parts.length === 1 && first !== undefined && 'text' in first
        ? splitInTwo(first.text).map((text, i, all) => chunk([{ text }], i === all.length - 1))
        : [
            first === undefined ? chunk([], true) : chunk([first], rest.length === 0),
            ...rest.map((p, i) => chunk([p], i === rest.length - 1)),
          ];
    return { status: 200, headers: { ...SSE_HEADERS }, chunks: chunks.map((c) => sseEvent(undefined, c)) };
  },

  error(step: ErrorStep): Reply {
    const { status, code } = ERRORS[step.error];
    const message =
      step.error === 'overloaded' && step.message === undefined
        ? 'The model is overloaded. Please try again later.'
        : step.message;
    const details =
      step.retryAfterSeconds === undefined
        ? []
        : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${step.retryAfterSeconds}s` }];
    return jsonReply(
      step.status ?? status,
      {
        error: {
          code: step.status ?? status,
          message: message ?? defaultErrorMessage(step.error),
          status: code,
          details,
        },
      },
      retryHeaders(step),
    );
  },
};

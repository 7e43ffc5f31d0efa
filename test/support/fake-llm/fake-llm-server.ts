/**
 * A protocol-level test double for remote LLMs: an HTTP server on 127.0.0.1 that speaks the
 * Anthropic Messages, OpenAI Responses and Gemini streaming APIs well enough for the real Claude
 * Code, Codex and Gemini CLI binaries (and OpenAI Chat Completions, for API clients), and plays a
 * script of {@link Step}s.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { anthropicProtocol } from './anthropic-protocol.js';
import { geminiProtocol } from './gemini-protocol.js';
import { openaiChatProtocol } from './openai-chat-protocol.js';
import { openaiProtocol } from './openai-protocol.js';
import type { ProviderProtocol, Reply } from './protocol.js';
import { jsonReply, ScriptProblem } from './protocol.js';
import type { RecordedRequest, RequestKind } from './recorded-request.js';
import { Script } from './script.js';
import type { ScriptFilter } from './script.js';
import type { Provider, Step, StepFn } from './steps.js';

export { Script } from './script.js';
export type { ScriptFilter } from './script.js';
export { step } from './steps.js';
export type { ErrorKind, Provider, Step, StepFn, ToolCall, Usage } from './steps.js';
export type { RecordedRequest, RequestKind, ToolResult } from './recorded-request.js';
export { lastUserText } from './recorded-request.js';

const PROTOCOLS: readonly ProviderProtocol[] = [anthropicProtocol, openaiProtocol, openaiChatProtocol, geminiProtocol];
const DEBUG = process.env['FAKE_LLM_DEBUG'] === '1';

/**
 * Start one per test (or per file and {@link FakeLlmServer.reset} between tests).
 * @example
 * const llm = await FakeLlmServer.start();
 * llm.enqueue('anthropic', step.text('Hello'));
 * // … run `claude -p` with claudeEnv(llm, home) …
 * expect(llm.verify()).toEqual([]);
 * await llm.close();
 */
export class FakeLlmServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #requests: RecordedRequest[] = [];
  readonly #crashes: string[] = [];
  #scripts: Script[] = [];
  #defaults = new Map<Provider, Script>();

  private constructor(server: Server) {
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Listens on a free port of 127.0.0.1. */
  static async start(): Promise<FakeLlmServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const fake = new FakeLlmServer(server);
    server.on('connection', (socket) => {
      fake.#sockets.add(socket);
      socket.once('close', () => fake.#sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      // A throwing StepFn or an undecodable body must fail the test, not the process.
      fake.#handle(req, res).catch((error: unknown) => {
        fake.#crashes.push(`${req.method} ${req.url}: ${error instanceof Error ? error.message : String(error)}`);
        if (res.headersSent) res.destroy();
        else send(res, jsonReply(500, { error: { message: `fake-llm: ${String(error)}` } }));
      });
    });
    // CONNECT arrives when a CLI honours the HTTPS_PROXY the agent env points here.
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      // A client that gives up on the tunnel resets the socket; nobody else listens for that.
      socket.on('error', () => undefined);
      fake.#record(req, 'off-host', undefined, undefined, req.url ?? '').reply = 'refused';
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
    });
    return fake;
  }

  /** Every request so far, in arrival order. */
  get requests(): readonly RecordedRequest[] {
    return this.#requests;
  }

  /** Model calls (optionally of one provider), in arrival order. */
  turns(provider?: Provider): RecordedRequest[] {
    return this.#requests.filter((r) => r.kind === 'turn' && (provider === undefined || r.provider === provider));
  }

  /** Appends steps to `provider`'s default script, used by requests no filtered script takes. */
  enqueue(provider: Provider, ...steps: (Step | StepFn)[]): Script {
    let script = this.#defaults.get(provider);
    if (script === undefined) {
      script = new Script(provider, { provider });
      this.#defaults.set(provider, script);
    }
    return script.push(...steps);
  }

  /**
   * Adds a script for the requests matching `filter`; filtered scripts are tried in the order
   * they were added, before the default ones.
   * @example
   * llm.script({ marker: '[task-a]' }, step.text('A done'));
   * llm.script({ marker: '[task-b]' }, step.rateLimited(1), step.text('B done'));
   */
  script(filter: ScriptFilter, ...steps: (Step | StepFn)[]): Script {
    const name = filter.name ?? filter.marker ?? `script-${this.#scripts.length + 1}`;
    const script = new Script(name, filter).push(...steps);
    this.#scripts.push(script);
    return script;
  }

  /**
   * What is wrong so far, one line each: requests the script could not answer, steps never
   * played, and attempts to reach other hosts. A test that went to plan expects `[]`.
   */
  verify(): string[] {
    const issues = this.#crashes.map((c) => `fake-llm crashed on ${c}`);
    for (const r of this.#requests) {
      if (r.problem !== undefined) issues.push(`#${r.seq} ${r.method} ${r.path}: ${r.problem}`);
      if (r.kind === 'off-host') issues.push(`#${r.seq} tried to reach ${r.path} (off 127.0.0.1)`);
    }
    for (const s of [...this.#scripts, ...this.#defaults.values()]) {
      if (s.remaining > 0 && Number.isFinite(s.remaining))
        issues.push(`script ${s.name}: ${s.remaining} step(s) never played`);
    }
    return issues;
  }

  /** Forgets scripts and recorded requests. */
  reset(): void {
    this.#requests.length = 0;
    this.#crashes.length = 0;
    this.#scripts = [];
    this.#defaults = new Map();
  }

  /** Stops listening and cuts open connections (including hanging steps). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #record(
    req: IncomingMessage,
    kind: RequestKind,
    protocol: ProviderProtocol | undefined,
    body: unknown,
    path: string,
  ): RecordedRequest {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const seen = protocol?.inspect(body, path, Object.fromEntries(url.searchParams));
    const request: RecordedRequest = {
      seq: this.#requests.length + 1,
      receivedAt: Date.now(),
      kind,
      provider: protocol?.provider,
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      model: seen?.model,
      stream: seen?.stream ?? false,
      userTexts: seen?.userTexts ?? [],
      toolResults: seen?.toolResults ?? [],
      offeredTools: seen?.offeredTools ?? [],
    };
    this.#requests.push(request);
    return request;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const rawUrl = req.url ?? '/';
    const absolute = /^[a-z]+:\/\//i.test(rawUrl) ? new URL(rawUrl) : undefined;
    if (
      absolute !== undefined &&
      absolute.origin !== this.url &&
      absolute.origin !== this.url.replace('127.0.0.1', 'localhost')
    ) {
      // A plain-HTTP proxy request for another host.
      this.#record(req, 'off-host', undefined, body, rawUrl).reply = 'refused';
      send(res, jsonReply(403, { error: { message: 'fake-llm: off-host request refused' } }));
      return;
    }
    const path = new URL(rawUrl, 'http://127.0.0.1').pathname;
    const method = req.method ?? 'GET';
    const protocol = PROTOCOLS.find((p) => p.isModelCall(method, path));
    if (protocol === undefined) {
      const request = this.#record(req, 'lookup', undefined, body, path);
      const reply = lookupReply(method, path);
      request.reply = reply.status === 404 ? 'not found' : 'lookup';
      this.#log(request);
      send(res, reply);
      return;
    }
    const request = this.#record(req, 'turn', protocol, body, path);
    const script = this.#scripts.find((s) => s.accepts(request)) ?? this.#defaults.get(protocol.provider);
    request.script = script?.name ?? protocol.provider;
    const step = script?.take(request);
    const reply = this.#play(protocol, request, step);
    this.#log(request);
    if (step?.delayMs) await sleep(step.delayMs);
    if (reply !== undefined && !res.destroyed) send(res, reply);
  }

  /** The reply for `step`, or `undefined` to hang. */
  #play(protocol: ProviderProtocol, request: RecordedRequest, step: Step | undefined): Reply | undefined {
    if (step === undefined) {
      request.problem = `no scripted step left in script ${request.script ?? '?'} (prompt: ${JSON.stringify(request.userTexts.at(-1)?.slice(0, 80))})`;
      request.reply = 'error 400';
      return protocol.error({ kind: 'error', error: 'bad-request', message: `fake-llm: ${request.problem}` });
    }
    if (step.kind === 'hang') {
      request.reply = 'hang';
      return undefined;
    }
    if (step.kind === 'error') {
      const reply = protocol.error(step);
      request.reply = `error ${reply.status}`;
      return reply;
    }
    try {
      request.reply = step.kind;
      return protocol.reply(step, request);
    } catch (error) {
      if (!(error instanceof ScriptProblem)) throw error;
      request.problem = error.message;
      request.reply = 'error 400';
      return protocol.error({ kind: 'error', error: 'bad-request', message: `fake-llm: ${error.message}` });
    }
  }

  #log(r: RecordedRequest): void {
    if (DEBUG)
      console.error(
        `[fake-llm] #${r.seq} ${r.method} ${r.path} ${r.provider ?? ''} ${r.script ?? ''} → ${r.reply ?? ''} ${r.problem ?? ''}`,
      );
  }
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  for (const chunk of reply.chunks) res.write(chunk);
  res.end();
}

/** Harmless answers to what the CLIs look up besides model calls. */
function lookupReply(method: string, path: string): Reply {
  if (method === 'HEAD') return { status: 200, headers: {}, chunks: [] };
  if (method === 'GET' && /^\/(v1\/)?models\/?$/.test(path))
    return jsonReply(200, { object: 'list', data: [], has_more: false });
  if (method === 'GET' && /^\/v1(beta|alpha)?\/models\/?$/.test(path)) return jsonReply(200, { models: [] });
  if (method === 'POST' && path === '/v1/messages/count_tokens') return jsonReply(200, { input_tokens: 100 });
  if (method === 'POST' && path.endsWith(':countTokens')) return jsonReply(200, { totalTokens: 100 });
  return jsonReply(404, { error: { message: `fake-llm: no such endpoint ${method} ${path}` } });
}

const decoders: Record<string, ((b: Buffer) => Promise<Buffer>) | undefined> = {
  gzip: promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
  // Node ≥ 22.15 only; Codex compresses request bodies with zstd when talking to OpenAI itself.
  zstd:
    'zstdDecompress' in zlib
      ? promisify((zlib as unknown as { zstdDecompress: typeof zlib.gunzip }).zstdDecompress)
      : undefined,
};

async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  let raw: Buffer = Buffer.concat(parts);
  if (raw.length === 0) return undefined;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    const decode = decoders[encoding];
    if (decode === undefined) return `<${raw.length} bytes of ${encoding}>`;
    raw = await decode(raw);
  }
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

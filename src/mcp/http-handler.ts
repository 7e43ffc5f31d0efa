import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { WeftError } from '../core/errors.js';
import { createMcpServer } from './mcp-server.js';
import type { RunControl } from '../core/ports/run-control.js';

/** What {@link mcpHttpHandler} needs. */
export interface McpHttpOptions {
  readonly control: RunControl;
  /** weft's version, as the server names itself. */
  readonly version: string;
  /** Every request must carry `Authorization: Bearer <token>`. At least 16 characters. */
  readonly token: string;
  /**
   * `Host` headers accepted (DNS rebinding protection), e.g. `['127.0.0.1:7070']`.
   * @default any (the token still guards every request)
   */
  readonly allowedHosts?: readonly string[];
  /** The largest request body, in bytes; a larger one is answered 413. @default 1048576 */
  readonly maxBodyBytes?: number;
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Whether the request carries the bearer token (compared in constant time). */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = /^Bearer ([^\s]+)$/i.exec(header)?.[1];
  // Hashing first gives both sides one length, so the comparison time says nothing about the token.
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * The MCP streamable HTTP endpoint as a plain Node request handler, for `weft serve` to mount at
 * `/mcp` (or a bare `http.createServer`). Stateless: each POST gets its own server and transport
 * and answers in JSON, so run events are not pushed over HTTP — poll `status`. A request without
 * the token is 401, a foreign Host 403, a body over the limit 413, anything but POST 405.
 * @example
 * createServer(mcpHttpHandler({ control, version: '0.1.0', token })).listen(7070, '127.0.0.1');
 */
export function mcpHttpHandler(options: McpHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (options.token.length < 16)
    throw new WeftError('WEFT_USAGE', `token: at least 16 characters expected, got ${options.token.length}`);
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  return async (req, res) => {
    if (!hasToken(req, options.token))
      return plain(res, 401, 'a bearer token is required', { 'www-authenticate': 'Bearer' });
    if (options.allowedHosts !== undefined && !options.allowedHosts.includes(req.headers.host ?? ''))
      return plain(res, 403, 'this Host is not served');
    if (req.method !== 'POST') return plain(res, 405, 'POST JSON-RPC messages here', { allow: 'POST' });
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, maxBody));
    } catch (error) {
      if (error instanceof BodyTooLarge) return plain(res, 413, `the body is over ${maxBody} bytes`);
      return plain(res, 400, 'the body is not JSON');
    }
    const server = createMcpServer(options.control, { version: options.version, notifyRuns: false });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
}

class BodyTooLarge extends Error {}

/** The request body as text, refusing more than `max` bytes (before reading them all). */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function plain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${message}\n`);
}

/**
 * MCP's streamable HTTP for a fetch-style server (hono's `app.all('/mcp', (c) => handle(c.req.raw))`):
 * stateless, JSON answers, one server per request. The token, Host and body-size checks are the
 * mounting server's (`weft serve` guards `/mcp` like `/api/`).
 */
export function mcpFetchHandler(options: {
  readonly control: RunControl;
  readonly version: string;
}): (request: Request) => Promise<Response> {
  return async (request) => {
    const server = createMcpServer(options.control, { version: options.version, notifyRuns: false });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      void transport.close();
      void server.close();
    }
  };
}

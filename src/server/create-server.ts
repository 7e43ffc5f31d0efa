import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { HTTPException } from 'hono/http-exception';
import type { RunControl } from '../core/ports/run-control.js';
import { apiRoutes } from './api-routes.js';
import { errorResponse } from './http-errors.js';
import { hostCheck } from './host-check.js';

/** What {@link createServer} serves, and for whom. */
export interface ServerDeps {
  /** Lists, inspects, starts, cancels and resumes runs. */
  readonly control: RunControl;
  /** The token every `/api/` call presents as `Authorization: Bearer <token>`. */
  readonly token: string;
  /**
   * Host names (without port) the `Host` header may carry; anything else is refused with 403 (DNS
   * rebinding). `'any'` when the server listens on every interface. @default ['127.0.0.1', 'localhost', '[::1]']
   */
  readonly hosts?: readonly string[] | 'any';
  /** Largest request body, bytes; a larger one is refused with 413. @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number;
  /** Interval at which an event stream reads the journal of a running run, ms. @default 100 */
  readonly pollMs?: number;
}

/** The dashboard's files, read once: they hold no data and no secret. */
const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/decisions.js': { file: 'decisions.js', type: 'text/javascript; charset=utf-8' },
  '/board.js': { file: 'board.js', type: 'text/javascript; charset=utf-8' },
  '/stream.js': { file: 'stream.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
} as const;

/** The dashboard folder: `dashboard/` at the package's root, two levels above this module in src/ and dist/. */
const DASHBOARD_DIR = new URL('../../dashboard/', import.meta.url);

/**
 * The HTTP API and the dashboard, as a hono app (serve it with `listen`, or call `app.request()`).
 * Every response carries a strict CSP; every `/api/` call needs the token; no CORS headers are
 * ever sent, so another origin's page cannot read an answer. `/mcp` and below are guarded like
 * `/api/`: mount MCP's streamable HTTP there with `app.route('/mcp', …)` (or `app.all('/mcp', …)`).
 *
 * @example
 * const app = createServer({ control, token });
 * const res = await app.request('/api/runs', { headers: { authorization: `Bearer ${token}`, host: '127.0.0.1' } });
 */
export function createServer(deps: ServerDeps): Hono {
  const app = new Hono();
  app.use('*', hostCheck(deps.hosts ?? ['127.0.0.1', 'localhost', '[::1]']));
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginResourcePolicy: 'same-origin',
    }),
  );
  const denied = (message: string) => ({
    error: {
      code: 'WEFT_UNAUTHORIZED',
      message,
      hint: 'send Authorization: Bearer <token> (the token `weft serve` printed)',
    },
  });
  // `/mcp` too: MCP's streamable HTTP transport, mounted on this app later, is behind the same token.
  const auth = bearerAuth({
    token: deps.token,
    noAuthenticationHeader: { message: denied('missing bearer token') },
    invalidAuthenticationHeader: { message: denied('malformed Authorization header') },
    invalidToken: { message: denied('wrong token') },
  });
  for (const path of ['/api/*', '/mcp/*']) app.use(path, auth);
  const limit = deps.maxBodyBytes ?? 1024 * 1024;
  const limited = bodyLimit({
    maxSize: limit,
    onError: (c) =>
      c.json(
        { error: { code: 'WEFT_USAGE', message: `request body over ${limit} bytes`, hint: 'send a smaller plan' } },
        413,
      ),
  });
  for (const path of ['/api/*', '/mcp/*']) app.use(path, limited);
  app.route('/api', apiRoutes(deps.control, { pollMs: deps.pollMs ?? 100 }));
  for (const [path, asset] of Object.entries(ASSETS)) {
    let body: string | undefined;
    app.get(path, (c) => {
      body ??= readFileSync(new URL(asset.file, DASHBOARD_DIR), 'utf8');
      return c.body(body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
    });
  }
  app.notFound((c) =>
    c.json({ error: { code: 'WEFT_USAGE', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    return errorResponse(c, error);
  });
  return app;
}

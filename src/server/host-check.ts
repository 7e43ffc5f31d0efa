import type { MiddlewareHandler } from 'hono';

/**
 * Refuses (403) a request whose `Host` is not one of `hosts`: a page on another site whose name
 * was rebound to 127.0.0.1 (DNS rebinding) sends its own name, and never gets an answer.
 */
export function hostCheck(hosts: readonly string[] | 'any'): MiddlewareHandler {
  const allowed = hosts === 'any' ? undefined : new Set(hosts.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (allowed !== undefined) {
      const host = (c.req.header('host') ?? '').toLowerCase();
      const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
      if (!allowed.has(name))
        return c.json(
          {
            error: {
              code: 'WEFT_UNAUTHORIZED',
              message: 'this server answers only to its own address',
              hint: 'open the URL `weft serve` printed',
            },
          },
          403,
        );
    }
    await next();
  };
}

import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { WeftError } from '../core/errors.js';

/** A server listening on a socket. */
export interface Listening {
  /** The base URL, e.g. `http://127.0.0.1:4873`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and closes the open ones (event streams too). */
  close(): Promise<void>;
}

/** Whether `host` means every interface, where a `Host` header cannot be checked against one name. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/**
 * Serves `app` on `host:port` (port 0: any free one).
 * @throws WeftError `WEFT_USAGE` when the port is taken or the address is not this machine's.
 */
export function listen(app: Hono, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            const s = server as unknown as { closeAllConnections?: () => void };
            server.close(() => done());
            s.closeAllConnections?.();
          }),
      });
    });
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new WeftError('WEFT_USAGE', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
          cause: error,
          hint: error.code === 'EADDRINUSE' ? 'choose another --port (0: any free one)' : 'check --host',
        }),
      ),
    );
  });
}

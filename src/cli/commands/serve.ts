import { fileURLToPath } from 'node:url';
import { EXIT } from '../exit-codes.js';
import { mcpFetchHandler } from '../../mcp/http-handler.js';
import { mcpControl } from '../mcp-control.js';
import { WEFT_VERSION } from '../version.js';
import { openJournal } from '../journal.js';
import { startServer } from '../serve-wiring.js';
import { wire } from '../wiring.js';
import { isWildcard } from '../../server/listen.js';
import { tokenPath } from '../../server/token.js';

export interface ServeOptions {
  readonly port?: number;
  readonly host?: string;
  readonly dir?: string;
  readonly json?: boolean;
}

/**
 * `weft serve`: the HTTP API and the live dashboard for the project's runs, until Ctrl-C. Prints
 * the dashboard's URL with the token in its fragment.
 */
export async function serveCommand(opts: ServeOptions): Promise<number> {
  const { projectDir, executors, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config);
  try {
    const host = opts.host ?? '127.0.0.1';
    const mcp = mcpFetchHandler({
      control: mcpControl({ root: projectDir, cli: fileURLToPath(new URL('../main.js', import.meta.url)) }),
      version: WEFT_VERSION,
    });
    const served = await startServer({ projectDir, store, executors, host, port: opts.port ?? 4873, mcp });
    const from = process.env.WEFT_TOKEN ? 'WEFT_TOKEN' : tokenPath();
    if (isWildcard(host))
      process.stderr.write(
        `weft: listening on every interface (${host}): the Host header is not checked; the token is all that guards the API\n`,
      );
    if (opts.json === true)
      process.stdout.write(
        `${JSON.stringify({ type: 'serve.listening', url: served.url, dashboard: served.dashboard, token: from })}\n`,
      );
    else {
      process.stdout.write(`weft serve: ${served.dashboard}\n`);
      process.stdout.write(`  API ${served.url}/api/ · Authorization: Bearer <token from ${from}> · Ctrl-C stops\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, stop);
        resolve();
      };
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
    });
    await served.close();
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

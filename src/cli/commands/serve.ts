import type { RunControl } from '../../core/ports/run-control.js';
import { EXIT } from '../exit-codes.js';
import { mcpFetchHandler } from '../../mcp/http-handler.js';
import { WEFT_VERSION } from '../version.js';
import { openJournal, refuseMemoryJournal } from '../journal.js';
import { planGoal } from './plan.js';
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
  refuseMemoryJournal(config, 'weft serve');
  const store = await openJournal(projectDir, config);
  try {
    const host = opts.host ?? '127.0.0.1';
    // MCP at /mcp drives runs through the same run control as the API.
    const mcp = (control: RunControl) => mcpFetchHandler({ control, version: WEFT_VERSION });
    const port = opts.port ?? 4873;
    const served = await startServer({ projectDir, store, executors, host, port, mcp, planGoal });
    const from = process.env.WEFT_TOKEN ? 'WEFT_TOKEN' : tokenPath();
    if (isWildcard(host))
      process.stderr.write(
        `weft: listening on every interface (${host}): the Host header is not checked; the token is all that guards the API\n`,
      );
    if (opts.json === true)
      process.stdout.write(
        `${JSON.stringify({ type: 'serve.listening', url: served.url, dashboard: served.dashboard, ...(served.network.length > 0 ? { network: served.network } : {}), token: from })}\n`,
      );
    else {
      process.stdout.write(`weft serve: ${served.dashboard}\n`);
      // 127.0.0.1 opens it here only; from other machines, one of this machine's addresses.
      if (served.network.length > 0) process.stdout.write(`  from other machines: ${served.network.join(' · ')}\n`);
      const api = served.dashboard.slice(0, served.dashboard.indexOf('/#'));
      process.stdout.write(`  API ${api}/api/ · Authorization: Bearer <token from ${from}> · Ctrl-C stops\n`);
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

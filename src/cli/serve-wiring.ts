import { networkInterfaces } from 'node:os';
import type { Executor } from '../core/ports/executor.js';
import type { RunControl } from '../core/ports/run-control.js';
import type { Store } from '../core/ports/store.js';
import type { RunBus } from '../core/run/run-bus.js';
import { createServer } from '../server/create-server.js';
import { isWildcard, listen, type Listening } from '../server/listen.js';
import { loadToken } from '../server/token.js';
import { createRunControl } from './run-control.js';
import type { PlanGoal } from './run-launch.js';

/** The server's address and how to stop it. */
export interface Served extends Listening {
  /** The dashboard's URL, the token in its fragment (which browsers never send to a server). */
  readonly dashboard: string;
  /**
   * Listening on every interface (`--host 0.0.0.0` or `::`): the dashboard's URL at each of this
   * machine's network addresses, which other machines can open (`dashboard` names 127.0.0.1). Empty otherwise.
   */
  readonly network: readonly string[];
}

/** What {@link startServer} serves. */
export interface ServeArgs {
  readonly projectDir: string;
  readonly store: Store;
  readonly executors: ReadonlyMap<string, Executor>;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** A run this process drives (`weft run --ui`): its bus, for live notices, and the run the dashboard opens. */
  readonly run?: { readonly id: string; readonly bus: RunBus };
  /**
   * MCP's streamable HTTP over the server's own run control, served at `/mcp` (`weft serve` passes
   * it; `weft run --ui` does not).
   */
  readonly mcp?: (control: RunControl) => (request: Request) => Promise<Response>;
  /** The AI planner, for MCP's `plan` and `build_and_deploy` (`weft serve` passes `weft plan`'s). */
  readonly planGoal?: PlanGoal;
}

/** Wires the run control, the token and the hono app, and listens. */
export async function startServer(a: ServeArgs): Promise<Served> {
  const host = a.host ?? '127.0.0.1';
  const { token } = loadToken();
  const control = createRunControl({
    projectDir: a.projectDir,
    store: a.store,
    executors: a.executors,
    ...(a.planGoal === undefined ? {} : { planGoal: a.planGoal }),
  });
  const detach = a.run === undefined ? undefined : control.attach(a.run.id, a.run.bus);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  const named = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const hosts = isWildcard(host) ? 'any' : [...new Set([...loopback, named.toLowerCase()])];
  const app = createServer({ control, token, hosts });
  // MCP's streamable HTTP at /mcp, behind the same token, Host check and body limit as /api/.
  const mcp = a.mcp?.(control);
  if (mcp !== undefined) app.all('/mcp', (c) => mcp(c.req.raw));
  const listening = await listen(app, host, a.port ?? 0);
  const shown = isWildcard(host) ? listening.url.replace(/\/\/[^/]+:/, '//127.0.0.1:') : listening.url;
  const runPart = a.run === undefined ? '' : `&run=${encodeURIComponent(a.run.id)}`;
  const network = isWildcard(host) ? networkAddresses(host === '0.0.0.0') : [];
  return {
    ...listening,
    dashboard: `${shown}/#token=${token}${runPart}`,
    network: network.map((address) => `http://${address}:${listening.port}/#token=${token}${runPart}`),
    close: async () => {
      detach?.();
      await control.close();
      await listening.close();
    },
  };
}

/**
 * This machine's addresses other machines can reach it at: not loopback, not IPv6 link-local (which
 * needs a zone in a URL); IPv4 only for `0.0.0.0`. IPv6 ones in brackets, for a URL.
 */
function networkAddresses(ipv4Only: boolean): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => !i.internal && (i.family === 'IPv4' || (!ipv4Only && !i.address.startsWith('fe80:'))))
    .map((i) => (i.family === 'IPv4' ? i.address : `[${i.address}]`));
}

/** `weft run --ui`: the dashboard for the run this process starts, while it runs. The URL goes to stderr. */
export async function serveRunUi(a: {
  readonly projectDir: string;
  readonly store: Store;
  readonly executors: ReadonlyMap<string, Executor>;
  readonly bus: RunBus;
  readonly runId: string;
  readonly port: number;
}): Promise<Served> {
  const served = await startServer({ ...a, run: { id: a.runId, bus: a.bus } });
  process.stderr.write(`weft: dashboard for run ${a.runId} at ${served.dashboard}\n`);
  return served;
}

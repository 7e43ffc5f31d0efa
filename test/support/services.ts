import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/**
 * The services integration tests talk to on 127.0.0.1. The suite's global set-up
 * (test/support/global-setup.ts) starts one that is down when its binary is installed; a test that
 * needs one calls {@link needService}, which fails with one line saying what to install when it is not.
 */
export interface Service {
  /** What a user calls it: `PostgreSQL`. */
  readonly title: string;
  /** Where it is expected: `127.0.0.1:5432`. */
  readonly address: string;
  /** The program that starts it; when it is not on PATH the service cannot be started. */
  readonly binary: string;
  /** The fix when {@link binary} is missing. */
  readonly install: string;
  /** The fix when it runs but refuses the tests (a missing database, a password). */
  readonly refused: string;
  /** The commands that start it, run in order; `undefined` when the suite must not start it. */
  readonly start: (() => string[][]) | undefined;
  /** `undefined` when it answers, else why not. */
  readonly ping: () => Promise<string | undefined>;
}

/** The database the PostgreSQL tests use. @default postgres://postgres@127.0.0.1:5432/test */
export const TEST_DATABASE_URL = process.env.WEFT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * PostgreSQL with the Debian cluster tools (`pg_ctlcluster`). With `WEFT_TEST_DATABASE_URL` set the
 * database is the user's, so it is checked but never started.
 */
export function postgresService(
  url = TEST_DATABASE_URL,
  canStart = process.env.WEFT_TEST_DATABASE_URL === undefined,
): Service {
  const { hostname, port } = new URL(url);
  return {
    title: 'PostgreSQL',
    address: `${hostname}:${port || '5432'}`,
    binary: 'pg_ctlcluster',
    install: 'install it (Debian: apt-get install postgresql) or set WEFT_TEST_DATABASE_URL',
    refused:
      'let the tests in (e.g. createdb -h 127.0.0.1 -U postgres test; trust for 127.0.0.1 in pg_hba.conf) ' +
      'or set WEFT_TEST_DATABASE_URL',
    start: canStart
      ? () => {
          // Debian keeps one folder per installed major version; the first is what `ls | head -n1` picks.
          const version = readdirSync('/etc/postgresql').sort()[0] ?? '';
          return [['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'start']];
        }
      : undefined,
    ping: async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/** Redis started as a daemon that keeps nothing on disk. */
export function redisService(port = 6379): Service {
  return {
    title: 'Redis',
    address: `127.0.0.1:${port}`,
    binary: 'redis-server',
    install: 'install it (Debian: apt-get install redis-server)',
    refused: 'see what listens there (redis-cli ping)',
    start: () => {
      mkdirSync('/var/lib/redis', { recursive: true });
      mkdirSync('/var/log/redis', { recursive: true });
      return [
        [
          'redis-server',
          '--daemonize',
          'yes',
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          '/var/lib/redis',
          '--logfile',
          '/var/log/redis/ci.log',
        ],
      ];
    },
    ping: () => redisPing(port),
  };
}

function redisPing(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (why: string | undefined): void => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(2000, () => done('no answer within 2 s'));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (!reply.includes('\r\n')) return;
      done(reply.startsWith('+PONG') ? undefined : `answered ${JSON.stringify(reply.trim())}`);
    });
    socket.on('error', (error) => done(error.message));
  });
}

/** The services the suite starts: what the integration tests expect on 127.0.0.1. */
export const SERVICES = { postgres: postgresService(), redis: redisService() } as const;
export type ServiceName = keyof typeof SERVICES;

function onPath(binary: string, path: string): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, binary), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/** Errors that mean nothing is serving yet (as opposed to a server that answered with an error). */
const NOT_LISTENING = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|timeout|no answer|starting up|shutting down/i;

export interface EnsureOptions {
  /** Where {@link Service.binary} is looked for. @default process.env.PATH */
  readonly path?: string;
  /** How long a started service may take to answer. @default 30_000 */
  readonly timeoutMs?: number;
}

/**
 * Makes sure the service answers, starting it if it is down and installed.
 * @returns `undefined` when it answers, else one line: what is wrong and the fix.
 */
export async function ensureService(service: Service, options: EnsureOptions = {}): Promise<string | undefined> {
  const down = await service.ping();
  if (down === undefined) return undefined;
  // A server that answered with an error (no such database, a password) is up: starting it again cannot help.
  if (!NOT_LISTENING.test(down)) {
    return `${service.title} on ${service.address} refuses the tests (${down}) — fix: ${service.refused}`;
  }
  const where = `${service.title} is not answering on ${service.address} (${down})`;
  if (service.start === undefined) return `${where} — fix: start it`;
  if (!onPath(service.binary, options.path ?? process.env.PATH ?? '')) {
    return `${where} and ${service.binary} is not installed — fix: ${service.install}`;
  }
  let commands: string[][];
  try {
    commands = service.start();
  } catch (error) {
    return `${where}; cannot start it: ${error instanceof Error ? error.message : String(error)}`;
  }
  let failed = '';
  for (const [cmd = '', ...args] of commands) {
    const env = { ...process.env, PATH: options.path ?? process.env.PATH };
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env });
    // Another test process may be starting it at the same moment ("already running"): the ping decides.
    const output = (r.stderr || r.stdout || r.error?.message || '').trim().split('\n')[0];
    if (r.status !== 0) failed = `\`${[cmd, ...args].join(' ')}\` exited ${r.status}: ${output}`;
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let why: string | undefined = down;
  while (Date.now() < deadline) {
    why = await service.ping();
    if (why === undefined) return undefined;
    await sleep(250);
  }
  return (
    `${service.title} did not come up on ${service.address} within ${timeoutMs / 1000} s of starting it ` +
    `(${failed || why}) — fix: start it by hand and see why`
  );
}

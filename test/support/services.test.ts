import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureService, postgresService, redisService, SERVICES } from './services.js';

const empty = mkdtempSync(join(tmpdir(), 'weft-no-bin-'));
const started: number[] = [];
afterAll(() => {
  for (const port of started) spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
  rmSync(empty, { recursive: true, force: true });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('the services the suite starts', () => {
  it('PostgreSQL and Redis answer on 127.0.0.1 (the global set-up started them if they were down)', async () => {
    expect(await ensureService(SERVICES.postgres)).toBeUndefined();
    expect(await ensureService(SERVICES.redis)).toBeUndefined();
  });

  it('a Redis that is down is started when redis-server is installed', async () => {
    const port = await freePort();
    const redis = redisService(port);
    expect(await redis.ping()).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    started.push(port);
    expect(await ensureService(redis)).toBeUndefined();
    expect(await redis.ping()).toBeUndefined();
    const info = spawnSync('redis-cli', ['-p', String(port), 'config', 'get', 'save'], { encoding: 'utf8' });
    expect(info.stdout.split('\n').map((l) => l.trim())).toEqual(['save', '', '']); // keeps nothing on disk
  });

  it('down and not installed: one line saying what to install', async () => {
    const port = await freePort();
    expect(await ensureService(redisService(port), { path: empty })).toBe(
      `Redis is not answering on 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}) and redis-server is not ` +
        'installed — fix: install it (Debian: apt-get install redis-server)',
    );
    const pg = postgresService(`postgres://postgres@127.0.0.1:${port}/test`, true);
    expect(await ensureService(pg, { path: empty })).toBe(
      `PostgreSQL is not answering on 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}) and pg_ctlcluster is ` +
        'not installed — fix: install it (Debian: apt-get install postgresql) or set WEFT_TEST_DATABASE_URL',
    );
  });

  it('a server that answers with an error is not restarted: one line with the fix', async () => {
    const pg = postgresService('postgres://postgres@127.0.0.1:5432/weft_no_such_database', true);
    expect(await ensureService(pg)).toBe(
      'PostgreSQL on 127.0.0.1:5432 refuses the tests (database "weft_no_such_database" does not exist) — fix: let ' +
        'the tests in (e.g. createdb -h 127.0.0.1 -U postgres test; trust for 127.0.0.1 in pg_hba.conf) or set ' +
        'WEFT_TEST_DATABASE_URL',
    );
  });

  it('a database the user named in WEFT_TEST_DATABASE_URL is checked, never started', async () => {
    const port = await freePort();
    const pg = postgresService(`postgres://postgres@127.0.0.1:${port}/test`, false);
    expect(await ensureService(pg)).toBe(
      `PostgreSQL is not answering on 127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}) — fix: start it`,
    );
  });
});

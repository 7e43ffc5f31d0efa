import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService } from '../support/need-service.js';
import { TEST_DATABASE_URL } from '../support/services.js';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

/** The CLI with its journal in a real PostgreSQL (the suite starts it if it is down), in a schema of its own. */
const schema = `weft_cli_${process.pid}_${Date.now().toString(36)}`;
const env = { WEFT_DATABASE_URL: `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}schema=${schema}` };

beforeAll(async () => {
  needService('postgres');
  await ensureBuilt();
});
afterAll(async () => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('a journal in PostgreSQL', () => {
  it('weft estimate learns from the runs it holds, as from a SQLite journal, and writes no .weft/weft.db', async () => {
    const project = tempProject();
    const plan = join(ROOT, 'examples/app.yaml');
    const estimate = async () => JSON.parse((await weft(['estimate', plan, '--json'], { cwd: project, env })).stdout);
    expect(await estimate()).toMatchObject({ measured: false, learned: [] });
    expect((await weft(['run', plan, '--no-isolation'], { cwd: project, env })).code).toBe(0);
    const after = await estimate();
    expect(after.measured).toBe(true);
    expect(after.learned).toHaveLength(6);
    expect(existsSync(join(project, '.weft', 'weft.db'))).toBe(false);
  }, 60_000);
});

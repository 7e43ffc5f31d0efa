import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft as runWeft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** `weft …` in `cwd`; the journal is the project's own SQLite file, whatever the environment says. */
const weft = (args: readonly string[], cwd: string) => runWeft(args, { cwd, env: { WEFT_DATABASE_URL: undefined } });

describe('a journal truncated to 0 bytes', () => {
  it('is reported by weft runs, resume and run — one line naming the file and the fix — and left as it is', async () => {
    const project = tempProject('weft-faults-');
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ tasks: [{ id: 't', run: ['true'] }] }));
    expect((await weft(['run', 'plan.yaml'], project)).code).toBe(0);
    const db = join(project, '.weft', 'weft.db');
    truncateSync(db, 0);
    for (const args of [['runs'], ['resume'], ['run', 'plan.yaml']]) {
      const r = await weft(args, project);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`weft: the journal ${db} is empty (0 bytes): it was truncated or wiped`);
      expect(r.stderr).toContain(`move it away (mv ${db} ${db}.empty) to start a new journal`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(statSync(db).size).toBe(0);
  }, 60_000);
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findBash, findPython } from '../../src/executors/process/helper-programs.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** What started each task: its parent's name (`python3…`, `bash`, or Node's `node`/`MainThread`). */
async function parentsUnder(setting: string | undefined): Promise<string[]> {
  const project = tempProject();
  writeFileSync(
    join(project, 'plan.yaml'),
    `tasks:
  - { id: a, run: "sh -c 'cat /proc/$PPID/comm >> parents.txt'" }
  - { id: b, needs: [a], run: "sh -c 'cat /proc/$PPID/comm >> parents.txt'" }
`,
  );
  const r = await weft(['run', 'plan.yaml', '--no-progress'], {
    cwd: project,
    env: setting === undefined ? { WEFT_SPAWN_HELPER: undefined } : { WEFT_SPAWN_HELPER: setting },
  });
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(join(project, 'parents.txt'), 'utf8').trim().split('\n');
}

describe.skipIf(process.platform !== 'linux')('WEFT_SPAWN_HELPER: which helper starts shell tasks', () => {
  it.skipIf(findPython() === undefined)('by default, python where there is a python3', async () => {
    expect(await parentsUnder(undefined)).toEqual([expect.stringMatching(/^python/), expect.stringMatching(/^python/)]);
  });

  it.skipIf(findBash() === undefined)('bash with WEFT_SPAWN_HELPER=bash', async () => {
    expect(await parentsUnder('bash')).toEqual(['bash', 'bash']);
  });

  it.skipIf(findPython() === undefined)('python with WEFT_SPAWN_HELPER=python', async () => {
    expect(await parentsUnder('python')).toEqual([expect.stringMatching(/^python/), expect.stringMatching(/^python/)]);
  });

  it('Node itself with WEFT_SPAWN_HELPER=0', async () => {
    const parents = await parentsUnder('0');
    expect(parents).toHaveLength(2);
    for (const p of parents) expect(p).not.toMatch(/^(python|bash)/);
  });
});

import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerClone } from './worker-clone.js';

describe("a worker's own clone", () => {
  it('refuses a job whose `workspace:` names a path out of the worktree, before it fetches or makes anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-worker-clone-'));
    const clones = new WorkerClone(dir);
    const spec = {
      remote: join(dir, 'nowhere.git'),
      base: 'refs/weft/r/t/1/base',
      result: 'refs/weft/r/t/1/result',
      cwd: '',
      message: 'm',
      workspace: { copy: ['../../../etc/passwd'] },
    };
    await expect(clones.open(spec, { runId: 'r', taskId: 't', attempt: 1 })).rejects.toThrow(
      "the job's workspace (set-up, copies) is not a valid `workspace:`",
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

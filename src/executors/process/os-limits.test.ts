import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLimits } from './os-limits.js';

/** A cgroup2 hierarchy mounted for these tests (root only); `undefined` where it cannot be. */
function mountCgroup2(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'weft-cgroup2-'));
  try {
    execFileSync('mount', ['-t', 'cgroup2', 'none', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const v2 = mountCgroup2();
const controllers = v2 === undefined ? [] : readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/);
afterAll(() => {
  if (v2 === undefined) return;
  execFileSync('umount', [v2]);
  rmSync(v2, { recursive: true, force: true });
});

describe('applyLimits on a cgroup v2 hierarchy (a cgroup2 mount of its own)', () => {
  // A v1 or hybrid host: the memory controller is bound to its v1 hierarchy, not the unified one.
  it.skipIf(v2 === undefined || controllers.includes('memory'))(
    'leaves a v2 hierarchy without the memory controller alone and falls back, rather than limit nothing',
    () => {
      const root = v2 as string;
      const applied = applyLimits(['true'], { memory: '1GB' }, 'no-controller', root);
      expect(applied?.how).toBe('rlimit');
      expect(applied?.argv).toEqual(['prlimit', `--as=${1024 ** 3}`, '--', 'true']);
      expect(existsSync(join(root, 'weft'))).toBe(false);
    },
  );

  // A v2 host: the task runs in its own cgroup under <root>/weft with memory.max and cpu.max set.
  it.skipIf(v2 === undefined || !controllers.includes('memory') || !controllers.includes('cpu'))(
    'puts the process in its own cgroup with memory.max and cpu.max, removed on release',
    () => {
      const root = v2 as string;
      const script = 'cat /proc/self/cgroup; cat "$0/memory.max" "$0/cpu.max"';
      const dir = join(root, 'weft', 'v2-test');
      const applied = applyLimits(['/bin/sh', '-c', script, dir], { memory: '1GB', cpus: 0.5 }, 'v2-test', root);
      expect(applied?.how).toBe('cgroup v2');
      const [file, ...args] = applied?.argv as [string, ...string[]];
      const out = spawnSync(file, args, { encoding: 'utf8' }).stdout;
      expect(out).toMatch(/^0::\/weft\/v2-test$/m);
      expect(out).toContain(`${1024 ** 3}\n50000 100000`);
      applied?.release();
      expect(existsSync(dir)).toBe(false);
    },
  );
});

/**
 * The binary users run is the one the CLI tests run: the package's `bin`, tsc's dist/ bundled by
 * scripts/bundle-cli.mjs (dist/bin/main.js and its chunks). What it loads lazily stays out of a
 * plain command's start-up, and what it does not bundle comes from node_modules.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** The weft command's exit code, and the .js files it opened (strace), relative to the repository. */
function jsOpened(args: readonly string[], cwd: string): { code: number | null; opened: string[] } {
  const r = spawnSync('strace', ['-f', '-e', 'trace=openat', '-e', 'signal=none', process.execPath, CLI, ...args], {
    cwd,
    encoding: 'utf8',
  });
  const opened = [...r.stderr.matchAll(/openat\([^"]*"([^"]+\.(?:m?js|cjs))"[^)]*\) = \d+/g)].map((m) =>
    (m[1] as string).replace(`${ROOT}/`, ''),
  );
  return { code: r.status, opened };
}

describe('the weft binary', () => {
  it("is the package's bin, and runs", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { weft: string } };
    expect(join(ROOT, pkg.bin.weft)).toBe(CLI);
    const r = await weft(['--version']);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.code).toBe(0);
  });

  it.skipIf(spawnSync('strace', ['-V']).status !== 0)(
    'runs a plan loading its own chunks and only the packages it does not bundle, nothing of dist/ outside bin/',
    () => {
      const dir = tempProject();
      const plan = join(dir, 'plan.yaml');
      writeFileSync(plan, 'tasks:\n  - { id: a, run: "true" }\n');
      const { code, opened } = jsOpened(['run', plan, '--no-progress', '--no-isolation'], dir);
      expect(code).toBe(0);
      expect(opened.filter((f) => f.startsWith('dist/bin/')).length).toBeGreaterThan(0);
      expect(opened.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/bin/'))).toEqual([]);
      const packages = new Set(opened.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? []));
      for (const bundled of ['zod', 'commander', 'js-yaml', 'picomatch', 'shell-quote'])
        expect(packages).not.toContain(bundled);
      expect(packages).toContain('better-sqlite3'); // native: never bundled
    },
  );
});

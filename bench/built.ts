import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));
/**
 * The benches' own build of src/: `tsc -p tsconfig.build.json`, the same as dist/, into a folder
 * of their own, so that building never swaps files under someone else's `node dist/cli/main.js`
 * while others work in the same tree.
 */
export const BUILD = join(ROOT, 'bench', '.build', 'dist');
/** The built CLI, what `weft` runs after `npm install`: tsc's output bundled (scripts/bundle-cli.mjs). */
export const CLI = join(BUILD, 'bin', 'main.js');

/** What `tsconfig.build.json` leaves out of dist/. */
const NOT_BUILT = /(\.test\.ts|-spec\.ts|\.d\.ts)$|(^|\/)(testing|fixtures)\//;

/** src/ files newer than their built output (or without one): what a build would change. */
export function staleSources(): string[] {
  const src = join(ROOT, 'src');
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(src, path);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !NOT_BUILT.test(rel)) {
        const out = statSync(join(BUILD, rel.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
        if (out === undefined || out.mtimeMs < statSync(path).mtimeMs) stale.push(rel);
      }
    }
  };
  walk(src);
  return stale;
}

/**
 * Builds src/ into {@link BUILD} with `tsc -p tsconfig.build.json` when a source is newer than its
 * output, and bundles it into the CLI as `npm run build` does, so the benches time the code in src/. Returns a line saying what it did. tsc emits even
 * with type errors (others may be mid-edit); that is reported, and the bench goes on with what was
 * emitted.
 */
export function ensureBuilt(): string {
  const stale = staleSources();
  if (stale.length === 0 && existsSync(CLI)) return `bench/.build is up to date with src/ (${sourceState()})`;
  mkdirSync(BUILD, { recursive: true });
  // Never committed: the folder ignores itself.
  writeFileSync(join(BUILD, '..', '.gitignore'), '*\n');
  const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', BUILD], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const what = `built src/ at ${sourceState()} into bench/.build (tsc -p tsconfig.build.json and scripts/bundle-cli.mjs; ${stale.length} source(s) were newer than their output)`;
  if (!existsSync(join(BUILD, 'cli', 'main.js')))
    throw new Error(`tsc -p tsconfig.build.json --outDir ${BUILD} failed and left no CLI:\n${tsc.stdout}${tsc.stderr}`);
  const bundle = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs'), BUILD], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (bundle.status !== 0) throw new Error(`scripts/bundle-cli.mjs ${BUILD} failed:\n${bundle.stdout}${bundle.stderr}`);
  if (tsc.status === 0) return what;
  const first = `${tsc.stdout}${tsc.stderr}`.split('\n').find((l) => l.includes('error')) ?? `exit ${tsc.status}`;
  return `${what}; tsc reported errors (first: ${first.trim()}), timing what it emitted`;
}

/** `HEAD 4b487af + 3 uncommitted src/ files`: which code the figures are of. */
export function sourceState(): string {
  const git = (...args: string[]): string =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src')
    .split('\n')
    .filter((l) => l !== '').length;
  return `HEAD ${head}${dirty === 0 ? '' : ` + ${dirty} uncommitted src/ change(s)`}`;
}

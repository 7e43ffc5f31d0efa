#!/usr/bin/env node
// The `weft` binary: tsc's dist/cli/main.js and what it imports, bundled by esbuild into
// <dist>/bin/main.js and its chunks. Loading ~330 small ES modules (97 of them zod's) was a large part
// of every command's start-up: a 1-task `weft run` 0.46 → 0.35 s on a 2-core VM (bench/README.md,
// shell-vs-make, fourth session).
// What is imported lazily (`--dispatch`, `--ui`, `weft mcp`, ...) stays in chunks of its own,
// loaded when used. Only the pure-JS packages every command loads are bundled; the rest stay in
// node_modules: native code (better-sqlite3), files read beside their own code (bullmq's Lua
// scripts), and the large optional ones. ajv (weft's JSON Schema checker, ~100 small CommonJS
// files with its dependencies) is bundled into the chunk of the commands that compile a plan.
//
//   node scripts/bundle-cli.mjs [dist]      # default: dist
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const BUNDLED = new Set([
  'zod',
  'commander',
  'js-yaml',
  'picomatch',
  'shell-quote',
  'ajv',
  'ajv-formats',
  'fast-deep-equal',
  'fast-uri',
  'json-schema-traverse',
]);
const dist = process.argv[2] ?? 'dist';
const outdir = join(dist, 'bin');

/** A package not in BUNDLED is imported from node_modules at run time, as tsc's output does. */
const onlyBundled = {
  name: 'only-bundled',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/', 2).join('/') : args.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

// Written over in place, not emptied first: a test may be starting the CLI while another builds it
// (the same sources give the same files); chunks no longer written are removed after.
const { metafile } = await build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The bundled CommonJS packages call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __weftRequire } from 'node:module'; const require = __weftRequire(import.meta.url);",
  },
  plugins: [onlyBundled],
  logLevel: 'warning',
  metafile: true,
});
const written = new Set(Object.keys(metafile.outputs).map((file) => basename(file)));
for (const name of readdirSync(outdir)) if (!written.has(name)) rmSync(join(outdir, name), { force: true });
chmodSync(join(outdir, 'main.js'), 0o755);

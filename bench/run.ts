import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { scheduleQuality } from './schedule-quality.js';
import type { Bench } from './types.js';

export type { Bench, BenchContext, BenchOutcome } from './types.js';

/** Every benchmark `npm run bench` runs, in order. Add new ones here. */
export const benches: readonly Bench[] = [scheduleQuality];

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/**
 * Runs the named benchmarks (all when none are named), prints each one's figures and writes
 * them to `bench/results/<name>.json`. Resolves to whether every benchmark met its targets.
 */
export async function runBenches(names: readonly string[] = []): Promise<boolean> {
  const unknown = names.filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${benches.map((b) => b.name).join(', ')}`);
  const selected = names.length === 0 ? benches : benches.filter((b) => names.includes(b.name));
  mkdirSync(RESULTS, { recursive: true });
  let ok = true;
  for (const bench of selected) {
    const t0 = performance.now();
    const outcome = await bench.run({ clock: () => performance.now() });
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const file = `${RESULTS}${bench.name}.json`;
    writeFileSync(file, `${JSON.stringify({ bench: bench.name, summary: bench.summary, at: new Date().toISOString(), node: process.version, ...asObject(outcome.results) }, null, 2)}\n`);
    console.log(`== ${bench.name} (${seconds}s) ==\n${outcome.text}\n→ ${file}\n`);
    ok &&= outcome.ok ?? true;
  }
  return ok;
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { results: value };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  runBenches(args.filter((a) => a !== '--check')).then(
    (ok) => {
      if (check && !ok) process.exitCode = 1;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 2;
    },
  );
}

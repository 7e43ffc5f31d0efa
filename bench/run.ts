import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cliLarge } from './cli-large.js';
import { journalOverhead } from './journal-overhead-bench.js';
import { overhead } from './overhead.js';
import { isolation } from './isolation.js';
import { formatTable } from './run-node.js';
import { scheduleNoise } from './schedule-noise.js';
import { scheduleQuality } from './schedule-quality.js';
import { shellVsMake } from './shell-vs-make.js';
import type { Bench, BenchOutcome, SummaryRow } from './types.js';

export type { Bench, BenchContext, BenchOutcome, SummaryRow } from './types.js';

/** Every benchmark `npm run bench` runs, in order. Add new ones here. */
export const benches: readonly Bench[] = [
  scheduleQuality,
  scheduleNoise,
  overhead,
  journalOverhead,
  shellVsMake,
  isolation,
  cliLarge,
];

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

/**
 * Runs the named benchmarks (all when none are named), prints each one's figures and writes
 * them to `bench/results/<name>.json`. Resolves to whether every benchmark met its targets.
 */
export async function runBenches(names: readonly string[] = []): Promise<boolean> {
  const unknown = names.filter((n) => !benches.some((b) => b.name === n));
  if (unknown.length > 0)
    throw new Error(
      `unknown bench ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${benches.map((b) => b.name).join(', ')}`,
    );
  const selected = names.length === 0 ? benches : benches.filter((b) => names.includes(b.name));
  mkdirSync(RESULTS, { recursive: true });
  let ok = true;
  const done: { bench: Bench; outcome: BenchOutcome; seconds: number; record: Record<string, unknown> }[] = [];
  for (const bench of selected) {
    const t0 = performance.now();
    const outcome = await bench.run({ clock: () => performance.now() });
    const seconds = (performance.now() - t0) / 1000;
    const file = `${RESULTS}${bench.name}.json`;
    const record = {
      bench: bench.name,
      summary: bench.summary,
      at: new Date().toISOString(),
      node: process.version,
      seconds,
      ...asObject(outcome.results),
    };
    writeJson(file, record);
    console.log(`== ${bench.name} (${seconds.toFixed(1)}s) ==\n${outcome.text}\n→ ${file}\n`);
    ok &&= outcome.ok ?? true;
    done.push({ bench, outcome, seconds, record });
  }
  const latest = `${RESULTS}latest.json`;
  writeJson(
    latest,
    combined(
      latest,
      done.map((d) => d.record),
    ),
  );
  console.log(`== summary ==\n${summaryTable(done)}\n→ ${latest}`);
  return ok;
}

/** One row per figure with a target (and a few without), across the benchmarks that ran. */
function summaryTable(done: readonly { bench: Bench; outcome: BenchOutcome; seconds: number }[]): string {
  const rows = done.flatMap(({ bench, outcome, seconds }) => {
    const lines = outcome.summary ?? checksOf(outcome.results);
    const head = `${bench.name} (${seconds.toFixed(0)}s)`;
    return lines.length === 0
      ? [[head, '(no targets)', '', '', outcome.ok === false ? 'MISS' : '']]
      : lines.map((l, k) => [
          k === 0 ? head : '',
          l.figure,
          l.value,
          l.target ?? '',
          l.pass === undefined ? '' : l.pass ? 'PASS' : 'MISS',
        ]);
  });
  return formatTable(['bench', 'figure', 'value', 'target', 'result'], rows, 2);
}

/** A bench that reports `results.checks` as `PASS  …` / `MISS  …` lines (schedule-quality). */
function checksOf(results: unknown): SummaryRow[] {
  const checks = (asObject(results).checks ?? []) as unknown;
  if (!Array.isArray(checks)) return [];
  return checks.flatMap((line): SummaryRow[] => {
    if (typeof line !== 'string') return [];
    // `PASS  text (target ≥ 10%)`, or `MISS  text 1.0077 ≤ 1.005 — why`.
    const inText = /^(PASS|MISS)\s+(.*?) \(target ([^)]+)\)$/.exec(line);
    if (inText !== null)
      return [{ figure: inText[2] ?? '', value: '', target: inText[3] ?? '', pass: inText[1] === 'PASS' }];
    const m = /^(PASS|MISS)\s+(.*?)(?: (\S+) (≤|≥|<|>) (\S+))?( — .*)?$/.exec(line);
    if (m === null) return [];
    return [
      {
        figure: `${m[2] ?? ''}${m[6] ?? ''}`,
        value: m[3] ?? '',
        target: m[4] === undefined ? '' : `${m[4]} ${m[5] ?? ''}`,
        pass: m[1] === 'PASS',
      },
    ];
  });
}

/** latest.json: every bench's last figures; those that did not run this time keep their earlier ones. */
function combined(file: string, records: readonly Record<string, unknown>[]): Record<string, unknown> {
  let benchesSoFar: Record<string, unknown> = {};
  try {
    if (existsSync(file)) benchesSoFar = asObject(asObject(JSON.parse(readFileSync(file, 'utf8'))).benches);
  } catch {
    // A torn or hand-edited file: start again.
  }
  const fresh = Object.fromEntries(records.map((r) => [r.bench as string, r]));
  const order = benches.map((b) => b.name).filter((n) => n in fresh || n in benchesSoFar);
  return {
    at: new Date().toISOString(),
    node: process.version,
    benches: Object.fromEntries(order.map((n) => [n, fresh[n] ?? benchesSoFar[n]])),
  };
}

/** Writes through a temporary file, so a reader never sees half a file. */
function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { results: value };
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

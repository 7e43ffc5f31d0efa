import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Graph } from '../src/core/plan/graph.js';
import { compilePlan, type ExecutorCatalog } from '../src/core/plan/compile.js';
import { importPlan, type ImportFormat } from '../src/plan/import/index.js';

/**
 * The benchmark graphs in `bench/data/` (see its README for sources and licences), part of the
 * repository; `$WEFT_BENCH_DATA` points elsewhere.
 */
export const BENCH_DATA = (process.env.WEFT_BENCH_DATA ?? fileURLToPath(new URL('./data/', import.meta.url))).replace(
  /\/?$/,
  '/',
);

/** The worker counts the STG optimum tables cover. */
export const STG_WORKERS = [2, 4, 8, 16] as const;

export interface Bound {
  /** The proven optimum, or the best lower bound when it is not proven. */
  readonly lower: number;
  /** The best known schedule; equals `lower` when the optimum is proven. */
  readonly upper: number;
}

export interface BenchGraph {
  readonly set: 'stg' | 'wfcommons';
  /** Path under the set's folder, e.g. `50/rand0000.stg`. */
  readonly file: string;
  readonly graph: Graph;
  /** STG only: the optimum (or bounds) per worker count, in the file's time units (= seconds). */
  readonly optimum?: ReadonlyMap<number, Bound>;
}

const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);

export function benchDataAvailable(): boolean {
  return existsSync(`${BENCH_DATA}stg`) && existsSync(`${BENCH_DATA}wfcommons`);
}

function load(path: string, format: ImportFormat, file: string): Graph {
  return compilePlan(importPlan(readFileSync(path, 'utf8'), format, file), { executors, file }).graph;
}

/** `Case50_4_OPT.csv` rows `50/rand0000.stg,4,66` or `…,132,134` (bounds), by file then M. */
function stgOptima(): Map<string, Map<number, Bound>> {
  const dir = `${BENCH_DATA}stg/optimal_values/`;
  const out = new Map<string, Map<number, Bound>>();
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    for (const line of readFileSync(`${dir}${name}`, 'utf8').split('\n')) {
      const [file, m, lo, hi] = line.trim().split(',');
      if (file === undefined || m === undefined || lo === undefined || !/^\d+$/.test(m)) continue;
      const bound = { lower: Number(lo), upper: Number(hi ?? lo) };
      let row = out.get(file);
      if (row === undefined) out.set(file, (row = new Map()));
      row.set(Number(m), bound);
    }
  }
  return out;
}

/** Every STG graph copied here that has an optimum (or bounds) for M = 2, 4, 8, 16. */
export function stgGraphs(): BenchGraph[] {
  const optima = stgOptima();
  const out: BenchGraph[] = [];
  for (const dir of ['50', '100', '300']) {
    for (const name of readdirSync(`${BENCH_DATA}stg/${dir}`)
      .filter((f) => f.endsWith('.stg'))
      .sort()) {
      const file = `${dir}/${name}`;
      const optimum = optima.get(file);
      if (optimum === undefined || STG_WORKERS.some((m) => !optimum.has(m))) continue;
      out.push({ set: 'stg', file, graph: load(`${BENCH_DATA}stg/${file}`, 'stg', file), optimum });
    }
  }
  return out;
}

/** The 300-task STG graphs (no optimum known): for timing at a larger size. */
export function stgLarge(): BenchGraph[] {
  const dir = `${BENCH_DATA}stg/300/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.stg'))
    .sort()
    .map((name) => ({ set: 'stg' as const, file: `300/${name}`, graph: load(`${dir}${name}`, 'stg', `300/${name}`) }));
}

/** Every WfCommons trace copied here. */
export function wfcommonsGraphs(): BenchGraph[] {
  const dir = `${BENCH_DATA}wfcommons/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ set: 'wfcommons' as const, file, graph: load(`${dir}${file}`, 'wfcommons', file) }));
}

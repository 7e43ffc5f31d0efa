/** What every benchmark gets: a clock for timings (benchmarks may read the wall clock; core may not). */
export interface BenchContext {
  readonly clock: () => number;
}

/** What a benchmark hands back: the text to print and the figures to keep as JSON. */
export interface BenchOutcome {
  readonly text: string;
  /** Written to `bench/results/<name>.json`. */
  readonly results: unknown;
  /** Whether the benchmark met its targets; `bench/run.ts --check` exits 1 when one did not. */
  readonly ok?: boolean;
}

/** One benchmark. Benchmarks print figures; they are not tests. */
export interface Bench {
  /** Kebab-case; names the results file and selects the bench on the command line. */
  readonly name: string;
  readonly summary: string;
  run(context: BenchContext): BenchOutcome | Promise<BenchOutcome>;
}

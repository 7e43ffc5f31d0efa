/** What every benchmark gets: a clock for timings (benchmarks may read the wall clock; core may not). */
export interface BenchContext {
  readonly clock: () => number;
}

/** One line of the combined table `bench/run.ts` prints after all benchmarks: a figure and its target. */
export interface SummaryRow {
  /** What was measured, e.g. `random 100k: tasks/s`. */
  readonly figure: string;
  readonly value: string;
  /** E.g. `≥ 100,000`; none for a figure shown for context. */
  readonly target?: string;
  readonly pass?: boolean;
}

/** What a benchmark hands back: the text to print and the figures to keep as JSON. */
export interface BenchOutcome {
  readonly text: string;
  /** Its lines in the combined table; without them, `bench/run.ts` shows `results.checks` if there are any. */
  readonly summary?: readonly SummaryRow[];
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

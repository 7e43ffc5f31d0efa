import { fileURLToPath } from 'node:url';
import { runNode } from './run-node.js';
import type { Bench, BenchOutcome, SummaryRow } from './types.js';

/** `bench/journal-overhead.ts`'s target: a 10k no-op run with SqliteStore ≤ 20% longer than with MemoryStore. */
export const TARGET_SQLITE_OVER_MEMORY = 1.2;

const SCRIPT = fileURLToPath(new URL('./journal-overhead.ts', import.meta.url));
const num = (s: string): number => Number(s.replaceAll(',', ''));

export interface AppendFigures {
  readonly mode: string;
  readonly store: string;
  readonly ms: number;
  readonly eventsPerSecond: number;
  readonly usPerAppend: number;
}

export interface EngineRunFigures {
  readonly journal: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly tasksPerSecond: number;
}

/** Reads the figures back out of the script's printed report (the script stays a plain script). */
export function parseJournalReport(text: string): { appends: AppendFigures[]; runs: EngineRunFigures[] } {
  const appends: AppendFigures[] = [];
  const runs: EngineRunFigures[] = [];
  let mode = '';
  for (const line of text.split('\n')) {
    const header = /^([AB])\. (.*)$/.exec(line);
    if (header !== null) mode = header[1] === 'A' ? (header[2] ?? '') : '';
    const a = /^\s+(\S.*?)\s+([\d,]+) ms\s+([\d,]+) events\/s\s+([\d.]+) µs\/append/.exec(line);
    if (a !== null)
      appends.push({
        mode,
        store: a[1] ?? '',
        ms: num(a[2] ?? ''),
        eventsPerSecond: num(a[3] ?? ''),
        usPerAppend: Number(a[4]),
      });
    const b = /^\s+(\S.*?)\s+([\d,.]+) ms wall\s+([\d,.]+) ms CPU\s+([\d,]+) tasks\/s/.exec(line);
    if (b !== null)
      runs.push({
        journal: b[1] ?? '',
        wallMs: num(b[2] ?? ''),
        cpuMs: num(b[3] ?? ''),
        tasksPerSecond: num(b[4] ?? ''),
      });
  }
  return { appends, runs };
}

/** A ratio to MemoryStore as the verdict shows it: `+20.2%`. */
export const pct = (x: number): string => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;

/** `bench/journal-overhead.ts` (a standalone script) run in its own process, its figures kept as JSON. */
export const journalOverhead: Bench = {
  name: 'journal-overhead',
  summary:
    'what the durable journal costs: 10k no-op lifecycles appended to SqliteStore vs MemoryStore, and a 10k no-op run through runPlan with each',
  async run(): Promise<BenchOutcome> {
    const text = (await runNode(SCRIPT, [])).trimEnd();
    const { appends, runs } = parseJournalReport(text);
    const memory = runs.find((r) => r.journal === 'MemoryStore');
    const sqlite = runs.find((r) => r.journal === 'SqliteStore');
    if (memory === undefined || sqlite === undefined)
      throw new Error(`journal-overhead: could not read the run figures from its report:\n${text}`);
    const wall = sqlite.wallMs / memory.wallMs;
    const cpu = sqlite.cpuMs / memory.cpuMs;
    const pass = wall <= TARGET_SQLITE_OVER_MEMORY;
    const summary: SummaryRow[] = [
      {
        figure: '10k no-op run: SqliteStore vs MemoryStore, wall',
        value: `${pct(wall)} (${sqlite.wallMs.toFixed(1)} vs ${memory.wallMs.toFixed(1)} ms)`,
        target: `≤ +${((TARGET_SQLITE_OVER_MEMORY - 1) * 100).toFixed(0)}%`,
        pass,
      },
      {
        figure: '10k no-op run: SqliteStore vs MemoryStore, CPU',
        value: `${pct(cpu)} (${sqlite.cpuMs.toFixed(1)} vs ${memory.cpuMs.toFixed(1)} ms)`,
      },
    ];
    return {
      text: `${text}\n\n${pass ? 'PASS' : 'MISS'}  SqliteStore run ${pct(wall)} wall vs MemoryStore (target ≤ +${((TARGET_SQLITE_OVER_MEMORY - 1) * 100).toFixed(0)}%); CPU ${pct(cpu)}`,
      summary,
      ok: pass,
      results: {
        target: { sqliteOverMemory: TARGET_SQLITE_OVER_MEMORY },
        targetsMet: pass,
        sqliteOverMemory: { wall, cpu },
        appends,
        runs,
      },
    };
  },
};

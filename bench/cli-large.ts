/**
 * The CLI on large plan files (issue #16 item 1): `weft validate` and `weft estimate` of files of
 * 1k, 10k and 100k tasks, YAML and JSON (`bench/plan-file.ts`, ~280 bytes a task), and `weft
 * validate` of each with one unknown field (`validate ✗`: exit 2 and file:line:col), each the real
 * binary in its own process timed by `/usr/bin/time` (wall, CPU, peak RSS); and `weft run` of the
 * 1k file (shell tasks, SQLite journal, no worktrees) for context; and `weft run` of a plan of gates
 * (no process) of 10k and 100k tasks beside the in-process engine on the same DAG (item 1's 1.5×).
 *
 *   npx tsx bench/run.ts cli-large            # WEFT_BENCH_CLI_SIZES=1000,10000 for a quicker look
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt } from './built.js';
import { fileURLToPath } from 'node:url';
import { gatePlanText, planFileText } from './plan-file.js';
import type { CaseFigures } from './overhead-case.js';
import { lastJsonLine, runNode } from './run-node.js';
import type { Bench, SummaryRow } from './types.js';

/**
 * Targets of issue #16: 100k tasks validated or estimated in < 3 s and < 500 MB; \`weft run\` of a
 * 100k plan end to end within 1.5× of the in-process figure (the overhead bench's compile + run).
 */
const TARGET = { seconds: 3, rssMb: 500, runOverInProcess: 1.5 } as const;
const OVERHEAD_CASE = fileURLToPath(new URL('./overhead-case.ts', import.meta.url));
const TIME = '/usr/bin/time';
const walls = (runs: readonly number[] | undefined): string => (runs ?? []).map((s) => s.toFixed(2)).join(' / ');

/** The in-process engine on the same DAG (overhead-case.ts: compilePlan + runPlan, no-op executor, no journal). */
interface InProcessRow {
  readonly tasks: number;
  /** Wall seconds of every run, when the row is the median of several. */
  readonly runs?: readonly number[];
  readonly endToEndS: number;
  readonly cpuS: number;
  readonly peakRssMb: number;
}

interface CliRow {
  readonly command: string;
  readonly format: 'json' | 'yaml';
  readonly tasks: number;
  readonly bytes: number;
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakRssMb: number;
  readonly exit: number | null;
  /** Wall seconds of every run, when the row is the median of several. */
  readonly runs?: readonly number[];
}

/** How many times the 10k and 100k gate runs (CLI and in-process, alternating) are timed. */
const GATE_RUNS = Math.max(1, Number(process.env.WEFT_BENCH_GATE_RUNS ?? 3) || 3);

/** One in-process compile + run of the random DAG (`--gates`: of the gate plan) in its own process. */
async function inProcessRun(tasks: number, flags: readonly string[]): Promise<InProcessRow> {
  const f = lastJsonLine<CaseFigures>(
    await runNode(OVERHEAD_CASE, ['random', String(tasks), '--workers', '8', ...flags]),
  );
  return { tasks, endToEndS: f.endToEndMs / 1000, cpuS: (f.compileCpuMs + f.runCpuMs) / 1000, peakRssMb: f.peakRssMb };
}

/** The median of in-process runs by wall time, with every run's wall time. */
function medianRun(runs: readonly InProcessRow[]): InProcessRow {
  return { ...medianBy(runs, (r) => r.endToEndS), runs: runs.map((r) => r.endToEndS) };
}

/** The item whose `key` is the median (the lower middle one of an even count). */
function medianBy<T>(items: readonly T[], key: (t: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

/** One CLI call under /usr/bin/time: wall seconds, user+system seconds, peak RSS. */
function timed(args: readonly string[], cwd: string): Omit<CliRow, 'command' | 'format' | 'tasks' | 'bytes'> {
  const r = spawnSync(TIME, ['-f', 'WEFT_TIME %e %U %S %M', process.execPath, CLI, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, WEFT_DATABASE_URL: undefined, OTEL_EXPORTER_OTLP_ENDPOINT: undefined },
  });
  const line = /WEFT_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  if (line === null) throw new Error(`weft ${args.join(' ')}: no timing (${(r.stderr ?? '').slice(-300)})`);
  const [, wall, user, sys, kb] = line.map(Number) as [number, number, number, number, number];
  return { wallS: wall, cpuS: user + sys, peakRssMb: kb / 1024, exit: r.status };
}

export const cliLarge: Bench = {
  name: 'cli-large',
  summary: 'weft validate / estimate / run through the real CLI on plan files of 1k–100k tasks',
  async run() {
    if (!existsSync(TIME)) throw new Error(`${TIME} is needed for the peak RSS (apt-get install time)`);
    ensureBuilt();
    const sizes = (process.env.WEFT_BENCH_CLI_SIZES ?? '1000,10000,100000').split(',').map(Number);
    const dir = mkdtempSync(join(tmpdir(), 'weft-cli-large-'));
    const load0 = loadavg()[0] ?? 0;
    const rows: CliRow[] = [];
    /**
     * Each `weft run` of gates with the in-process run of the same DAG: no-op tasks (the overhead
     * bench, what item 1's 1.5× divides by) and the same gates (what the CLI adds to the engine).
     */
    const gateRuns: {
      readonly cli: CliRow;
      readonly inProcess: InProcessRow;
      readonly inProcessGates: InProcessRow;
    }[] = [];
    try {
      for (const tasks of sizes)
        for (const format of ['json', 'yaml'] as const) {
          const file = join(dir, `plan-${tasks}.${format}`);
          const text = planFileText(tasks, format);
          writeFileSync(file, text);
          const bytes = Buffer.byteLength(text);
          for (const command of ['validate', 'estimate'] as const) {
            const args = command === 'estimate' ? ['estimate', file, '--no-history'] : ['validate', file];
            rows.push({ command, format, tasks, bytes, ...timed(args, dir) });
          }
          // The same file with one unknown field: what `weft validate` is for, and the path that
          // finds file:line:col (exit 2).
          const bad = join(dir, `bad-${tasks}.${format}`);
          writeFileSync(bad, planFileText(tasks, format, Math.floor(tasks * 0.765)));
          rows.push({ command: 'validate ✗', format, tasks, bytes, ...timed(['validate', bad], dir) });
          rmSync(bad, { force: true });
          if (tasks <= 1000) {
            const project = mkdtempSync(join(dir, 'run-'));
            const args = ['run', file, '--no-progress', '--no-isolation', '--no-cache', '-j', '8'];
            rows.push({ command: 'run -j 8', format, tasks, bytes, ...timed(args, project) });
          }
          rmSync(file, { force: true });
        }
      // weft run end to end on a plan that runs no process, beside the in-process engine on the same DAG.
      for (const tasks of sizes.filter((n) => n >= 10_000)) {
        const file = join(dir, `gates-${tasks}.json`);
        const text = gatePlanText(tasks);
        writeFileSync(file, text);
        const args = ['run', file, '--no-progress', '--no-isolation', '-j', '8'];
        // Both sides swing by a third from run to run on a small machine: alternate them, keep the medians.
        const clis: CliRow[] = [];
        const inProcesses: InProcessRow[] = [];
        const inProcessGates: InProcessRow[] = [];
        for (let k = 0; k < GATE_RUNS; k++) {
          const project = mkdtempSync(join(dir, 'gates-'));
          clis.push({
            command: 'run gates',
            format: 'json',
            tasks,
            bytes: Buffer.byteLength(text),
            ...timed(args, project),
          });
          rmSync(project, { recursive: true, force: true });
          inProcesses.push(await inProcessRun(tasks, []));
          inProcessGates.push(await inProcessRun(tasks, ['--gates']));
        }
        const cli = { ...medianBy(clis, (r) => r.wallS), runs: clis.map((r) => r.wallS) };
        rows.push(cli);
        gateRuns.push({ cli, inProcess: medianRun(inProcesses), inProcessGates: medianRun(inProcessGates) });
        rmSync(file, { force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const load1 = loadavg()[0] ?? 0;
    const lines = [
      `nproc ${availableParallelism()}, load average ${load0.toFixed(2)} → ${load1.toFixed(2)} (wall time swells on a busy machine; CPU is user + system)`,
      '  command      format     tasks       MB    wall s    CPU s   peak RSS MB   exit',
      ...rows.map(
        (r) =>
          `  ${r.command.padEnd(11)}  ${r.format.padEnd(6)} ${String(r.tasks).padStart(8)} ${(r.bytes / 1e6).toFixed(1).padStart(8)} ${r.wallS.toFixed(2).padStart(9)} ${r.cpuS.toFixed(2).padStart(8)} ${r.peakRssMb.toFixed(0).padStart(13)} ${String(r.exit).padStart(6)}`,
      ),
    ];
    const inProcessText = (p: InProcessRow, cli: CliRow): string =>
      `${p.endToEndS.toFixed(2)} s (CPU ${p.cpuS.toFixed(2)} s, ${p.peakRssMb.toFixed(0)} MB) · ${(cli.wallS / p.endToEndS).toFixed(2)}×`;
    const gateLines = gateRuns.map(
      ({ cli, inProcess: p, inProcessGates: g }) =>
        `  ${String(p.tasks).padStart(7)} tasks: weft run ${cli.wallS.toFixed(2)} s (CPU ${cli.cpuS.toFixed(2)} s, ${cli.peakRssMb.toFixed(0)} MB)` +
        `\n           in-process, no-op tasks ${inProcessText(p, cli)}` +
        `\n           in-process, the same gates ${inProcessText(g, cli)}` +
        `\n           medians of ${GATE_RUNS}, alternating: weft run ${walls(cli.runs)} s · no-op ${walls(p.runs)} s · gates ${walls(g.runs)} s`,
    );
    if (gateLines.length > 0)
      lines.push(
        '',
        '`weft run` of a plan of gates (the same random DAG; gates run nothing) against the in-process engine (compile + run, no journal; bench/overhead-case.ts) with no-op tasks (what the 1.5× target divides by) and with the same gates (what the CLI adds over the engine):',
        ...gateLines,
      );
    const checked = rows.filter((r) => r.tasks >= 100_000 && r.command !== 'run -j 8' && r.command !== 'run gates');
    const summary: SummaryRow[] = checked.flatMap((r) => [
      {
        figure: `CLI ${r.command} ${r.format} 100k: wall`,
        value: `${r.wallS.toFixed(2)} s (CPU ${r.cpuS.toFixed(2)} s)`,
        target: `< ${TARGET.seconds} s`,
        pass: r.wallS < TARGET.seconds && r.exit === (r.command === 'validate ✗' ? 2 : 0),
      },
      {
        figure: `CLI ${r.command} ${r.format} 100k: peak RSS`,
        value: `${r.peakRssMb.toFixed(0)} MB`,
        target: `< ${TARGET.rssMb} MB`,
        pass: r.peakRssMb < TARGET.rssMb,
      },
    ]);
    for (const { cli, inProcess: p } of gateRuns.filter((g) => g.cli.tasks >= 100_000)) {
      const ratio = cli.wallS / p.endToEndS;
      summary.push({
        figure: `CLI run 100k (gates) ÷ in-process`,
        value: `${ratio.toFixed(2)}× (${cli.wallS.toFixed(2)} s vs ${p.endToEndS.toFixed(2)} s)`,
        target: `≤ ${TARGET.runOverInProcess}×`,
        pass: ratio <= TARGET.runOverInProcess && cli.exit === 0,
      });
    }
    return {
      text: lines.join('\n'),
      summary,
      results: {
        nproc: availableParallelism(),
        load: [load0, load1],
        rows,
        inProcess: gateRuns.map((g) => g.inProcess),
        inProcessGates: gateRuns.map((g) => g.inProcessGates),
      },
      ok: summary.every((s) => s.pass !== false),
    };
  },
};

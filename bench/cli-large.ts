/**
 * The CLI on large plan files (issue #16 item 1): `weft validate` and `weft estimate` of files of
 * 1k, 10k and 100k tasks, YAML and JSON (`bench/plan-file.ts`, ~280 bytes a task), each the real
 * binary in its own process timed by `/usr/bin/time` (wall, CPU, peak RSS); and `weft run` of the
 * 1k file (shell tasks, SQLite journal, no worktrees) for context.
 *
 *   npx tsx bench/run.ts cli-large            # WEFT_BENCH_CLI_SIZES=1000,10000 for a quicker look
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt } from './built.js';
import { planFileText } from './plan-file.js';
import type { Bench, SummaryRow } from './types.js';

/** Targets of issue #16: 100k tasks validated or estimated in < 3 s and < 500 MB. */
const TARGET = { seconds: 3, rssMb: 500 } as const;
const TIME = '/usr/bin/time';

interface CliRow {
  readonly command: string;
  readonly format: 'json' | 'yaml';
  readonly tasks: number;
  readonly bytes: number;
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakRssMb: number;
  readonly exit: number | null;
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
  run() {
    if (!existsSync(TIME)) throw new Error(`${TIME} is needed for the peak RSS (apt-get install time)`);
    ensureBuilt();
    const sizes = (process.env.WEFT_BENCH_CLI_SIZES ?? '1000,10000,100000').split(',').map(Number);
    const dir = mkdtempSync(join(tmpdir(), 'weft-cli-large-'));
    const load0 = loadavg()[0] ?? 0;
    const rows: CliRow[] = [];
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
          if (tasks <= 1000) {
            const project = mkdtempSync(join(dir, 'run-'));
            const args = ['run', file, '--no-progress', '--no-isolation', '--no-cache', '-j', '8'];
            rows.push({ command: 'run -j 8', format, tasks, bytes, ...timed(args, project) });
          }
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
    const checked = rows.filter((r) => r.tasks >= 100_000 && (r.command === 'validate' || r.command === 'estimate'));
    const summary: SummaryRow[] = checked.flatMap((r) => [
      {
        figure: `CLI ${r.command} ${r.format} 100k: wall`,
        value: `${r.wallS.toFixed(2)} s (CPU ${r.cpuS.toFixed(2)} s)`,
        target: `< ${TARGET.seconds} s`,
        pass: r.wallS < TARGET.seconds && r.exit === 0,
      },
      {
        figure: `CLI ${r.command} ${r.format} 100k: peak RSS`,
        value: `${r.peakRssMb.toFixed(0)} MB`,
        target: `< ${TARGET.rssMb} MB`,
        pass: r.peakRssMb < TARGET.rssMb,
      },
    ]);
    return {
      text: lines.join('\n'),
      summary,
      results: { nproc: availableParallelism(), load: [load0, load1], rows },
      ok: summary.every((s) => s.pass !== false),
    };
  },
};

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CLI, ensureBuilt } from './built.js';
import { dagDeps, taskId } from './random-dag.js';
import { formatTable, int, lastJsonLine, median, runNode } from './run-node.js';
import type { Bench, BenchOutcome, SummaryRow } from './types.js';

/** The project's standing goal (issue "Prove the schedule", item 4): weft's wall clock ÷ make -j's. */
export const TARGET_RATIO = 1.15;
/** What issue #16 item 3 asks for first, for the CLI on each shape: the bench's pass/fail. */
export const ISSUE_RATIO = 2;
const CLI_TARGET = `< ${ISSUE_RATIO}× (goal ≤ ${TARGET_RATIO}×)`;

const TASKS = 1000;
const WORKERS = 2;
const SEED = 1;
/** Runs of make, the CLI and the in-process run; the diagnostics that split the cost get fewer. */
const RUNS = 5;
const DIAGNOSTIC_RUNS = 3;
/** The shapes timed beside the random DAG (make and the CLI only). */
const SHAPES = ['wide', 'chain'] as const;
const SHAPE_NAME = { wide: 'independent', chain: 'chain' } as const;
const CASE = fileURLToPath(new URL('./shell-case.mjs', import.meta.url));

/** What `bench/shell-case.mjs` prints. */
interface ShellCaseFigures {
  readonly variant: ShellVariant;
  readonly tasks: number;
  /** `compilePlan`, ms (0 for spawn-floor). */
  readonly compileMs: number;
  /** Dispatch: `runPlan` (or the spawn loop) until every task has exited, ms. */
  readonly runMs: number;
  /** CPU time of that process during the run (user + system), ms. */
  readonly runCpuMs: number;
}

type ShellVariant = 'bare' | 'bare-node-spawn' | 'logs' | 'cli-like' | 'spawn-floor' | 'sh-helpers';

/** YAML: flow-style tasks, `"true"` quoted so it stays a string. */
export function planYaml(deps: readonly (readonly number[])[], workers: number): string {
  const lines = deps.map(
    (ds, i) =>
      `  - { id: ${taskId(i)}, run: "true"${ds.length === 0 ? '' : `, needs: [${ds.map(taskId).join(', ')}]`} }`,
  );
  return `name: shell-vs-make\nworkers: ${workers}\ntasks:\n${lines.join('\n')}\n`;
}

/** One phony target per task, `true` as its recipe, its dependencies as prerequisites; `all` needs every task. */
export function makefile(deps: readonly (readonly number[])[]): string {
  const ids = deps.map((_, i) => taskId(i));
  const rules = deps.map((ds, i) => `${taskId(i)}:${ds.map((d) => ` ${taskId(d)}`).join('')}\n\ttrue\n`);
  return `# The same DAG as plan.yaml (bench/shell-vs-make.ts).\n.PHONY: all ${ids.join(' ')}\nall: ${ids.join(' ')}\n${rules.join('')}`;
}

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);

/**
 * Wall-clock ms of a command, stdout to /dev/null, and — through GNU time when it is there — the
 * CPU time of it and every process it waited for (make's or weft's `true`s). Rejects unless it exits 0.
 */
function timeCommand(file: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Timing> {
  const cpuFile = join(cwd, '.cpu-time');
  const [cmd, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'], ...(env === undefined ? {} : { env }) });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      const [user, sys] = hasGnuTime ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number) : [];
      resolve(user === undefined || sys === undefined ? { ms } : { ms, cpuMs: (user + sys) * 1000 });
    });
  });
}

interface Timing {
  readonly ms: number;
  /** make and the CLI: CPU of the whole process tree (GNU time, 10 ms steps); in-process: runPlan's own process only. */
  readonly cpuMs?: number;
}

type Contender =
  | 'make'
  | 'weft CLI'
  | 'make, independent'
  | 'weft CLI, independent'
  | 'make, chain'
  | 'weft CLI, chain'
  | 'weft CLI, bash helpers'
  | 'weft CLI, 1-task plan'
  | 'node -e 0'
  | 'in-process, CLI-like'
  | 'in-process, logs only'
  | 'in-process, bare'
  | 'bare, Node forks'
  | 'Node spawn floor'
  | 'sh helper per worker';

interface Entry {
  readonly name: Contender;
  readonly what: string;
  readonly runs: number;
  readonly measure: () => Promise<Timing>;
}

/** The make row a row is compared with: the same shape's. */
function makeOf(name: Contender): Contender {
  return name.endsWith(', independent') ? 'make, independent' : name.endsWith(', chain') ? 'make, chain' : 'make';
}

/** Rows that time a fixed cost, not the 1,000 tasks. */
const FIXED = new Set<Contender>(['weft CLI, 1-task plan', 'node -e 0']);

/** What the target leaves for the tasks once the CLI's fixed cost is paid, per task, against make's whole time per task. */
export function budgetLine(makeMs: number, fixedMs: number): string {
  const budget = TARGET_RATIO * makeMs;
  const left = budget - fixedMs;
  const head = `The target's budget: ${TARGET_RATIO} × make = ${int(budget)} ms for the whole CLI run; its fixed cost alone is ${int(fixedMs)} ms`;
  return left <= 0
    ? `${head}, which leaves nothing for the ${TASKS} tasks.`
    : `${head}, which leaves ${(left / TASKS).toFixed(3)} ms per task, against make's ${(makeMs / TASKS).toFixed(3)} ms per task for its whole job.`;
}

/**
 * 1,000 `true` tasks in a seeded random DAG at -j 2: GNU make against the built weft CLI, and
 * against runPlan + ShellExecutor in-process, with diagnostics that split weft's cost per task.
 */
export const shellVsMake: Bench = {
  name: 'shell-vs-make',
  summary: `${TASKS} \`true\` tasks in a seeded random DAG at -j ${WORKERS}: weft (CLI and in-process) against make -j ${WORKERS}, median wall clock`,
  async run(): Promise<BenchOutcome> {
    const build = ensureBuilt();
    const load0 = loadavg()[0] ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'weft-shell-vs-make-'));
    try {
      const deps = dagDeps('random', TASKS, SEED);
      writeFileSync(join(dir, 'plan.yaml'), planYaml(deps, WORKERS));
      writeFileSync(join(dir, 'one.yaml'), planYaml([[]], WORKERS));
      writeFileSync(join(dir, 'Makefile'), makefile(deps));
      writeFileSync(join(dir, 'dag.json'), JSON.stringify(deps));
      // The issue's two other shapes, make and the CLI only: no dependencies, and one chain.
      for (const shape of SHAPES) {
        mkdirSync(join(dir, shape));
        const d = dagDeps(shape, TASKS, SEED);
        writeFileSync(join(dir, shape, 'plan.yaml'), planYaml(d, WORKERS));
        writeFileSync(join(dir, shape, 'Makefile'), makefile(d));
      }
      const inProcess = (variant: ShellVariant) => async () => {
        // Plain node, no tsx: see bench/shell-case.mjs.
        const f = lastJsonLine<ShellCaseFigures>(
          await runNode(CASE, [variant, dir, '--workers', String(WORKERS)], { tsx: false }),
        );
        return { ms: f.runMs, cpuMs: f.runCpuMs };
      };
      const cli =
        (plan: string, cwd = dir, env?: NodeJS.ProcessEnv) =>
        () =>
          timeCommand(process.execPath, [CLI, 'run', plan, '-j', String(WORKERS), '--no-progress'], cwd, env);
      const entries: Entry[] = [
        {
          name: 'make',
          what: `make -j ${WORKERS} (GNU make, one phony target per task)`,
          runs: RUNS,
          measure: () => timeCommand('make', ['-j', String(WORKERS)], dir),
        },
        {
          name: 'weft CLI',
          what: `node <built>/bin/main.js run plan.yaml -j ${WORKERS} --no-progress: start-up, YAML, logs, journal, summary`,
          runs: RUNS,
          measure: cli('plan.yaml'),
        },
        ...SHAPES.flatMap((shape): Entry[] => [
          {
            name: `make, ${SHAPE_NAME[shape]}`,
            what: `make -j ${WORKERS} of ${TASKS} ${shape === 'wide' ? 'independent targets' : 'targets in one chain'}`,
            runs: RUNS,
            measure: () => timeCommand('make', ['-j', String(WORKERS)], join(dir, shape)),
          },
          {
            name: `weft CLI, ${SHAPE_NAME[shape]}`,
            what: `the CLI on the same ${shape === 'wide' ? 'independent tasks' : 'chain'}`,
            runs: RUNS,
            measure: cli('plan.yaml', join(dir, shape)),
          },
        ]),
        {
          name: 'weft CLI, bash helpers',
          what: 'the CLI on the random DAG with WEFT_SPAWN_HELPER=bash: bash forks a subshell per task (the default before python helpers, and where there is no python3)',
          runs: RUNS,
          measure: cli('plan.yaml', dir, { ...process.env, WEFT_SPAWN_HELPER: 'bash' }),
        },
        {
          name: 'in-process, CLI-like',
          what: 'runPlan + ShellExecutor (spawn helpers fork the tasks: python posix_spawn where there is python3), per-task log files and the SQLite journal (.weft/weft.db), as the CLI runs it',
          runs: RUNS,
          measure: inProcess('cli-like'),
        },
        {
          name: 'weft CLI, 1-task plan',
          what: "the CLI's fixed cost: start-up, wiring, one task, summary",
          runs: DIAGNOSTIC_RUNS,
          measure: cli('one.yaml'),
        },
        {
          name: 'node -e 0',
          what: "Node's own start-up, which every CLI run pays first (NODE_OPTIONS and NODE_EXTRA_CA_CERTS sway it)",
          runs: DIAGNOSTIC_RUNS,
          measure: () => timeCommand(process.execPath, ['-e', '0'], dir),
        },
        {
          name: 'in-process, logs only',
          what: 'runPlan + ShellExecutor with per-task log files, no journal',
          runs: DIAGNOSTIC_RUNS,
          measure: inProcess('logs'),
        },
        {
          name: 'in-process, bare',
          what: 'runPlan + ShellExecutor, nothing on disk but a scratch stderr file per helper',
          runs: DIAGNOSTIC_RUNS,
          measure: inProcess('bare'),
        },
        {
          name: 'bare, Node forks',
          what: 'the same with the spawn helpers off (WEFT_SPAWN_HELPER=0): Node forks every task, stderr piped to memory',
          runs: DIAGNOSTIC_RUNS,
          measure: inProcess('bare-node-spawn'),
        },
        {
          name: 'Node spawn floor',
          what: "child_process.spawn('true') with a FIFO ready queue, nothing else: any Node dispatcher pays this",
          runs: DIAGNOSTIC_RUNS,
          measure: inProcess('spawn-floor'),
        },
        {
          name: 'sh helper per worker',
          what: 'the lower bound of spawn helpers: one long-lived /bin/sh (dash) per worker forks each task, Node only writes a line (no logs, env, groups or exit signals)',
          runs: DIAGNOSTIC_RUNS,
          measure: inProcess('sh-helpers'),
        },
      ];
      // Round-robin, so drift in the machine's load hits every contender alike.
      const times = new Map<Contender, Timing[]>(entries.map((e) => [e.name, []]));
      for (let round = 0; round < RUNS; round++) {
        for (const e of entries) if (round < e.runs) times.get(e.name)?.push(await e.measure());
      }
      const load1 = loadavg()[0] ?? 0;
      const med = (name: Contender): number => median((times.get(name) ?? []).map((t) => t.ms));
      const cpu = (name: Contender): number | undefined => {
        const xs = (times.get(name) ?? []).flatMap((t) => (t.cpuMs === undefined ? [] : [t.cpuMs]));
        return xs.length === 0 ? undefined : median(xs);
      };
      const make = med('make');
      const least = (name: Contender): number => Math.min(...(times.get(name) ?? []).map((t) => t.ms));
      const rows = entries.map((e) => {
        const ms = med(e.name);
        return {
          name: e.name,
          what: e.what,
          runs: times.get(e.name)?.map((t) => t.ms) ?? [],
          medianMs: ms,
          minMs: least(e.name),
          perTaskMs: FIXED.has(e.name) ? ms : ms / TASKS,
          cpuMs: cpu(e.name),
          cpuScope:
            e.name.startsWith('make') || e.name.startsWith('weft CLI') || e.name === 'node -e 0' ? 'tree' : 'self',
          ratioToMake: ms / med(makeOf(e.name)),
          minRatioToMake: least(e.name) / least(makeOf(e.name)),
        };
      });
      const ratio = med('weft CLI') / make;
      const inProcessRatio = med('in-process, CLI-like') / make;
      const summary: SummaryRow[] = [
        {
          figure: `weft CLI ÷ make -j ${WORKERS} (${TASKS} true tasks)`,
          value: `${ratio.toFixed(2)}× (${int(med('weft CLI'))} vs ${int(make)} ms)`,
          target: CLI_TARGET,
          pass: ratio < ISSUE_RATIO,
        },
        ...SHAPES.map((shape): SummaryRow => {
          const name = SHAPE_NAME[shape];
          const r = med(`weft CLI, ${name}`) / med(`make, ${name}`);
          return {
            figure: `weft CLI ÷ make -j ${WORKERS}, ${TASKS} ${name === 'chain' ? 'true tasks in a chain' : 'independent true tasks'}`,
            value: `${r.toFixed(2)}× (${int(med(`weft CLI, ${name}`))} vs ${int(med(`make, ${name}`))} ms)`,
            target: CLI_TARGET,
            pass: r < ISSUE_RATIO,
          };
        }),
        {
          figure: `weft CLI with bash helpers ÷ make -j ${WORKERS}`,
          value: `${(med('weft CLI, bash helpers') / make).toFixed(2)}× (${int(med('weft CLI, bash helpers'))} ms)`,
        },
        {
          figure: `in-process runPlan ÷ make -j ${WORKERS}`,
          value: `${inProcessRatio.toFixed(2)}× (${int(med('in-process, CLI-like'))} ms)`,
          target: `goal ≤ ${TARGET_RATIO}×`,
        },
        {
          figure: `Node spawn floor ÷ make -j ${WORKERS}`,
          value: `${(med('Node spawn floor') / make).toFixed(2)}× (${int(med('Node spawn floor'))} ms)`,
        },
        {
          figure: `sh helper per worker ÷ make -j ${WORKERS}`,
          value: `${(med('sh helper per worker') / make).toFixed(2)}× (${int(med('sh helper per worker'))} ms)`,
        },
      ];
      const cpuPerTask = (a: Contender, b: Contender | undefined): string =>
        `${(((cpu(a) ?? NaN) - (b === undefined ? 0 : (cpu(b) ?? NaN))) / TASKS).toFixed(2)} ms CPU`;
      const table = formatTable(
        ['contender', 'median ms', 'per task', '÷ make', 'min ms', '÷ make', 'CPU ms', 'of', 'runs (ms)'],
        rows.map((r) => [
          r.name,
          int(r.medianMs),
          FIXED.has(r.name) ? '(fixed)' : `${r.perTaskMs.toFixed(2)} ms`,
          `${r.ratioToMake.toFixed(2)}×`,
          int(r.minMs),
          `${r.minRatioToMake.toFixed(2)}×`,
          r.cpuMs === undefined ? '' : int(r.cpuMs),
          r.cpuMs === undefined ? '' : r.cpuScope,
          r.runs.map(int).join(' '),
        ]),
        1,
      );
      const text = [
        `Shell tasks: ${TASKS} \`true\` tasks, seeded random DAG (each needs 3 distinct earlier tasks), -j ${WORKERS}; median of ${RUNS} runs (diagnostics ${DIAGNOSTIC_RUNS}), round-robin.`,
        `Also make and the CLI on ${TASKS} independent tasks and on a chain of ${TASKS} (each row's ÷ make is against make on the same shape).`,
        `Build: ${build}. Load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${availableParallelism()} cores. In-process figures time runPlan alone (cold JIT, no Node start-up).`,
        'CPU ms "tree": GNU time\'s user + sys of the command and every process it waited for (the `true`s too); "self": the in-process',
        "run's own Node process during runPlan (forks by Node are charged to it; the helpers' forks and the `true`s are not). min ms: the least-disturbed run.",
        '',
        table,
        '',
        ...entries.map((e) => `  ${e.name.padEnd(22)} ${e.what}`),
        '',
        "Where weft's time goes, per task. CPU of the Node process, which load on the machine sways least (wall differences between",
        'contenders are mostly noise on a busy machine):',
        `  child_process.spawn alone ${cpuPerTask('Node spawn floor', undefined)}; engine + ShellExecutor with Node forking ${cpuPerTask('bare, Node forks', undefined)}, with spawn helpers ${cpuPerTask('in-process, bare', undefined)}; per-task log files ${cpuPerTask('in-process, logs only', 'in-process, bare')};`,
        `  SQLite journal ${cpuPerTask('in-process, CLI-like', 'in-process, logs only')}; Node's share with sh helpers ${cpuPerTask('sh helper per worker', undefined)}. make and its children: ${((cpu('make') ?? NaN) / TASKS).toFixed(2)} ms CPU per task.`,
        `  Wall per task (medians): ${rows
          .filter((r) => !FIXED.has(r.name))
          .map((r) => `${r.name} ${r.perTaskMs.toFixed(2)}`)
          .join(', ')} ms;`,
        `  the CLI's fixed cost (a 1-task run, start-up to summary): ${int(med('weft CLI, 1-task plan'))} ms, of which Node's own start-up ${int(med('node -e 0'))} ms.`,
        '',
        budgetLine(make, med('weft CLI, 1-task plan')),
        '',
        ...summary
          .filter((s) => s.pass !== undefined)
          .map((s) => `${s.pass === true ? 'PASS' : 'MISS'}  ${s.figure}: ${s.value} (target ${s.target})`),
      ].join('\n');
      const ok = summary.every((row) => row.pass !== false);
      return {
        text,
        summary,
        ok,
        results: {
          target: { weftOverMake: ISSUE_RATIO, goal: TARGET_RATIO },
          targetsMet: ok,
          tasks: TASKS,
          workers: WORKERS,
          seed: SEED,
          loadAverage: [load0, load1],
          cores: availableParallelism(),
          build,
          weftOverMake: ratio,
          inProcessOverMake: inProcessRatio,
          rows,
        },
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

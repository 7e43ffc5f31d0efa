import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, ensureBuilt } from './built.js';
import { formatTable, int, median } from './run-node.js';
import type { Bench, BenchOutcome, SummaryRow } from './types.js';

/** The target (issue #13, item 6): what isolating one trivial task may cost on a 20k-file repository. */
export const TARGET_MS_PER_TASK = 1000;

const TASKS = 8;
const WORKERS = 4;
/** Files per folder of the generated repository. */
const PER_DIR = 100;

/** Repository sizes; `WEFT_ISOLATION_SIZES=2000,20000` by default. */
function sizes(): number[] {
  const raw = process.env.WEFT_ISOLATION_SIZES ?? '2000,20000';
  return raw
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Runs per build and size, round-robin; `WEFT_ISOLATION_RUNS`, default 3. */
const runs = (): number => Math.max(1, Number(process.env.WEFT_ISOLATION_RUNS ?? 3) || 3);

/**
 * The builds to time: this tree's (bench/.build), and another one's `dist/` when
 * `WEFT_ISOLATION_BEFORE` names it (e.g. HEAD before a change, built with tsc into /tmp).
 */
function builds(own: string): { name: string; cli: string }[] {
  const before = process.env.WEFT_ISOLATION_BEFORE;
  const list = [{ name: 'this tree', cli: own }];
  if (before !== undefined && before !== '') list.unshift({ name: 'before', cli: join(before, 'cli', 'main.js') });
  return list;
}

/** A repository of `files` small text files in folders of {@link PER_DIR}, one commit. */
export async function makeRepo(files: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `weft-isolation-${files}-`));
  for (let i = 0; i < files; i++) {
    const folder = join(dir, 'src', `d${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}.txt`), `file ${i}\n`);
  }
  const git = ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost'];
  const steps = [
    ['init', '-q', '-b', 'main'],
    ['add', '-A'],
    ['commit', '-q', '-m', 'initial'],
  ];
  for (const args of steps) await run('git', [...git, ...args], dir);
  // The plans live in the checkout, untracked; keep `git status` there clean all the same. Not the
  // tasks' out-*.txt: worktrees share this file, and an ignored output is never committed or merged.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), '/*.yaml\n/.weft/\n');
  return dir;
}

/** Eight independent tasks that each write one file; `isolated` declares it in `writes`. */
export function planYaml(isolated: boolean): string {
  const tasks = Array.from({ length: TASKS }, (_, k) => {
    const writes = isolated ? `, writes: [out-${k}.txt]` : '';
    return `  - { id: t${k}, run: [sh, -c, 'echo ${k} > out-${k}.txt']${writes} }`;
  });
  return `name: isolation\nworkers: ${WORKERS}\ntasks:\n${tasks.join('\n')}\n`;
}

function run(file: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

interface Row {
  readonly build: string;
  readonly files: number;
  /** Wall ms of the CLI on the plan whose tasks are isolated (worktree, commit, merge), runs in order. */
  readonly isolatedMs: readonly number[];
  /** Wall ms of the CLI on the same plan run in place (no `writes`). */
  readonly inPlaceMs: readonly number[];
  /**
   * (isolated − median in place) × workers ÷ tasks: worker time isolation adds to each task, in the
   * first run on the fresh repository (every worktree checked out in full).
   */
  readonly firstPerTaskMs: number;
  /** The same from the median of the next runs, which take up the worktrees the runs before parked. */
  readonly perTaskMs: number;
}

/**
 * The CLI on 8 trivial tasks at -j 4 in a repository of 2k and 20k files: once with every task
 * isolated (`writes:`, so each gets a worktree, a commit and a merge), once in place; the
 * difference, in worker time per task, is what isolation costs.
 */
export const isolation: Bench = {
  name: 'isolation',
  summary:
    `${TASKS} trivial isolated tasks at -j ${WORKERS} through the CLI, on repositories of ` +
    `${sizes().join(' and ')} files: what isolation costs per task`,
  async run(): Promise<BenchOutcome> {
    const build = ensureBuilt();
    const load0 = loadavg()[0] ?? 0;
    const contenders = builds(CLI);
    const rows: Row[] = [];
    for (const files of sizes()) {
      // A repository per build: each build's first run checks out its worktrees, its next runs take
      // up the ones it parked (builds share the pool's folder, so one would take up the other's).
      const repos = new Map<string, string>();
      try {
        for (const c of contenders) {
          const repo = await makeRepo(files);
          repos.set(c.name, repo);
          writeFileSync(join(repo, 'isolated.yaml'), planYaml(true));
          writeFileSync(join(repo, 'in-place.yaml'), planYaml(false));
        }
        const times = new Map(contenders.map((c) => [c.name, { iso: [] as number[], plain: [] as number[] }]));
        // Round-robin over builds and plans, so drift in the machine's load hits each alike.
        for (let r = 0; r < runs(); r++) {
          for (const c of contenders) {
            const t = times.get(c.name);
            const repo = repos.get(c.name) ?? '';
            const cli = (plan: string): Promise<number> =>
              run(process.execPath, [c.cli, 'run', plan, '-j', String(WORKERS), '--no-progress'], repo);
            t?.iso.push(await cli('isolated.yaml'));
            t?.plain.push(await cli('in-place.yaml'));
            for (let k = 0; k < TASKS; k++) rmSync(join(repo, `out-${k}.txt`), { force: true });
          }
        }
        for (const c of contenders) {
          const t = times.get(c.name) ?? { iso: [], plain: [] };
          const perTask = (ms: number): number => ((ms - median(t.plain)) * WORKERS) / TASKS;
          const next = t.iso.length > 1 ? t.iso.slice(1) : t.iso;
          const firstPerTaskMs = perTask(t.iso[0] ?? 0);
          rows.push({
            build: c.name,
            files,
            isolatedMs: t.iso,
            inPlaceMs: t.plain,
            firstPerTaskMs,
            perTaskMs: perTask(median(next)),
          });
        }
      } finally {
        for (const repo of repos.values()) if (existsSync(repo)) rmSync(repo, { recursive: true, force: true });
      }
    }
    const load1 = loadavg()[0] ?? 0;
    const mine = rows.filter((r) => r.build === 'this tree');
    const largest = mine.at(-1);
    const ok = largest === undefined || largest.files < 20_000 || largest.perTaskMs <= TARGET_MS_PER_TASK;
    const summary: SummaryRow[] = rows.map((r) => ({
      figure: `isolation per task (worktrees taken up), ${int(r.files)} files (${r.build})`,
      value: `${int(r.perTaskMs)} ms`,
      ...(r.build === 'this tree' && r.files >= 20_000
        ? { target: `≤ ${int(TARGET_MS_PER_TASK)} ms`, pass: r.perTaskMs <= TARGET_MS_PER_TASK }
        : {}),
    }));
    const table = formatTable(
      ['build', 'files', 'per task, first run', 'per task, next runs', 'isolated runs (ms)', 'in place runs (ms)'],
      rows.map((r) => {
        const perTask = [`${int(r.firstPerTaskMs)} ms`, `${int(r.perTaskMs)} ms`];
        return [r.build, int(r.files), ...perTask, r.isolatedMs.map(int).join(' '), r.inPlaceMs.map(int).join(' ')];
      }),
      1,
    );
    const cli = `\`node <build>/bin/main.js run <plan> -j ${WORKERS} --no-progress\``;
    const text = [
      `${TASKS} tasks (\`sh -c 'echo k > out-k.txt'\`) at -j ${WORKERS}, ${cli}`,
      `in a fresh repository of N one-line files (${PER_DIR} per folder).`,
      'isolated: each task declares `writes: [out-k.txt]` (own worktree, commit, merge into weft/<run>);',
      'in place: the same plan without.',
      `per task = (isolated − median in place) × ${WORKERS} workers ÷ ${TASKS} tasks: the worker time`,
      'isolation adds to each task; first run: on a fresh repository (every worktree checked out);',
      `next runs: the median of the others (${runs()} runs in all, round-robin; a repository per build),`,
      'which take up the worktrees the runs before parked.',
      `Build: ${build}. Load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${availableParallelism()} cores.`,
      '',
      table,
    ].join('\n');
    const shape = { tasks: TASKS, workers: WORKERS, loadAverage: [load0, load1], cores: availableParallelism() };
    const results = { target: { msPerTaskAt20k: TARGET_MS_PER_TASK }, targetsMet: ok, ...shape, build, rows };
    return { text, summary, ok, results };
  },
};

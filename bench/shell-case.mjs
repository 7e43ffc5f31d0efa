// @ts-check
/**
 * One timed run of the shell-vs-make bench, in a fresh process (cold JIT, like the CLI):
 *
 *   node bench/shell-case.mjs <bare|bare-node-spawn|logs|cli-like|spawn-floor|sh-helpers> <project dir> [--workers 2]
 *
 * Plain JavaScript on purpose: under `node --import tsx` the loader's extra thread and heap make
 * every fork of this process slower (child_process.spawn blocks ~1.7× longer here), which would
 * charge weft for tsx. It reads the DAG from `<project dir>/dag.json` (dependency lists by task
 * index, written by bench/shell-vs-make.ts) and imports the engine from the benches' build of src/ (bench/.build/dist, see bench/built.ts).
 *
 * `bare`, `logs` and `cli-like` run every task as `true` through `runPlan` + `ShellExecutor` (whose
 * spawn helpers fork the tasks, as in the CLI): `bare` keeps nothing on disk (`bare-node-spawn`
 * likewise, with the helpers switched off, so Node forks every task), `logs` adds the per-task log files (a run dir), `cli-like` adds the
 * journal `weft run` keeps by default as well (SqliteStore in .weft/weft.db). `spawn-floor` runs the same DAG with nothing but
 * `child_process.spawn('true')` and a FIFO ready queue: what any Node dispatcher pays per task.
 * `sh-helpers` is a sketch of a way round that: one long-lived `/bin/sh` per worker, started once,
 * forks and execs each task's command (`/usr/bin/true`, a path, so not the shell's builtin) and
 * answers with its exit code, so Node never forks per task (no logs, env or process groups).
 * Prints one JSON line: `{ variant, tasks, compileMs, runMs, runCpuMs }` (`ShellCaseFigures` in
 * bench/shell-vs-make.ts); runMs and runCpuMs cover the run alone.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workers: { type: 'string', default: '2' } },
});
const [variant, dir] = positionals;
if (
  variant !== 'bare' &&
  variant !== 'bare-node-spawn' &&
  variant !== 'logs' &&
  variant !== 'cli-like' &&
  variant !== 'spawn-floor' &&
  variant !== 'sh-helpers'
)
  throw new Error(
    `expected bare | bare-node-spawn | logs | cli-like | spawn-floor | sh-helpers, got ${JSON.stringify(variant)}`,
  );
if (dir === undefined) throw new Error('expected the project directory');
const WORKERS = Number(values.workers);
/** @type {number[][]} */
const deps = JSON.parse(readFileSync(join(dir, 'dag.json'), 'utf8'));
const id = (/** @type {number} */ i) => `t${i}`;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** @param {() => Promise<void>} work */
async function timed(work) {
  const c0 = cpuMs();
  const t0 = performance.now();
  await work();
  return { runMs: performance.now() - t0, runCpuMs: cpuMs() - c0 };
}

/** The same DAG with nothing but spawn: FIFO ready queue, `WORKERS` slots. */
function spawnFloor() {
  const waiting = deps.map((d) => d.length);
  /** @type {number[][]} */
  const dependents = deps.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]?.push(i)));
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  let running = 0;
  let done = 0;
  return /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      const pump = () => {
        while (running < WORKERS && ready.length > 0) {
          const i = /** @type {number} */ (ready.shift());
          running++;
          spawn('true', [], { cwd: dir, stdio: 'ignore' })
            .on('error', reject)
            .on('close', (code) => {
              if (code !== 0) reject(new Error(`true exited ${code}`));
              running--;
              done++;
              for (const d of dependents[i] ?? []) if (--waiting[d] === 0) ready.push(d);
              if (done === deps.length) resolve();
              else pump();
            });
        }
      };
      pump();
    })
  );
}

/** The same DAG run by one long-lived `/bin/sh` per worker slot: Node writes a command line, reads an exit code. */
async function shHelpers() {
  const { createInterface } = await import('node:readline');
  const truePath = ['/usr/bin/true', '/bin/true'].find((p) => existsSync(p)) ?? 'true';
  const waiting = deps.map((d) => d.length);
  /** @type {number[][]} */
  const dependents = deps.map(() => []);
  deps.forEach((ds, i) => ds.forEach((d) => dependents[d]?.push(i)));
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  const helpers = Array.from({ length: WORKERS }, () =>
    spawn('/bin/sh', ['-c', 'while read -r cmd; do $cmd </dev/null >/dev/null 2>&1; echo $?; done'], {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  let done = 0;
  await /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      /** @type {(number | undefined)[]} */
      const current = helpers.map(() => undefined);
      const pump = () => {
        helpers.forEach((h, w) => {
          if (current[w] !== undefined || ready.length === 0) return;
          current[w] = ready.shift();
          h.stdin.write(`${truePath}\n`);
        });
      };
      helpers.forEach((h, w) =>
        createInterface({ input: h.stdout }).on('line', (code) => {
          if (code !== '0') reject(new Error(`true exited ${code}`));
          const i = /** @type {number} */ (current[w]);
          current[w] = undefined;
          done++;
          for (const d of dependents[i] ?? []) if (--waiting[d] === 0) ready.push(d);
          if (done === deps.length) resolve();
          else pump();
        }),
      );
      pump();
    })
  );
  for (const h of helpers) h.stdin.end();
}

/** @param {'bare' | 'bare-node-spawn' | 'logs' | 'cli-like'} v @param {string} dir */
async function weft(v, dir) {
  // The benches' build of src/ (bench/built.ts), what the CLI runs.
  const dist = (/** @type {string} */ path) => new URL(`./.build/dist/${path}`, import.meta.url).href;
  /** @type {typeof import('../src/core/run/engine.js')} */
  const { runPlan } = await import(dist('core/run/engine.js'));
  /** @type {typeof import('../src/core/plan/compile.js')} */
  const { compilePlan } = await import(dist('core/plan/compile.js'));
  /** @type {typeof import('../src/executors/shell/shell-executor.js')} */
  const { ShellExecutor } = await import(dist('executors/shell/shell-executor.js'));
  const shell = new ShellExecutor({ spawnHelper: v !== 'bare-node-spawn' });
  const t0 = performance.now();
  const plan = compilePlan(
    {
      name: 'shell-vs-make',
      workers: WORKERS,
      tasks: deps.map((ds, i) => ({ id: id(i), run: 'true', needs: ds.map(id) })),
    },
    { executors: new Map([['shell', shell.info]]) },
  );
  const compileMs = performance.now() - t0;
  const runId = `bench-${process.pid}-${v}`;
  const runDir = v === 'bare' || v === 'bare-node-spawn' ? undefined : join(dir, '.weft', 'runs', runId);
  if (runDir !== undefined) mkdirSync(join(runDir, 'tasks'), { recursive: true });
  // The CLI's default journal: SQLite (WAL) in .weft/weft.db, every batch appended before it takes effect.
  /** @type {typeof import('../src/store/sqlite-store.js')} */
  const { SqliteStore } = await import(dist('store/sqlite-store.js'));
  const store = v === 'cli-like' ? new SqliteStore({ path: join(dir, '.weft', 'weft.db') }) : undefined;
  const journal =
    store === undefined
      ? undefined
      : (/** @type {readonly import('../src/core/run/events.js').RunEvent[]} */ events) => store.append(runId, events);
  try {
    const run = await timed(async () => {
      const outcome = await runPlan({
        runId,
        plan,
        executors: new Map([['shell', shell]]),
        baseDir: dir,
        workers: WORKERS,
        ...(runDir === undefined ? {} : { runDir }),
        ...(journal === undefined ? {} : { journal }),
      });
      if (outcome.status !== 'succeeded') throw new Error(`shell-case ${v}: run ${outcome.status}`);
    });
    return { compileMs, ...run };
  } finally {
    await shell.endRun();
    await store?.close();
  }
}

const measured =
  variant === 'spawn-floor'
    ? { compileMs: 0, ...(await timed(spawnFloor)) }
    : variant === 'sh-helpers'
      ? { compileMs: 0, ...(await timed(shHelpers)) }
      : await weft(variant, dir);
process.stdout.write(`${JSON.stringify({ variant, tasks: deps.length, ...measured })}\n`);

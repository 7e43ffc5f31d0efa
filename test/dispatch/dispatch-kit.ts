import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll } from 'vitest';
import { needService } from '../support/need-service.js';
import { CLI, ensureBuilt } from '../support/weft-cli.js';

export const REDIS = 'redis://127.0.0.1:6379';

/** A queue prefix no other test uses. */
export const uniquePrefix = (): string => `wt-${randomBytes(4).toString('hex')}`;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A task's line in `lines.txt`: who ran which attempt, written when it starts and when it ends. */
export const MARK = (phase: string): string => `echo "$WEFT_TASK_ID $WEFT_ATTEMPT $WHO ${phase}" >> lines.txt`;

/** The journal's SQLite file must not be replaced by an environment's WEFT_DATABASE_URL unless a test says so. */
function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  if (extra.WEFT_DATABASE_URL === undefined) delete e.WEFT_DATABASE_URL;
  return e;
}

/** A running `weft …` process with its output so far. */
export interface Proc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function start(args: readonly string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Waits until `ok()` holds, polling; throws with `what` after `ms`. */
export async function until(ok: () => boolean, what: string, ms = 180_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Starts `weft worker` and waits for its first line; `WHO` names it in the tasks' lines. */
export async function startWorker(
  cwd: string,
  who: string,
  prefix: string,
  args: readonly string[] = [],
  extra: NodeJS.ProcessEnv = {},
): Promise<Proc> {
  const w = start(['worker', '--redis', REDIS, '--prefix', prefix, '--json', ...args], cwd, {
    WHO: who,
    WEFT_TEST_MACHINE: `${prefix}-${who}`,
    ...extra,
  });
  await until(() => w.stdout().includes('"worker.started"'), `worker ${who} to start (${w.stderr()})`, 180_000);
  return w;
}

/** Stops workers the test started (SIGTERM, then waits). */
export async function stopAll(procs: readonly (Proc | undefined)[]): Promise<void> {
  for (const p of procs)
    if (p !== undefined && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p?.done));
}

/**
 * SIGKILLs every process of one "machine", as when it dies: the worker started with `machine` in
 * its environment (`WEFT_TEST_MACHINE`) and every task process it started — those have their own
 * process groups (and a `setsid` may have made init their parent), so only their environment,
 * which they inherit from the worker, says whose they are.
 */
export function killMachine(machine: string): number {
  const mark = `WEFT_TEST_MACHINE=${machine}`;
  let killed = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(mark)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return killed;
}

/** One line of `lines.txt`. */
export interface Mark {
  readonly task: string;
  readonly attempt: number;
  readonly who: string;
  readonly phase: string;
}

export function marks(project: string): Mark[] {
  const file = join(project, 'lines.txt');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [task = '', attempt = '', who = '', phase = ''] = l.split(' ');
      return { task, attempt: Number(attempt), who, phase };
    });
}

/** The `--json` events a run printed. */
export function events(stdout: string): { type: string; task?: string; attempt?: number; [k: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
}

/**
 * A test file's worker processes: Redis must answer and the CLI be built before its tests; each
 * test's workers are stopped after it. Push every started worker onto the array returned.
 */
export function workerProcs(): (Proc | undefined)[] {
  const procs: (Proc | undefined)[] = [];
  afterEach(async () => {
    await stopAll(procs.splice(0));
  });
  beforeAll(() => {
    needService('redis');
    ensureBuilt();
  }, 300_000);
  return procs;
}

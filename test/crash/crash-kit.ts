import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { RunEvent } from '../../src/core/run/events.js';
import { foldRun, type RunState } from '../../src/core/run/run-state.js';
import { CLI, type CliResult } from '../support/weft-cli.js';

/**
 * What the crash tests share: a weft CLI process that can be SIGKILLed at a chosen point, a
 * read-only look at a project's journal, and the check that turns `lines.txt` (every attempt
 * appends `<task> <attempt>`) into "nothing lost, nothing redone".
 */

/** The shell line every task runs: one line per attempt that got as far as running. */
export const APPEND_LINE = 'echo "$WEFT_TASK_ID $WEFT_ATTEMPT" >> lines.txt';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The journal must be the project's SQLite file, whatever the environment running the tests says. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.WEFT_DATABASE_URL;
  return env;
}

export interface Cli {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult & { readonly timedOut: boolean }>;
  /** Resolves once the process has printed `n` lines (with `--json`: `n` journaled events). */
  whenLines(n: number): Promise<void>;
  stdout(): string;
}

/**
 * Starts `weft …` in `cwd`, no TTY, with `env` over the test's own; SIGKILLs it after `timeoutMs` so
 * a hang fails the test instead of stalling it.
 */
export function startCli(args: readonly string[], cwd: string, timeoutMs = 60_000, env: NodeJS.ProcessEnv = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...cliEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let lines = 0;
  let waiters: { n: number; wake: () => void }[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    const text = d.toString();
    stdout += text;
    lines += text.split('\n').length - 1;
    waiters = waiters.filter((w) => (w.n <= lines ? (w.wake(), false) : true));
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const done = new Promise<CliResult & { timedOut: boolean }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  return {
    child,
    done,
    whenLines: (n) => (n <= lines ? Promise.resolve() : new Promise<void>((wake) => waiters.push({ n, wake }))),
    stdout: () => stdout,
  };
}

/**
 * SIGKILLs the orphan reaper of the weft process `pid` (`weft-reaper <pid>`, see
 * src/executors/process/orphan-reaper.ts): with it gone too, a SIGKILL of weft leaves its task
 * processes running, as a crash that takes both (the OOM killer, a power cut of the machine's
 * processes) would, for what `weft resume` does about them. @returns whether one was found.
 */
export function killReaperOf(pid: number): boolean {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended meanwhile
    }
    const at = argv.indexOf('weft-reaper');
    if (at < 0 || argv[at + 1] !== String(pid)) continue;
    process.kill(Number(name), 'SIGKILL');
    return true;
  }
  return false;
}

/** When to SIGKILL: `delayMs` after the process printed `afterLines` lines (0: after it started). */
export interface KillTrigger {
  readonly afterLines: number;
  readonly delayMs: number;
}

/** Runs `weft …` and SIGKILLs it at the trigger; `killed` is false when it had already exited. */
export async function runAndKill(
  args: readonly string[],
  cwd: string,
  trigger: KillTrigger,
): Promise<{ killed: boolean; result: CliResult & { timedOut: boolean } }> {
  const cli = startCli(args, cwd);
  const fire = async (): Promise<'fire'> => {
    await cli.whenLines(trigger.afterLines);
    await sleep(trigger.delayMs);
    return 'fire';
  };
  const first = await Promise.race([fire(), cli.done.then(() => 'exited' as const)]);
  if (first === 'fire' && cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  const result = await cli.done;
  return { killed: result.signal === 'SIGKILL' && !result.timedOut, result };
}

export interface RunJournal {
  readonly runId: string;
  readonly events: readonly RunEvent[];
  readonly state: RunState;
}

/**
 * The project's latest run as its journal (`.weft/weft.db`) holds it, opened read-only; undefined
 * while no run has been stored (weft died before its first append).
 */
export function readJournal(project: string): RunJournal | undefined {
  const path = join(project, '.weft', 'weft.db');
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name IN ('runs', 'events')")
      .pluck()
      .get() as number;
    if (tables < 2) return undefined;
    const runId = db.prepare('SELECT id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1').pluck().get() as
      string | undefined;
    if (runId === undefined) return undefined;
    const events = (
      db.prepare('SELECT body FROM events WHERE run_id = ? ORDER BY seq').pluck().all(runId) as string[]
    ).map((b) => JSON.parse(b) as RunEvent);
    return { runId, events, state: foldRun(events) };
  } finally {
    db.close();
  }
}

/** Outcomes of attempts that ran to their end as far as the journal knows: each wrote its line once. */
const RAN_TO_END = new Set(['succeeded', 'retrying', 'failed']);

/**
 * Checks a finished run's `lines.txt` against its journal:
 * - no task is lost: every task succeeded exactly once, and that attempt wrote its line once;
 * - no finished task ran again: no attempt (journaled or written) after the succeeded one;
 * - every line is an attempt the journal knows (it was journaled before it ran), written at most
 *   once; attempts the journal saw end wrote theirs exactly once, an attempt cut off by a kill
 *   (`interrupted`) may or may not have.
 * `keep` maps tasks to the attempt an earlier journal (a power-cut copy) already had as succeeded.
 * @returns problems, one line each (empty when all is well), and how many lines were checked.
 */
export function checkLines(
  text: string,
  journal: RunJournal,
  taskIds: readonly string[],
  keep: ReadonlyMap<string, number> = new Map(),
): { problems: string[]; lines: number } {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l !== '');
  for (const line of lines) {
    const m = /^(\S+) (\d+)$/.exec(line);
    if (m === null) problems.push(`malformed line "${line}"`);
    else seen.set(`${m[1]} ${m[2]}`, (seen.get(`${m[1]} ${m[2]}`) ?? 0) + 1);
  }
  const succeededEvents = new Map<string, number>();
  for (const e of journal.events)
    if (e.type === 'task.succeeded') succeededEvents.set(e.task, (succeededEvents.get(e.task) ?? 0) + 1);
  for (const id of taskIds) {
    const r = journal.state.tasks.get(id);
    const wins = succeededEvents.get(id) ?? 0;
    if (r === undefined || r.state !== 'succeeded' || wins !== 1) {
      problems.push(
        `task ${id}: ${r?.state ?? 'missing'} with ${wins} task.succeeded event(s) — expected succeeded exactly once`,
      );
      continue;
    }
    const won = r.attempts.find((a) => a.outcome === 'succeeded')?.attempt ?? NaN;
    const kept = keep.get(id);
    if (kept !== undefined && kept !== won)
      problems.push(`task ${id}: the copied journal had attempt ${kept} succeeded, the run ended with attempt ${won}`);
    for (const a of r.attempts) {
      const n = seen.get(`${id} ${a.attempt}`) ?? 0;
      if (a.attempt > won) problems.push(`task ${id}: attempt ${a.attempt} started after attempt ${won} succeeded`);
      if (a.outcome === undefined) problems.push(`task ${id}: attempt ${a.attempt} never ended in the journal`);
      else if (RAN_TO_END.has(a.outcome) && n !== 1)
        problems.push(`task ${id}: attempt ${a.attempt} (${a.outcome}) wrote ${n} lines, expected 1`);
      else if (n > 1) problems.push(`task ${id}: attempt ${a.attempt} (${a.outcome}) wrote ${n} lines`);
    }
  }
  for (const key of seen.keys()) {
    const [id = '', n = ''] = key.split(' ');
    if (!taskIds.includes(id)) problems.push(`line "${key}": no such task`);
    else if (journal.state.tasks.get(id)?.attempts.some((a) => a.attempt === Number(n)) !== true)
      problems.push(`line "${key}": an attempt the journal does not know`);
  }
  return { problems, lines: lines.length };
}

/** `lines.txt` of a project ('' when no task got to write). */
export function linesOf(project: string): string {
  const file = join(project, 'lines.txt');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { tailFile } from './log-files.js';
import { killGroupOnAbort, killProcessGroup } from './process-group.js';
import { encodeBaseEnv, encodeRequest, type HelperProgram } from './helper-programs.js';

/**
 * A long-lived helper per worker that forks and execs each task, so the coordinator never forks
 * itself: a fork of a big Node process blocks its event loop for about a millisecond, a fork by
 * this small process costs the coordinator nothing. The programs and their protocol are in
 * helper-programs.ts (python's `posix_spawn` where there is one, else bash).
 */
/**
 * Variables bash sets or rewrites in what its children inherit (PWD, OLDPWD and SHLVL even when
 * absent, IFS and PS4 when present), or that the helper changes for itself (LC_ALL, TMOUT): each
 * task gets the value it should have, or has them removed. One difference remains: bash never
 * passes on `_` (shells set it to the command they run; the coordinator's own is stale anyway).
 */
const BASH_OWNED = ['PWD', 'OLDPWD', 'SHLVL', 'IFS', 'PS4', 'LC_ALL', 'TMOUT'] as const;
const OWNED = new Set<string>(BASH_OWNED);
/** Read-only in bash: a task whose env would change them runs with plain spawn. */
const BASH_READONLY = new Set(['SHELLOPTS', 'BASHOPTS', 'BASHPID', 'EUID', 'PPID', 'UID', 'GROUPS']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface HelperRequest {
  readonly argv: readonly string[];
  /** Absolute. */
  readonly cwd: string;
  /** What the task's env adds to or changes in the helper's (the base env as of the helper's start). */
  readonly env: Readonly<Record<string, string>>;
  /** Files the task's stdout and stderr go to (created or truncated); stdin is /dev/null. */
  readonly stdout: string;
  /** `undefined`: a scratch file of the helper's, whose tail comes back in the exit when the task fails. */
  readonly stderr: string | undefined;
  /** @default 2000 */
  readonly stderrTailBytes?: number;
  /** Aborting kills the task's process group: SIGTERM, then SIGKILL after `killGraceMs`. */
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
}

/** How a task run by a helper ended; `stderrTail` only for a request without a stderr file. */
export type HelperExit = HelperEnd & { readonly stderrTail?: string };
type HelperEnd = HelperEndKind & {
  /** When the task's process was forked and reaped (epoch ms), by the helper's clock; absent if never forked. */
  readonly startedAt?: number;
  readonly endedAt?: number;
};
type HelperEndKind =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'no-cwd' }
  | { readonly kind: 'no-log-file' }
  /** The helper went away; `started` says whether the task had been forked (then its group is killed). */
  | { readonly kind: 'helper-died'; readonly started: boolean; readonly detail: string };

/**
 * Helpers for one executor: started on first use, one per task running at once (so one per
 * worker), reused, restarted when one dies, all stopped by {@link close}. Idle helpers do not keep
 * Node alive, and end by themselves when weft exits (their stdin closes).
 */
export class SpawnHelperPool {
  private readonly idle: Helper[] = [];
  private readonly all = new Set<Helper>();
  private scratch: string | undefined;
  private started = 0;
  private programs: readonly HelperProgram[];

  constructor(
    /** What to start, in order of preference: one that dies before running any task is not started again. */
    programs: readonly HelperProgram[],
    /** The env helpers start with; requests send what differs. */
    private readonly baseEnv: () => NodeJS.ProcessEnv,
  ) {
    if (programs.length === 0) throw new Error('SpawnHelperPool needs a helper program');
    this.programs = programs;
  }

  /** The program new helpers run (after any that could not start). */
  get program(): HelperProgram {
    return this.programs[0] as HelperProgram;
  }

  /**
   * What to export and unset for a task whose env is the helper's plus `overrides`, or `undefined`
   * when bash cannot set it (then use plain spawn).
   */
  static envChanges(
    base: Readonly<Record<string, string>>,
    overrides: Readonly<Record<string, string>>,
  ): { sets: string[]; unsets: string[] } | undefined {
    if (base.SHELLOPTS !== undefined || base.BASHOPTS !== undefined) return undefined; // bash rewrites them and cannot set them back
    const sets: string[] = [];
    const unsets: string[] = [];
    for (const [name, value] of Object.entries(overrides)) {
      // A NUL would end the field early and start another: `A=x\0B=y` would set B as well.
      if (name.includes('\0') || value.includes('\0')) return undefined;
      if (base[name] === value || OWNED.has(name)) continue;
      if (!IDENTIFIER.test(name) || BASH_READONLY.has(name)) return undefined;
      sets.push(`${name}=${value}`);
    }
    for (const name of BASH_OWNED) {
      const value = overrides[name] ?? base[name];
      if (value !== undefined) sets.push(`${name}=${value}`);
      else if (name === 'PWD' || name === 'OLDPWD' || name === 'SHLVL') unsets.push(name);
    }
    return { sets, unsets };
  }

  /**
   * Runs one task on an idle helper (starting one if none is idle). `undefined` when this request
   * cannot go through a helper (an env name bash cannot set, a NUL byte): use plain spawn.
   */
  async run(request: HelperRequest): Promise<HelperExit | undefined> {
    if ([request.cwd, request.stdout, request.stderr ?? '', ...request.argv].some((s) => s.includes('\0')))
      return undefined;
    for (let tries = 1; ; tries++) {
      const helper = this.idle.pop() ?? this.start();
      const changes = SpawnHelperPool.envChanges(helper.base, request.env);
      if (changes === undefined) {
        this.release(helper);
        return undefined;
      }
      const stderr = request.stderr ?? helper.scratch;
      const exit = await helper.run({ ...request, stderr }, changes);
      // Read before the helper is reused and its next task truncates the file.
      const failed = exit.kind !== 'exited' || exit.code !== 0;
      const result =
        request.stderr === undefined && failed
          ? { ...exit, stderrTail: tailFile(stderr, request.stderrTailBytes ?? 2000) }
          : exit;
      this.release(helper);
      // A helper that died before forking never ran the task: once more on a fresh one, of the next
      // program if this one never ran anything (a python too old for posix_spawn, say).
      if (exit.kind !== 'helper-died' || exit.started || tries === 2) return result;
      if (!helper.ranAny && this.programs.length > 1) this.programs = this.programs.filter((p) => p !== helper.program);
    }
  }

  /** Stops every helper (a task still running has its process group killed) and waits for them to exit. */
  async close(): Promise<void> {
    const helpers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(helpers.map((h) => h.stop()));
    if (this.scratch !== undefined) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }

  private start(): Helper {
    // Where stderr goes for tasks without log files: a file per helper, read before it is reused.
    this.scratch ??= mkdtempSync(join(tmpdir(), 'weft-helper-'));
    const scratch = join(this.scratch, `${++this.started}.stderr`);
    const helper = new Helper(this.program, this.baseEnv(), scratch, () => {
      this.all.delete(helper);
      const i = this.idle.indexOf(helper);
      if (i >= 0) this.idle.splice(i, 1);
    });
    this.all.add(helper);
    return helper;
  }

  private release(helper: Helper): void {
    if (this.all.has(helper) && !helper.dead) this.idle.push(helper);
  }
}

interface Pending {
  readonly request: HelperRequest;
  readonly resolve: (exit: HelperExit) => void;
  pid?: number;
  /** The last job line: whose it was and whether it says the process died of a signal. */
  job?: { readonly pid: number; readonly signaled: boolean };
  /** When the helper forked and reaped it (epoch ms). */
  startedAt?: number;
  endedAt?: number;
  answer?: 'no-cwd' | 'not-found' | 'no-log-file';
  stopKilling?: () => void;
}

class Helper {
  readonly base: Readonly<Record<string, string>>;
  dead = false;
  /** Whether it has forked a task yet. */
  ranAny = false;
  private readonly child: ChildProcess;
  private pending: Pending | undefined;
  private partial = '';
  private stderrTail = '';

  constructor(
    readonly program: HelperProgram,
    env: NodeJS.ProcessEnv,
    readonly scratch: string,
    onDeath: () => void,
  ) {
    this.base = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    // Its own session, so a Ctrl-C on the terminal reaches weft (which stops tasks its way), not the helper.
    this.child = spawn(program.file, program.args, { env: this.base, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    // python reads the base env first: its own may differ (python sets nothing, but how it was started might).
    if (program.kind === 'python') {
      this.child.stdin?.write(encodeBaseEnv(this.base));
    }
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as Socket | null)?.unref();
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => this.onData(text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-500);
    });
    this.child.stdin?.on('error', () => undefined); // EPIPE when it died: seen on 'close'
    let error = '';
    this.child.on('error', (e) => (error = e.message));
    this.child.on('close', (code, signal) => {
      this.dead = true;
      onDeath();
      const detail =
        error !== ''
          ? error
          : `${signal === null ? `exit ${code}` : signal}${this.stderrTail.trim() === '' ? '' : `: ${this.stderrTail.trim()}`}`;
      this.finish({ kind: 'helper-died', started: this.pending?.pid !== undefined, detail });
    });
  }

  run(
    request: HelperRequest & { readonly stderr: string },
    changes: { readonly sets: readonly string[]; readonly unsets: readonly string[] },
  ): Promise<HelperExit> {
    if (this.dead) return Promise.resolve({ kind: 'helper-died', started: false, detail: 'not running' });
    return new Promise((resolve) => {
      this.pending = { request, resolve };
      // Busy: keep Node alive until the answer comes.
      (this.child.stdout as Socket | null)?.ref();
      const { cwd, stdout, stderr, argv } = request;
      this.child.stdin?.write(encodeRequest({ cwd, stdout, stderr, argv, ...changes }));
    });
  }

  stop(): Promise<void> {
    if (this.dead) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    // Keep Node alive until it has exited (idle helpers are unref'd).
    this.child.ref();
    (this.child.stdout as Socket | null)?.ref();
    this.child.stdin?.end();
    if (this.pending?.pid !== undefined) killProcessGroup({ pid: this.pending.pid }, 'SIGKILL');
    return closed;
  }

  private onData(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (p === undefined) return;
    const job = /^\[\d+\]\S*\s+(\d+)\s+(\S+)/.exec(line);
    if (job !== null) {
      p.job = { pid: Number(job[1]), signaled: job[2] !== 'Done' && job[2] !== 'Exit' };
      return;
    }
    const [tag, value] = [line[0], line.slice(2)];
    if (tag === 'S') {
      const [pid = '', forkedAt = ''] = value.split(' ');
      p.pid = Number(pid);
      this.ranAny = true;
      p.startedAt = epochMs(forkedAt);
      p.stopKilling = killGroupOnAbort({ pid: p.pid }, p.request.signal, p.request.killGraceMs);
    } else if (tag === 'D') p.answer = 'no-cwd';
    else if (tag === 'N') p.answer = 'not-found';
    else if (tag === 'R') p.answer = 'no-log-file';
    else if (tag === 'K') {
      // python's: killed by a signal.
      const [n = '', reapedAt = ''] = value.split(' ');
      p.endedAt = epochMs(reapedAt);
      const name = signalName(Number(n));
      this.finish(name === undefined ? { kind: 'exited', code: 128 + Number(n) } : { kind: 'signaled', signal: name });
    } else if (tag === 'X') {
      const [code = '', reapedAt = ''] = value.split(' ');
      const status = Number(code);
      p.endedAt = epochMs(reapedAt);
      const name =
        status > 128 && p.job !== undefined && p.job.pid === p.pid && p.job.signaled
          ? signalName(status - 128)
          : undefined;
      this.finish(
        p.answer !== undefined
          ? { kind: p.answer }
          : name !== undefined
            ? { kind: 'signaled', signal: name }
            : { kind: 'exited', code: status },
      );
    }
  }

  private finish(exit: HelperExit): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    (this.child.stdout as Socket | null)?.unref();
    p.stopKilling?.();
    // Nothing a task started may outlive it: the helper killed what was left of its group once it
    // reaped it; a helper that died leaves no task behind.
    if (p.pid !== undefined && exit.kind === 'helper-died') killProcessGroup({ pid: p.pid }, 'SIGKILL');
    // Times only for a task that really ran (a missing command was forked, but never exec'd).
    const ran =
      (exit.kind === 'exited' || exit.kind === 'signaled') && p.startedAt !== undefined && p.endedAt !== undefined;
    p.resolve(ran ? { ...exit, startedAt: p.startedAt, endedAt: p.endedAt } : exit);
  }
}

/** The helper's clock (epoch seconds) in ms; bash < 5 has none: then the moment its line arrives is the best known. */
function epochMs(text: string): number {
  const seconds = Number(text);
  return text !== '' && Number.isFinite(seconds) ? Math.floor(seconds * 1000) : Date.now(); // floor, like Date.now()
}

function signalName(n: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, v]) => v === n)?.[0];
}

import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { WeftError, type WeftErrorCode } from '../core/errors.js';
import type { RunEvent } from '../core/run/events.js';
import { foldRun, type RunState } from '../core/run/run-state.js';
import { closest } from '../core/suggest.js';
import type { Store } from '../core/ports/store.js';
import { MemoryStore } from '../store/memory-store.js';
import { openStore } from '../store/open-store.js';
import type { WeftConfig } from './config.js';
import { createWeftDir, weftDir } from './run-files.js';

/**
 * The run journal: SQLite in .weft/ by default, PostgreSQL from config or WEFT_DATABASE_URL. A
 * journal it creates makes .weft/ and keeps it out of git ({@link createWeftDir}).
 * @param options.create `false` for commands that only read it (`weft runs`, `status`, `estimate`…):
 *   a folder with no journal is left as it is, and they see an empty one. @default true
 */
export async function openJournal(
  projectDir: string,
  config: WeftConfig,
  options: { readonly create?: boolean } = {},
): Promise<Store> {
  if (options.create === false && !hasJournal(projectDir, config)) return new MemoryStore();
  const url = databaseUrl(config, projectDir);
  // A command that only reads a journal kept elsewhere (PostgreSQL, sqlite:<file>) makes no .weft/.
  const elsewhere = url !== undefined && url.trim() !== 'sqlite:';
  const dir = options.create === false && elsewhere ? weftDir(projectDir) : await createWeftDir(projectDir);
  return openStore({ dir, ...(url === undefined ? {} : { url }) });
}

/**
 * Refuses a `memory:` journal to `weft serve` and `weft mcp`: the runs they start are processes of
 * their own, each with a memory of its own, so the server never saw them ("the run did not start:
 * exit code 0" for a run that had run).
 */
export function refuseMemoryJournal(config: WeftConfig, command: string): void {
  const { url, from } = configuredUrl(config);
  if (url?.trim().toLowerCase() !== 'memory:') return;
  throw new WeftError(
    'WEFT_USAGE',
    `${command} cannot use the journal memory: (${from}): the runs it starts are processes of their own and would share no journal with it`,
    { hint: 'leave the journal to its default (SQLite in .weft/), or give a sqlite:<file> or postgres:// URL' },
  );
}

/**
 * Whether the project has a journal to read: a database server is configured, or the SQLite file
 * (.weft/weft.db, or the one a `sqlite:<file>` URL names) is there.
 */
export function hasJournal(projectDir: string, config: WeftConfig): boolean {
  const url = databaseUrl(config, projectDir);
  const file = url === undefined ? undefined : sqliteFile(url);
  if (url !== undefined && file === undefined) return true;
  return existsSync(file ?? join(weftDir(projectDir), 'weft.db'));
}

/** The file a `sqlite:<file>` URL names; undefined for any other URL or none. */
function sqliteFile(url: string | undefined): string | undefined {
  const file = url?.startsWith('sqlite:') === true ? url.slice('sqlite:'.length) : undefined;
  return file === '' ? undefined : file;
}

/**
 * The journal's URL: WEFT_DATABASE_URL, else the config's (an empty variable does not hide the
 * config), a relative `sqlite:<file>` taken from the project folder — where weft.config.yaml is,
 * and what `-C` names. Taken from the working folder, `weft runs -C app` read another journal than
 * `weft run` in app/ wrote, and `weft mcp -C app` (or `weft serve`) waited for a run it had started
 * in a journal the run never wrote to.
 */
function databaseUrl(config: WeftConfig, projectDir: string): string | undefined {
  const { url } = configuredUrl(config);
  const file = sqliteFile(url);
  return file === undefined || isAbsolute(file) ? url : `sqlite:${resolve(projectDir, file)}`;
}

/** The journal's URL as given, and where: WEFT_DATABASE_URL (an empty one does not hide the config), else weft.config.yaml. */
function configuredUrl(config: WeftConfig): { url: string | undefined; from: string } {
  const env = process.env.WEFT_DATABASE_URL;
  return env ? { url: env, from: 'WEFT_DATABASE_URL' } : { url: config.database, from: 'weft.config.yaml database' };
}

export const LEASE_TTL_MS = 15_000;

export interface Lease {
  readonly owner: string;
  /** Resolves when the lease is lost (another coordinator took it); the run must stop. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/** Whether a weft coordinator still runs as `pid` (a reused pid of another program does not count). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return /weft|main\.js/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: trust the pid
  }
};

/**
 * Who drives the run: the lease's owner, `'dead'` when that is a process on this machine that no
 * longer exists (weft was killed; its lease has not expired yet), `undefined` when nobody holds it.
 */
export async function coordinatorOf(store: Store, runId: string): Promise<string | 'dead' | undefined> {
  const held = await store.leaseOf(runId);
  if (held === undefined) return undefined;
  const [host, pid] = held.owner.split(':');
  return host === hostname() && pid !== undefined && !alive(Number(pid)) ? 'dead' : held.owner;
}

/**
 * Takes the run's coordinator lease and keeps renewing it. A lease held by a process on this
 * machine that no longer exists (weft was killed) is taken over at once instead of waiting for it
 * to expire; one held by a live process or another machine refuses with WEFT_RUN_LOCKED.
 */
export async function takeLease(store: Store, runId: string): Promise<Lease> {
  const owner = `${hostname()}:${process.pid}`;
  if (!(await store.acquireLease(runId, owner, LEASE_TTL_MS))) {
    const held = await store.leaseOf(runId);
    if (held !== undefined && (await coordinatorOf(store, runId)) === 'dead')
      await store.releaseLease(runId, held.owner);
    if (!(await store.acquireLease(runId, owner, LEASE_TTL_MS))) {
      const who = (await store.leaseOf(runId))?.owner ?? 'another coordinator';
      throw new WeftError('WEFT_RUN_LOCKED', `run ${runId} is being driven by ${who}`, {
        hint: 'wait for it to finish (or stop it), then `weft resume`',
      });
    }
  }
  const lost = new AbortController();
  const timer = setInterval(() => {
    store.renewLease(runId, owner, LEASE_TTL_MS).then(
      (ok) => {
        if (!ok) lost.abort('another weft took over the run (this one lost its lease)');
      },
      () => undefined, // a passing store error: the next renewal tries again
    );
  }, LEASE_TTL_MS / 3);
  timer.unref();
  return {
    owner,
    lost: lost.signal,
    release: async () => {
      clearInterval(timer);
      await store.releaseLease(runId, owner);
    },
  };
}

export async function readRun(store: Store, runId: string): Promise<{ events: RunEvent[]; state: RunState }> {
  const events = (await store.read(runId)).map((e) => e.event);
  return { events, state: foldRun(events) };
}

/**
 * The error for a task id a run does not have (a typo, most often): `message` names it, the hint the
 * closest id the run has, or else `otherwise` (where its ids are listed).
 */
export function unknownTask(
  message: string,
  task: string,
  known: Iterable<string>,
  otherwise: string,
  code: WeftErrorCode = 'WEFT_USAGE',
): WeftError {
  const near = closest(task, known);
  return new WeftError(code, message, { hint: near === undefined ? otherwise : `did you mean "${near}"?` });
}

/**
 * Why a resume of run `runId` cannot take `retry` (`weft resume --retry`, the server's resume
 * `retry`), or `undefined`: a task the run does not have (first, with did-you-mean: a typo must not
 * pass for "nothing to retry"), or one that is blocked or already succeeded — a resume keeps both,
 * so naming it would do nothing.
 */
export function retryRefusal(
  runId: string,
  state: RunState,
  retry: readonly string[],
  field = '--retry',
): WeftError | undefined {
  const unknown = retry.find((id) => !state.tasks.has(id));
  if (unknown !== undefined)
    return unknownTask(
      `${field}: no task "${unknown}" in run ${runId}`,
      unknown,
      state.tasks.keys(),
      field === '--retry' ? `\`weft status ${runId}\` lists its tasks` : `GET /api/runs/${runId}/tasks lists them`,
    );
  const kept = retry.map((id) => state.tasks.get(id)).find((r) => r?.state === 'blocked' || r?.state === 'succeeded');
  if (kept === undefined) return undefined;
  const [why, otherwise] =
    kept.state === 'blocked'
      ? [
          `is blocked in run ${runId} (${kept.reason ?? 'blocked'}); a resume keeps it blocked`,
          `a rejection or a failed gate stands — ${field === '--retry' ? '`weft run <plan>` starts' : 'start'} a new run`,
        ]
      : [
          `already succeeded in run ${runId}; there is nothing to retry`,
          field === '--retry'
            ? '`weft run <plan> --no-cache` runs every task again'
            : 'a new run with `cache: false` runs every task again',
        ];
  return new WeftError('WEFT_RUN_STATE', `${field}: task "${kept.id}" ${why}`, {
    hint: `${field} runs again a task with resume: never that was cut off; ${otherwise}`,
  });
}

/** What names the most recent run wherever a run id is asked for (weft's ids start with a date). */
export const LATEST_RUN = 'latest';

/** A run id as typed (a unique prefix is enough), or the most recent run (none given, or `latest`). */
export async function resolveRunId(
  store: Store,
  given: string | undefined,
  filter: (status: string) => boolean = () => true,
): Promise<string> {
  const runs = await store.listRuns();
  if (given === undefined || given === LATEST_RUN) {
    const latest = runs.find((r) => filter(r.status));
    if (latest === undefined)
      throw new WeftError('WEFT_RUN_NOT_FOUND', 'no run to pick', {
        hint: 'start one with `weft run <plan>`; `weft runs` lists them',
      });
    return latest.id;
  }
  const exact = runs.find((r) => r.id === given);
  if (exact !== undefined) return exact.id;
  const matches = runs.filter((r) => r.id.startsWith(given));
  if (matches.length === 1) return (matches[0] as { id: string }).id;
  throw new WeftError(
    'WEFT_RUN_NOT_FOUND',
    matches.length === 0 ? `no run "${given}"` : `"${given}" matches ${matches.length} runs`,
    { hint: '`weft runs` lists them' },
  );
}

import { readdirSync, readFileSync } from 'node:fs';

/** A live process that carries a weft task's env: WEFT_RUN_ID, WEFT_TASK_ID and WEFT_ATTEMPT. */
export interface TaskProcess {
  readonly pid: number;
  readonly task: string;
  readonly attempt: number;
  /**
   * What `process.kill` takes to stop it: `-pgid` (its whole process group) when every live
   * process of the group carries this run's id, else its own pid (a group shared with anything
   * else, weft itself included, is never signalled as a whole).
   */
  readonly target: number;
}

interface ProcEntry {
  readonly pid: number;
  readonly pgid: number;
  /** The env's WEFT_* values; `undefined` when it has none or cannot be read (another user's process). */
  readonly weft: { readonly runId: string; readonly task: string; readonly attempt: number } | undefined;
}

/**
 * The processes still running for run `runId`'s tasks, found through `/proc` by the env every task
 * process gets (and its children inherit): no pid file per attempt is written for this. Zombies
 * (already dead, waiting to be reaped) are left out. `[]` where there is no `/proc` (macOS).
 */
export function taskProcesses(runId: string): TaskProcess[] {
  const entries = procEntries();
  const foreign = new Set<number>(); // groups holding a process that is not this run's
  for (const e of entries) if (e.weft?.runId !== runId) foreign.add(e.pgid);
  const own = procEntry(String(process.pid))?.pgid;
  if (own !== undefined) foreign.add(own);
  const out: TaskProcess[] = [];
  for (const e of entries) {
    if (e.weft?.runId !== runId) continue;
    const { task, attempt } = e.weft;
    out.push({ pid: e.pid, task, attempt, target: foreign.has(e.pgid) ? e.pid : -e.pgid });
  }
  return out;
}

function procEntries(): ProcEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcEntry[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue; // not a pid
    const entry = procEntry(name);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/** One process's group and WEFT_* env; `undefined` when it is gone or a zombie. */
function procEntry(pid: string): ProcEntry | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // ended meanwhile
  }
  // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so read after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return undefined;
  return { pid: Number(pid), pgid: Number(fields[2]), weft: weftEnv(pid) };
}

function weftEnv(pid: string): ProcEntry['weft'] {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const runId = envValue(environ, 'WEFT_RUN_ID');
  const task = envValue(environ, 'WEFT_TASK_ID');
  const attempt = Number(envValue(environ, 'WEFT_ATTEMPT'));
  if (runId === undefined || task === undefined || !Number.isInteger(attempt)) return undefined;
  return { runId, task, attempt };
}

/** `NAME`'s value in a NUL-separated environ; `undefined` when absent. */
function envValue(environ: string, name: string): string | undefined {
  const padded = `\0${environ}`; // every entry, the first too, follows a NUL
  const key = `\0${name}=`;
  const at = padded.indexOf(key);
  if (at === -1) return undefined;
  const start = at + key.length;
  const end = padded.indexOf('\0', start);
  return padded.slice(start, end === -1 ? undefined : end);
}

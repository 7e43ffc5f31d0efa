import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSize } from '../../core/plan/size.js';
import type { TaskSpec } from '../../core/plan/plan-schema.js';
import { sandboxIssues } from './sandbox.js';

/** A task's `limits` as the OS takes them. */
export interface OsLimits {
  readonly memory?: string | number | undefined;
  readonly cpus?: number | undefined;
}

/** Where cgroups are mounted: `WEFT_CGROUP_ROOT` in `env` (a test or an unusual host), else /sys/fs/cgroup. */
export function cgroupRoot(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['WEFT_CGROUP_ROOT'];
  return given === undefined || given === '' ? '/sys/fs/cgroup' : given;
}

/** The sh script that moves itself into the cgroups named before `--` and then execs the argv after it, as data. */
const ENTER = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 125; shift; done; shift; exec "$@"';

/** One attempt's limits in force: the argv to run, and what to ask and undo when it ended. */
export interface AppliedLimits {
  /** The argv that runs the task inside its limits (no shell parses it: it is passed as data). */
  readonly argv: readonly string[];
  /** How the limits are enforced, for messages: `cgroup v1`, `cgroup v2`, `rlimit`. */
  readonly how: string;
  /** Whether the OS stopped the task for going over its memory limit (asked of a task that failed). */
  memoryExceeded(): boolean;
  /**
   * Whether the OOM killer killed a process of the attempt: exact, so it may be asked of a task
   * that ended well (an agent carries on after its tool was killed). Always `false` under rlimits.
   */
  oomKilled(): boolean;
  /** Removes the attempt's cgroups (after its processes are gone). */
  release(): void;
}

/**
 * Puts `argv` under `limits`: in a fresh cgroup per attempt (v2 when the unified hierarchy is
 * mounted with the controllers, else v1 `memory` and `cpu`) when weft may write there, else
 * `prlimit --as` (memory only; CPUs cannot be capped by rlimits). `undefined` when no limit applies.
 * The cgroup is entered by a fixed `sh` script before the task's own argv is exec'd, so nothing the
 * task runs escapes it.
 */
export function applyLimits(
  argv: readonly string[],
  limits: OsLimits | undefined,
  name: string,
  root: string = cgroupRoot(),
): AppliedLimits | undefined {
  if (limits === undefined) return undefined;
  const bytes = limits.memory === undefined ? undefined : parseSize(limits.memory);
  const cpus = limits.cpus;
  if (bytes === undefined && cpus === undefined) return undefined;
  const id = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return cgroupV2(root, argv, id, bytes, cpus) ?? cgroupV1(root, argv, id, bytes, cpus) ?? rlimit(argv, bytes);
}

function cgroupV2(
  root: string,
  argv: readonly string[],
  id: string,
  bytes: number | undefined,
  cpus: number | undefined,
) {
  // Only where the unified hierarchy has the controllers asked for: under v1 (or a hybrid host) they are
  // bound to v1 hierarchies, and a v2 cgroup without them would take the writes and limit nothing.
  const wanted = [...(bytes === undefined ? [] : ['memory']), ...(cpus === undefined ? [] : ['cpu'])];
  const available = read(join(root, 'cgroup.controllers')).split(/\s+/);
  if (!existsSync(join(root, 'cgroup.controllers')) || wanted.some((c) => !available.includes(c))) return undefined;
  const enable = wanted.map((c) => `+${c}`).join(' ');
  const dir = join(root, 'weft', id);
  try {
    writeFileSync(join(root, 'cgroup.subtree_control'), enable);
    mkdirSync(join(root, 'weft'), { recursive: true });
    writeFileSync(join(root, 'weft', 'cgroup.subtree_control'), enable);
    mkdirSync(dir, { recursive: true });
    if (bytes !== undefined) {
      writeFileSync(join(dir, 'memory.max'), String(bytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
    if (cpus !== undefined) writeFileSync(join(dir, 'cpu.max'), `${Math.round(cpus * 100_000)} 100000`);
    return {
      argv: ['/bin/sh', '-c', ENTER, 'weft-limits', dir, '--', ...argv],
      how: 'cgroup v2',
      memoryExceeded: () => /oom_kill [1-9]/.test(read(join(dir, 'memory.events'))),
      oomKilled: () => /oom_kill [1-9]/.test(read(join(dir, 'memory.events'))),
      release: () => rmdirQuietly(dir),
    };
  } catch {
    rmdirQuietly(dir);
    return undefined;
  }
}

function cgroupV1(
  root: string,
  argv: readonly string[],
  id: string,
  bytes: number | undefined,
  cpus: number | undefined,
) {
  const dirs: string[] = [];
  // Only where the controllers are mounted: a plain folder would take the writes and limit nothing.
  if (bytes !== undefined && !existsSync(join(root, 'memory', 'memory.limit_in_bytes'))) return undefined;
  if (cpus !== undefined && !existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))) return undefined;
  try {
    let memDir: string | undefined;
    if (bytes !== undefined) {
      memDir = join(root, 'memory', 'weft', id);
      mkdirSync(memDir, { recursive: true });
      dirs.push(memDir);
      writeFileSync(join(memDir, 'memory.limit_in_bytes'), String(bytes));
      // Without this the task swaps rather than stops, where there is swap.
      if (existsSync(join(memDir, 'memory.memsw.limit_in_bytes')))
        writeFileSync(join(memDir, 'memory.memsw.limit_in_bytes'), String(bytes));
    }
    if (cpus !== undefined) {
      const cpuDir = join(root, 'cpu', 'weft', id);
      mkdirSync(cpuDir, { recursive: true });
      dirs.push(cpuDir);
      writeFileSync(join(cpuDir, 'cpu.cfs_period_us'), '100000');
      writeFileSync(join(cpuDir, 'cpu.cfs_quota_us'), String(Math.round(cpus * 100_000)));
    }
    const mem = memDir;
    return {
      argv: ['/bin/sh', '-c', ENTER, 'weft-limits', ...dirs, '--', ...argv],
      how: 'cgroup v1',
      memoryExceeded: () =>
        mem !== undefined &&
        (/oom_kill [1-9]/.test(read(join(mem, 'memory.oom_control'))) || Number(read(join(mem, 'memory.failcnt'))) > 0),
      oomKilled: () => mem !== undefined && /oom_kill [1-9]/.test(read(join(mem, 'memory.oom_control'))),
      release: () => dirs.forEach(rmdirQuietly),
    };
  } catch {
    dirs.forEach(rmdirQuietly);
    return undefined;
  }
}

/** Per cgroup root: whether weft may make a cgroup there that caps CPUs (probed once). */
const cpuCaps = new Map<string, boolean>();

/**
 * Whether `limits.cpus` can be enforced here: a cgroup with the `cpu` controller that weft may
 * create (v2 with `cpu` in its controllers, else v1's `cpu` hierarchy). Rlimits cannot cap CPUs.
 */
export function canCapCpus(root: string = cgroupRoot()): boolean {
  let can = cpuCaps.get(root);
  if (can === undefined) cpuCaps.set(root, (can = probeCpuCgroup(root)));
  return can;
}

function probeCpuCgroup(root: string): boolean {
  const v2 = read(join(root, 'cgroup.controllers')).split(/\s+/).includes('cpu');
  if (!v2 && !existsSync(join(root, 'cpu', 'cpu.cfs_quota_us'))) return false;
  const probe = join(root, ...(v2 ? [] : ['cpu']), 'weft', `probe-${process.pid}`);
  try {
    if (v2) writeFileSync(join(root, 'cgroup.subtree_control'), '+cpu');
    mkdirSync(probe, { recursive: true });
    rmdirQuietly(probe);
    return true;
  } catch {
    return false;
  }
}

/** A process-running task's checks before the run (shell and agent CLIs): `sandbox` needs bubblewrap, `limits.cpus` a cgroup. */
export function processIssues(task: TaskSpec): { field: string; message: string; fix: string }[] {
  return [...sandboxIssues(task), ...limitsIssues(task)];
}

/**
 * A task's `limits.cpus` where no cgroup can cap CPUs: refused before the run (with the memory
 * limit the rlimit fallback still enforces, CPUs would silently go uncapped).
 */
function limitsIssues(task: TaskSpec): { field: string; message: string; fix: string }[] {
  if (task.limits?.cpus === undefined || canCapCpus()) return [];
  return [
    {
      field: 'limits.cpus',
      message: `needs a cgroup with the cpu controller that weft may create under ${cgroupRoot()}, and there is none (rlimits cannot cap CPUs)`,
      fix: 'run weft where it may write cgroups (as root, or in a delegated cgroup), or remove limits.cpus',
    },
  ];
}

/** The fallback: an address-space rlimit; an allocation past it fails inside the task (ENOMEM). */
function rlimit(argv: readonly string[], bytes: number | undefined): AppliedLimits | undefined {
  if (bytes === undefined) return undefined;
  let stderr = '';
  return {
    argv: ['prlimit', `--as=${bytes}`, '--', ...argv],
    how: 'rlimit',
    memoryExceeded: () =>
      /out of memory|Cannot allocate memory|ENOMEM|std::bad_alloc|MemoryError|\bOOM\b/i.test(stderr),
    oomKilled: () => false,
    release: () => undefined,
    set stderrTail(text: string) {
      stderr = text;
    },
  } as AppliedLimits;
}

/** What an rlimit-limited task's `memoryExceeded` reads: its stderr, where an allocation failure shows. */
export function noteStderr(applied: AppliedLimits, stderr: string): void {
  if (applied.how === 'rlimit') (applied as unknown as { stderrTail: string }).stderrTail = stderr;
}

/** The failure message of a task that went over its memory limit, in the units it was written in. */
export function memoryExceededMessage(memory: string | number): string {
  return `memory limit ${typeof memory === 'number' ? `${memory}B` : memory.trim()} exceeded`;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function rmdirQuietly(dir: string): void {
  // A cgroup goes once its last process is gone; the process group was killed just before.
  for (let i = 0; i < 20; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY') return;
    }
  }
}

import type { TaskResultData } from '../run/events.js';
import type { ResolvedTask } from '../plan/graph.js';

/** What decided a cache key, part by part, so a miss can say which input changed. */
export type KeyParts = Readonly<Record<string, string>>;

/** What looking a task up in the cache found: its key, what made the key, and the stored result if any. */
export interface CacheProbe {
  /** The task's cache key (a hash of {@link CacheProbe.parts}). */
  readonly key: string;
  /** What went into the key, part by part. */
  readonly parts: KeyParts;
  /** The stored result when the key was seen before. */
  readonly hit?: TaskResultData;
  /** One line for `--explain-cache`: why it hit or missed. */
  readonly explain: string;
}

/**
 * The task cache: a key is a hash of everything that decides a task's result (executor and
 * version, command or prompt, declared env, contents of declared inputs, dependencies' result
 * keys, and the files an uncached dependency declares it writes, as the task finds them). A hit
 * restores the result and the files the task wrote, without running it.
 */
export interface TaskCache {
  /**
   * Computes the task's key from its inputs and looks it up; `depKeys` are its dependencies' result
   * keys. `depWrites` names, by dependency, what an uncached one declares it writes (`writes`,
   * `outputs`): it ran again, so what it wrote is known only by the files' contents in `workdir`.
   */
  probe(
    task: ResolvedTask,
    executor: { readonly name: string; readonly version: string },
    depKeys: Readonly<Record<string, string>>,
    workdir: string,
    depWrites?: Readonly<Record<string, readonly string[]>>,
  ): Promise<CacheProbe>;
  /** Puts back the files a cached result wrote. */
  restore(probe: CacheProbe, task: ResolvedTask, workdir: string): Promise<void>;
  /** Stores a successful result (and the files it wrote) under the probe's key. */
  save(probe: CacheProbe, task: ResolvedTask, result: TaskResultData, workdir: string): Promise<void>;
}

/** A task is cached when it declares its inputs or asks for it, and did not opt out. */
export function isCacheable(task: ResolvedTask): boolean {
  if (task.cache === false) return false;
  return task.cache === true || (task.inputs !== undefined && task.inputs.length > 0);
}

/** Tells what differs between the parts of the last key seen for a task and this one. */
export function explainMiss(previous: KeyParts | undefined, now: KeyParts): string {
  if (previous === undefined) return 'miss: first run';
  const changed = Object.keys({ ...previous, ...now }).filter((k) => previous[k] !== now[k]);
  if (changed.length === 0) return 'miss: result not stored';
  const say = (k: string): string => {
    if (k.startsWith('input:')) return `input ${k.slice(6)}`;
    if (k.startsWith('dep:')) return `dependency ${k.slice(4)}'s result`;
    // `wrote:<dependency>:<file>`: a file an uncached dependency writes.
    const wrote = /^wrote:([^:]*):(.*)$/.exec(k);
    return wrote === null ? k : `${wrote[2]} (written by ${wrote[1]})`;
  };
  const added = changed.filter((k) => previous[k] === undefined).map(say);
  const removed = changed.filter((k) => now[k] === undefined).map(say);
  const modified = changed.filter((k) => previous[k] !== undefined && now[k] !== undefined).map(say);
  return `miss: ${[...modified.map((s) => `${s} changed`), ...added.map((s) => `${s} added`), ...removed.map((s) => `${s} removed`)].join(', ')}`;
}

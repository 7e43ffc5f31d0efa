import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { explainMiss, type CacheProbe, type KeyParts, type TaskCache } from '../core/ports/cache.js';
import type { TaskResultData } from '../core/run/events.js';
import type { ResolvedTask } from '../core/plan/graph.js';
import type { Store } from '../core/ports/store.js';

interface Entry {
  readonly result: TaskResultData;
  readonly files: readonly { readonly path: string; readonly sha: string }[];
}

const SKIP = new Set(['.git', 'node_modules', '.weft']);
const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Files matching any of the globs, sorted, as paths relative to `root` (with `/`); a glob without
 * magic (`src`, `dist/app.js`) is that file or everything under that folder. Globs inside
 * `root` are matched in one walk that leaves out `.git`, `node_modules` and `.weft`; a glob that
 * names a place the walk leaves out (`node_modules/lib/version`) or lies outside `root`
 * (`../common.txt`, an absolute path) is walked from its own base — an input there must count,
 * or a change to it would never run the task again.
 */
export function matchFiles(root: string, globs: readonly string[]): string[] {
  const inside: string[] = [];
  const out = new Set<string>();
  for (const glob of globs.map((g) => g.replace(/^\.\//, ''))) {
    const { base, glob: rest, negated } = picomatch.scan(glob);
    const from = resolve(root, base);
    const away = relative(root, from).split(sep);
    const walked = !away.includes('..') && !isAbsolute(relative(root, from)) && !away.some((d) => SKIP.has(d));
    if (negated) inside.push(glob);
    // A plain path: that file, or all a folder holds (inside the walk, not its .git or node_modules).
    else if (rest === '') collect(from, () => true, root, out, from, walked ? SKIP : new Set());
    else if (walked) inside.push(glob);
    else collect(from, picomatch(rest, { dot: true }), root, out, from);
  }
  if (inside.length > 0) collect(root, picomatch(inside, { dot: true }), root, out, root, SKIP);
  return [...out].sort();
}

/**
 * Adds to `out` the files at or under `path` whose path relative to `base` matches, as paths
 * relative to `root`; folders named in `skip` are not entered.
 */
function collect(
  path: string,
  isMatch: (rel: string) => boolean,
  root: string,
  out: Set<string>,
  base = path,
  skip: ReadonlySet<string> = new Set(),
): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return;
  const add = (full: string): void => {
    if (isMatch(relative(base, full).split(sep).join('/'))) out.add(relative(root, full).split(sep).join('/'));
  };
  if (stat.isFile()) return add(path);
  if (!stat.isDirectory()) return;
  // A link counts as what it points to: a linked file's content is what the task reads. A linked
  // folder is entered when it lies inside the walked one (not `-> /`), each folder once (not `loop -> ..`).
  const top = realpathSync(path);
  const followed = new Set<string>();
  /** Whether to enter the linked folder whose real path is `real`: inside the walked one, not it, once. */
  const follow = (real: string): boolean => {
    if (real === top || relative(top, real).startsWith('..') || followed.has(real)) return false;
    followed.add(real);
    return true;
  };
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (skip.has(entry.name)) continue;
      const full = join(dir, entry.name);
      const link = entry.isSymbolicLink();
      const kind = link ? statSync(full, { throwIfNoEntry: false }) : entry;
      if (kind?.isFile() === true) add(full);
      else if (kind?.isDirectory() === true && (!link || follow(realpathSync(full)))) walk(full);
    }
  };
  walk(path);
}

/**
 * The cache: key index and last-seen key parts in the journal store (so a team sharing a
 * PostgreSQL journal shares hits), file contents as content-addressed blobs in `.weft/cache/`.
 */
export class FileTaskCache implements TaskCache {
  constructor(
    private readonly store: Store,
    private readonly blobDir: string,
    /** Names the plan, so two plans' tasks with one id don't compare their keys. */
    private readonly scope: string,
  ) {}

  async probe(
    task: ResolvedTask,
    executor: { name: string; version: string },
    depKeys: Readonly<Record<string, string>>,
    workdir: string,
    depWrites: Readonly<Record<string, readonly string[]>> = {},
  ): Promise<CacheProbe> {
    const parts: Record<string, string> = {
      executor: `${executor.name}@${executor.version}`,
      command: sha(JSON.stringify({ run: task.run, shell: task.shell ?? false, cwd: task.cwd ?? '' })),
      prompt: sha(task.prompt ?? ''),
      options: sha(
        JSON.stringify({
          model: task.model,
          maxTurns: task.maxTurns,
          outputSchema: task.outputSchema,
          allowedTools: task.allowedTools,
          // In the prompt (and WEFT_CONTRACTS) of both sides; absent, it leaves the key as it was.
          contracts: task.contracts,
        }),
      ),
      env: sha(JSON.stringify(Object.entries(task.env).sort())),
      // What an entry keeps besides the result: an entry saved before `outputs` named a file holds none of it.
      outputs: sha(JSON.stringify({ writes: task.writes, outputs: task.outputs ?? [] })),
    };
    for (const file of matchFiles(workdir, task.inputs ?? []))
      parts[`input:${file}`] = sha(readFileSync(join(workdir, file)));
    for (const [id, key] of Object.entries(depKeys)) parts[`dep:${id}`] = sha(key);
    for (const [id, globs] of Object.entries(depWrites))
      for (const file of matchFiles(workdir, globs))
        parts[`wrote:${id}:${file}`] = sha(readFileSync(join(workdir, file)));
    const key = sha(JSON.stringify(Object.entries(parts).sort()));
    const entry = (await this.store.getCache(`result:${key}`)) as Entry | undefined;
    if (entry !== undefined && entry.files.every((f) => existsSync(this.blob(f.sha))))
      return { key, parts, hit: entry.result, explain: 'hit: nothing that decides its result changed' };
    // Only a miss needs the last key's parts, to say what changed.
    const previous = (await this.store.getCache(`parts:${this.scope}:${task.id}`)) as KeyParts | undefined;
    return { key, parts, explain: explainMiss(previous, parts) };
  }

  async restore(probe: CacheProbe, _task: ResolvedTask, workdir: string): Promise<void> {
    const entry = (await this.store.getCache(`result:${probe.key}`)) as Entry | undefined;
    for (const f of entry?.files ?? []) {
      const target = join(workdir, f.path);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(this.blob(f.sha), target);
    }
  }

  async save(probe: CacheProbe, task: ResolvedTask, result: TaskResultData, workdir: string): Promise<void> {
    const files = matchFiles(workdir, [...task.writes, ...(task.outputs ?? [])]).map((path) => {
      const data = readFileSync(join(workdir, path));
      const digest = sha(data);
      const blob = this.blob(digest);
      if (!existsSync(blob)) {
        mkdirSync(dirname(blob), { recursive: true });
        copyFileSync(join(workdir, path), blob);
      }
      return { path, sha: digest };
    });
    const { cached: _cached, ...fresh } = result;
    await this.store.putCache(`result:${probe.key}`, { result: fresh, files } satisfies Entry);
    await this.store.putCache(`parts:${this.scope}:${task.id}`, probe.parts);
  }

  private blob(digest: string): string {
    return join(this.blobDir, digest.slice(0, 2), digest);
  }
}

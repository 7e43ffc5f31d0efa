import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { SECRET_MASK } from '../../core/redact.js';

const CHUNK = 1 << 20;
const MASK = Buffer.from(SECRET_MASK);

/**
 * Masks every occurrence of `secrets` in a file, in place, reading it in chunks (a log may be far
 * larger than memory should hold). A file without any is only read; one with some is rewritten
 * through a temporary file beside it and renamed over it. A missing file is left alone.
 * @returns whether the file held a secret.
 */
export function scrubFile(path: string, secrets: readonly string[], chunkBytes = CHUNK): boolean {
  if (secrets.length === 0) return false;
  const needles = secrets.map((s) => Buffer.from(s));
  const keep = Math.max(...needles.map((n) => n.length)) - 1;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    if (!scan(fd, needles, keep, undefined, chunkBytes)) return false;
    const tmp = `${path}.scrub`;
    const out = openSync(tmp, 'w');
    const masks: [number, number][] = [];
    let size: number;
    try {
      scan(fd, needles, keep, out, chunkBytes, masks);
      size = masks.reduce((n, [, length]) => n - length + MASK.length, fstatSync(fd).size);
    } catch (error) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw error;
    }
    closeSync(out);
    // Before the rename: a reader that finds the new file (by its size) finds where the masks are.
    writeFileSync(masksOf(path), JSON.stringify({ size, masks } satisfies Masks));
    renameSync(tmp, path);
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads `fd` from the start; with `out`, writes it there with every needle masked. A needle may
 * straddle two chunks, so the last `keep` bytes of what has been read wait for the next chunk.
 * @returns whether a needle was found.
 */
function scan(
  fd: number,
  needles: readonly Buffer[],
  keep: number,
  out: number | undefined,
  chunkBytes: number,
  masks: [number, number][] = [],
): boolean {
  const chunk = Buffer.alloc(chunkBytes);
  let pending = Buffer.alloc(0);
  let position = 0;
  /** Where `pending` starts in the file. */
  let consumed = 0;
  let found = false;
  for (;;) {
    const n = readSync(fd, chunk, 0, chunkBytes, position);
    position += n;
    const eof = n === 0;
    pending = Buffer.concat([pending, chunk.subarray(0, n)]);
    // A match starting at or after `limit` may be the prefix of a longer secret the next chunk completes.
    const limit = eof ? pending.length : Math.max(0, pending.length - keep);
    let from = 0;
    for (;;) {
      const hit = earliest(pending, needles, from);
      if (hit === undefined || hit.at >= limit) break;
      found = true;
      if (out === undefined) return true;
      writeSync(out, pending.subarray(from, hit.at));
      writeSync(out, MASK);
      masks.push([consumed + hit.at, hit.length]);
      from = hit.at + hit.length;
    }
    const safe = Math.max(from, limit);
    if (out !== undefined && safe > from) writeSync(out, pending.subarray(from, safe));
    pending = pending.subarray(safe);
    consumed += safe;
    if (eof) return found;
  }
}

/** The first needle in `haystack` at or after `from` (the longest, where two start at one place). */
function earliest(
  haystack: Buffer,
  needles: readonly Buffer[],
  from: number,
): { at: number; length: number } | undefined {
  let best: { at: number; length: number } | undefined;
  for (const needle of needles) {
    const at = haystack.indexOf(needle, from);
    if (at >= 0 && (best === undefined || at < best.at || (at === best.at && needle.length > best.length)))
      best = { at, length: needle.length };
  }
  return best;
}

/** Beside a scrubbed log: its size after the scrub, and each secret masked, as [start, length] in the log as written. */
interface Masks {
  readonly size: number;
  readonly masks: readonly (readonly [number, number])[];
}

const masksOf = (path: string): string => `${path}.masks`;

/** Offsets in a log as written (`raw`) and in the file as it is now (`file`): the same until it was scrubbed. */
export interface LogOffsets {
  /** Where a reader that has read `raw` bytes of the log as written goes on reading the file. */
  toFile(raw: number): number;
  /** How far into the log as written a reader at `file` in the file is. */
  toRaw(file: number): number;
}

const AS_WRITTEN: LogOffsets = { toFile: (raw) => raw, toRaw: (file) => file };

/**
 * How to follow a log across its scrub: a follower keeps its offset in the log as written, and
 * reads the file at {@link LogOffsets.toFile} of it. The scrub rewrites the file shorter (each
 * secret becomes `***`); a follower at its old byte offset skipped or garbled what came after.
 * @param size the file's size now: the scrubbed file is known by the size its scrub recorded
 */
export function logOffsets(path: string, size: number): LogOffsets {
  let recorded: Masks;
  try {
    recorded = JSON.parse(readFileSync(masksOf(path), 'utf8')) as Masks;
  } catch {
    return AS_WRITTEN;
  }
  if (recorded.size !== size) return AS_WRITTEN;
  const { masks } = recorded;
  const cut = MASK.length;
  return {
    toFile(raw) {
      let shift = 0;
      for (const [at, length] of masks) {
        if (at >= raw) break;
        if (at + length > raw) return at - shift + cut; // inside a secret: after its mask
        shift += length - cut;
      }
      return raw - shift;
    },
    toRaw(file) {
      let shift = 0;
      for (const [at, length] of masks) {
        const masked = at - shift;
        if (masked >= file) break;
        if (masked + cut > file) return at + length; // inside a mask: after its secret
        shift += length - cut;
      }
      return file + shift;
    },
  };
}

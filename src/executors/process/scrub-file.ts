import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
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
    try {
      scan(fd, needles, keep, out, chunkBytes);
    } catch (error) {
      closeSync(out);
      rmSync(tmp, { force: true });
      throw error;
    }
    closeSync(out);
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
): boolean {
  const chunk = Buffer.alloc(chunkBytes);
  let pending = Buffer.alloc(0);
  let position = 0;
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
      from = hit.at + hit.length;
    }
    const safe = Math.max(from, limit);
    if (out !== undefined && safe > from) writeSync(out, pending.subarray(from, safe));
    pending = pending.subarray(safe);
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

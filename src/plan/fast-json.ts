/**
 * The fast path for JSON plan files: `JSON.parse` (tens of MB a second) instead of the YAML
 * parser's document with a position for every node (which a 100,000-task file takes ~20 s and
 * 2 GB to build). Positions are only needed for an error message; the caller re-parses with them
 * when there is one to report.
 */

/**
 * The plain value of `text` when it is JSON that means the same under both parsers, else
 * `undefined` (the caller takes the YAML path, which reports what is wrong with its position):
 * not JSON at all, a key repeated in one object (JSON.parse would keep the last silently; YAML
 * refuses it), or nested deeper than `maxDepth`.
 */
export function parseJsonFast(text: string, maxDepth: number): unknown {
  const start = firstNonSpace(text);
  if (start < 0 || text.charCodeAt(start) !== 0x7b /* { */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  return hasDuplicateKeyOrDepth(text, maxDepth) ? undefined : value;
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xfeff) return i;
  }
  return -1;
}

/**
 * Whether valid JSON `text` repeats a key within one object, or nests deeper than `maxDepth`. A
 * scan, not a parse: `text` is known to be valid JSON, so a `"` opens a string, a string after `{`
 * or `,` in an object is a key, and brackets balance.
 */
export function hasDuplicateKeyOrDepth(text: string, maxDepth: number): boolean {
  const stack: (Set<string> | undefined)[] = []; // the keys of each open object; undefined for a list
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = closingQuote(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end);
        // An escaped key ("\u0061") is the same key as its plain spelling ("a").
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        const keys = stack[stack.length - 1] as Set<string>;
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      if (stack.length > maxDepth) return true;
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(undefined);
      if (stack.length > maxDepth) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] !== undefined;
  }
  return false;
}

/** The index of the `"` that closes the string opening at `open` (one not escaped by a `\`). */
function closingQuote(text: string, open: number): number {
  let j = open + 1;
  for (;;) {
    j = text.indexOf('"', j);
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

/** Where the paths of a document's issues sit in JSON text: a trie of the paths asked for. */
interface PathNode {
  readonly children: Map<string | number, PathNode>;
  /** Offset of the key (an object member) and of the value. */
  keyAt?: number;
  valueAt?: number;
}

const isValueStart = (c: number): boolean =>
  c === 0x7b ||
  c === 0x5b ||
  c === 0x22 ||
  c === 0x2d ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x74 ||
  c === 0x66 ||
  c === 0x6e;

/**
 * The offsets of `paths` in valid JSON `text`, in one scan (a 100,000-task file in a fraction of
 * a second, where the YAML parser's positions take tens of seconds). For each path: the offset of
 * its key when it is an object member, else of its value; a path not in the document is absent.
 */
export function jsonOffsets(
  text: string,
  paths: readonly (readonly (string | number)[])[],
): (path: readonly (string | number)[], preferKey: boolean) => number | undefined {
  const root: PathNode = { children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const p of path) {
      let next = node.children.get(p);
      if (next === undefined) node.children.set(p, (next = { children: new Map() }));
      node = next;
    }
  }
  interface Frame {
    readonly node: PathNode | undefined;
    readonly object: boolean;
    index: number;
    expectKey: boolean;
  }
  const stack: Frame[] = [];
  let next: PathNode | undefined = root; // the node of the value about to start
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (top?.object === true && top.expectKey && c === 0x22) {
      const end = closingQuote(text, i);
      const raw = text.slice(i + 1, end);
      const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
      next = top.node?.children.get(key);
      if (next !== undefined) next.keyAt = i;
      top.expectKey = false;
      i = end;
      continue;
    }
    if (isValueStart(c)) {
      if (top !== undefined && !top.object) next = top.node?.children.get(top.index);
      if (next !== undefined) next.valueAt = i;
      if (c === 0x7b) stack.push({ node: next, object: true, index: 0, expectKey: true });
      else if (c === 0x5b) stack.push({ node: next, object: false, index: 0, expectKey: false });
      else if (c === 0x22) i = closingQuote(text, i);
      else while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1] as string)) i++;
      next = undefined;
    } else if (c === 0x2c && top !== undefined) {
      if (top.object) top.expectKey = true;
      else top.index++;
    } else if (c === 0x7d || c === 0x5d) stack.pop();
  }
  return (path, preferKey) => {
    let node: PathNode | undefined = root;
    for (const p of path) node = node?.children.get(p);
    return node === undefined ? undefined : preferKey ? (node.keyAt ?? node.valueAt) : node.valueAt;
  };
}

/** Line and column (1-based) of each offset, from the text's line starts. */
export function lineColumn(text: string): (offset: number) => { line: number; col: number } {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (starts[lo] as number) + 1 };
  };
}

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

/** Where text stops being JSON: the offset, what is wrong there, and how to fix it. */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
  readonly fix: string;
}

const AT_POSITION = 'fix the syntax at that position';

/** What a `.json` file holds, for the fixes that say what to write: `the plan` and its shape by default. */
export interface JsonFileKind {
  /** e.g. `the plan`, `the schema` */
  readonly holds: string;
  /** The smallest such JSON value, e.g. `{"tasks": [ … ]}`. */
  readonly example: string;
}

const PLAN_FILE: JsonFileKind = { holds: 'the plan', example: '{"tasks": [ … ]}' };

/**
 * The first place `text` breaks the JSON grammar (RFC 8259; a leading byte-order mark is let
 * through), or `undefined` when it is JSON. A file named `.json` must be JSON: read as YAML, a
 * trailing comma, a comment or a key without quotes would pass unnoticed. A scan with a stack of
 * the open brackets, so deep nesting costs no recursion; called only once `JSON.parse` failed.
 * `kind` says what the file holds (a plan unless given), in the fixes that name it.
 */
export function jsonSyntaxError(text: string, kind: JsonFileKind = PLAN_FILE): JsonSyntaxError | undefined {
  const bad = firstSyntaxError(text, kind);
  // Wrong from its first character: likely YAML in a file named .json.
  return bad === undefined || bad.offset !== firstNonSpace(text)
    ? bad
    : {
        ...bad,
        message: `not JSON from its start: ${bad.message}`,
        fix: `write ${kind.holds} as JSON, or name the file .yaml if it is YAML`,
      };
}

function firstSyntaxError(text: string, kind: JsonFileKind): JsonSyntaxError | undefined {
  const n = text.length;
  const open: number[] = []; // 0x7b ({) or 0x5b ([) for each open object or list
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const space = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const fail = (offset: number, message: string, fix = AT_POSITION): JsonSyntaxError => ({ offset, message, fix });
  space();
  if (i >= n)
    return fail(
      i,
      'the file is empty',
      `write ${kind.holds} as one JSON object: ${kind.example}, or name the file .yaml`,
    );
  let want: 'value' | 'key' | 'after' = 'value';
  for (;;) {
    space();
    const c = text.charCodeAt(i);
    if (want === 'after') {
      const top = open[open.length - 1];
      if (top === undefined)
        return i >= n
          ? undefined
          : fail(i, 'more text after the JSON value ended', 'remove it, or fix the brackets before it');
      if (c === 0x2c /* , */) {
        const comma = i++;
        space();
        const next = text.charCodeAt(i);
        if (next === 0x7d || next === 0x5d)
          return fail(comma, `a comma before "${text[i]}": JSON allows no trailing comma`, 'remove the comma');
        want = top === 0x7b ? 'key' : 'value';
      } else if (c === top + 2 /* } after {, ] after [ */) {
        open.pop();
        i++;
      } else if (i >= n) {
        return fail(
          n,
          `the file ends inside ${top === 0x7b ? 'an object' : 'a list'}`,
          `close it with ${top === 0x7b ? '}' : ']'}`,
        );
      } else {
        return unexpected(
          kind,
          text,
          i,
          top === 0x7b ? 'expected "," or "}" after a member' : 'expected "," or "]" after an item',
        );
      }
      continue;
    }
    if (want === 'key') {
      if (c !== 0x22) return unexpected(kind, text, i, 'expected a key in double quotes');
      const end = stringEnd(text, i);
      if (typeof end !== 'number') return end;
      i = end + 1;
      space();
      if (text.charCodeAt(i) !== 0x3a /* : */) return unexpected(kind, text, i, 'expected ":" after the key');
      i++;
      want = 'value';
      continue;
    }
    // A value.
    want = 'after';
    if (c === 0x7b || c === 0x5b) {
      open.push(c);
      i++;
      space();
      if (text.charCodeAt(i) === c + 2) {
        open.pop();
        i++;
      } else want = c === 0x7b ? 'key' : 'value';
    } else if (c === 0x22) {
      const end = stringEnd(text, i);
      if (typeof end !== 'number') return end;
      i = end + 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      const after = match === null ? i : i + match[0].length;
      if (match === null || /[\w.+-]/.test(text[after] ?? ''))
        return fail(i, 'not a JSON number', 'write e.g. 5, -0.5 or 1e3 (no leading zero, no + sign, no hex)');
      i = after;
    } else {
      const word = /[A-Za-z_$][\w$-]*/y;
      word.lastIndex = i;
      const literal = word.exec(text)?.[0];
      if (literal !== 'true' && literal !== 'false' && literal !== 'null')
        return unexpected(kind, text, i, 'expected a value');
      i += literal.length;
    }
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The offset of the `"` closing the string that opens at `at`, or what is wrong inside it. */
function stringEnd(text: string, at: number): number | JsonSyntaxError {
  for (let j = at + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j;
    if (c < 0x20)
      return {
        offset: j,
        message: 'a control character (a line break or tab) inside a string',
        fix: 'write it escaped: \\n, \\t',
      };
    if (c === 0x5c /* \ */) {
      const e = text[j + 1] ?? '';
      if (e === 'u' ? !/^[0-9A-Fa-f]{4}$/.test(text.slice(j + 2, j + 6)) : !'"\\/bfnrt'.includes(e) || e === '')
        return {
          offset: j,
          message: `a bad escape "\\${e === 'u' ? text.slice(j + 1, j + 6) : e}" in a string`,
          fix: 'use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\u followed by 4 hex digits',
        };
      j += e === 'u' ? 5 : 1;
    }
  }
  return {
    offset: at,
    message: 'a string that never ends (no closing ")',
    fix: 'close it with "',
  };
}

/** What is wrong at `at`, where `expected` was expected: the common slips from YAML and JavaScript named. */
function unexpected(kind: JsonFileKind, text: string, at: number, expected: string): JsonSyntaxError {
  const c = text[at];
  if (c === undefined)
    return {
      offset: at,
      message: `the file ends where ${expected.replace(/^expected /, '')} should be`,
      fix: AT_POSITION,
    };
  if (c === '/' && (text[at + 1] === '/' || text[at + 1] === '*'))
    return {
      offset: at,
      message: 'a comment: JSON has none',
      fix: `remove it, or write ${kind.holds} as YAML (.yaml)`,
    };
  if (c === "'")
    return { offset: at, message: 'a string in single quotes: JSON needs double quotes', fix: 'write "…"' };
  const word = /[A-Za-z_$][\w$-]*/y;
  word.lastIndex = at;
  const bare = word.exec(text)?.[0];
  if (bare !== undefined)
    return {
      offset: at,
      message: `${expected}, found ${JSON.stringify(bare)} without quotes`,
      fix: `write it in double quotes: ${JSON.stringify(bare)}`,
    };
  return { offset: at, message: `${expected}, found ${JSON.stringify(c)}`, fix: AT_POSITION };
}

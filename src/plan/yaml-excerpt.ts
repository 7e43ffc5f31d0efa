import { isDeepStrictEqual } from 'node:util';

/**
 * A YAML plan file cut down to the task items some issues point into, for finding where those
 * issues are: the `yaml` package's document with positions costs ~20 s and 2 GB for a 100,000-task
 * file, against well under a second for the excerpt. Lines are cut whole, so a column in the
 * excerpt is the file's column, and {@link fileLine} gives the file's line.
 */
export interface YamlExcerpt {
  readonly text: string;
  /** Where the file's task `i` is in the excerpt's `tasks`, for each task kept. */
  readonly taskIndex: ReadonlyMap<number, number>;
  /** The file's line (1-based) of the excerpt's line `n`. */
  fileLine(n: number): number;
}

/** The top-level `tasks:` key, alone on its line (its items below it, in block style). */
const TASKS_KEY = /^tasks[ \t]*:[ \t]*(?:#[^\r\n]*)?\r?$/m;

/**
 * The excerpt of `text` keeping the top-level keys and the items of `tasks` whose indices are in
 * `keep` (the first item when none is), or undefined when it cannot be cut safely: `tasks` is not
 * a block sequence at the top level, or the excerpt does not read back (by `parse`, the reader
 * that gave `value`) as exactly the items kept and the rest of `value`. Cutting only assumes
 * that every line of the sequence starting `-` at the items' indentation starts an item, and the
 * read-back check catches the texts where that is not so (a quoted string continued on such a line).
 */
export function yamlExcerpt(
  text: string,
  value: unknown,
  keep: ReadonlySet<number>,
  parse: (text: string) => unknown,
): YamlExcerpt | undefined {
  if (!isPlainObject(value) || !Array.isArray(value.tasks)) return undefined;
  const tasks = value.tasks as unknown[];
  const items = taskItems(text);
  if (items === undefined || items.starts.length !== tasks.length) return undefined;
  const kept = keep.size === 0 ? [0] : [...keep].sort((a, b) => a - b);
  if (kept.some((i) => !Number.isInteger(i) || i < 0 || i >= items.starts.length)) return undefined;

  const { text: excerpt, fileLine } = cut(text, items, kept);
  let read: unknown;
  try {
    read = parse(excerpt);
  } catch {
    return undefined;
  }
  if (!isPlainObject(read) || !Array.isArray(read.tasks) || read.tasks.length !== kept.length) return undefined;
  const readTasks = read.tasks as unknown[];
  if (!kept.every((i, j) => isDeepStrictEqual(readTasks[j], tasks[i]))) return undefined;
  const rest = (o: Record<string, unknown>): Record<string, unknown> => ({ ...o, tasks: undefined });
  if (!isDeepStrictEqual(rest(read), rest(value))) return undefined;

  return { text: excerpt, taskIndex: new Map(kept.map((i, j) => [i, j])), fileLine };
}

/**
 * The excerpt of `text` keeping the top-level keys and the task item that holds line `line` (where
 * a reader stopped at a syntax error), with the file's lines `from`–`to` of that item; undefined
 * when `tasks` is neither a block sequence at the top level nor a JSON list whose items each take
 * whole lines, or the line is not in one of its items.
 * Nothing checks that it reads as the file does (the file does not read): the caller trusts only
 * errors it finds inside that item.
 */
export function excerptAround(
  text: string,
  line: number,
): { readonly text: string; fileLine(n: number): number; readonly from: number; readonly to: number } | undefined {
  const items = taskItems(text) ?? jsonTaskItems(text);
  if (items === undefined || line < (items.lines[0] as number) || line >= items.endLine) return undefined;
  let i = items.lines.length - 1;
  while ((items.lines[i] as number) > line) i--;
  const to = (items.lines[i + 1] ?? items.endLine) - 1;
  return { ...cut(text, items, [i]), from: items.lines[i] as number, to };
}

/** `text` cut to whole lines: the text before the first item, the items `kept` (in order), the text after the last. */
function cut(text: string, items: TaskItems, kept: readonly number[]): { text: string; fileLine(n: number): number } {
  const parts: string[] = [];
  const segments: { readonly from: number; readonly fileFrom: number }[] = [];
  let lines = 1;
  const add = (start: number, end: number, fileLine: number): void => {
    const part = text.slice(start, end);
    parts.push(part);
    segments.push({ from: lines, fileFrom: fileLine });
    lines += countLines(part);
  };
  add(0, items.starts[0] as number, 1);
  for (const i of kept) add(items.starts[i] as number, items.starts[i + 1] ?? items.end, items.lines[i] as number);
  add(items.end, text.length, items.endLine);
  return {
    text: parts.join(''),
    fileLine(n) {
      let s = segments.length - 1;
      while (s > 0 && (segments[s] as { from: number }).from > n) s--;
      const segment = segments[s] as { from: number; fileFrom: number };
      return segment.fileFrom + (n - segment.from);
    },
  };
}

interface TaskItems {
  /** Offset of each item's first line. */
  readonly starts: number[];
  /** The file's line (1-based) of each item's first line. */
  readonly lines: number[];
  /** Offset and line of the first line after the sequence (the text's length at its end). */
  readonly end: number;
  readonly endLine: number;
}

/**
 * The items of the top-level `tasks` block sequence, by one scan of lines: an item starts at a
 * line `-` at the indentation of the first, and the sequence ends at a line (not blank, not a
 * comment) indented less than that, or as much but not an item.
 */
function taskItems(text: string): TaskItems | undefined {
  const key = TASKS_KEY.exec(text);
  if (key === null) return undefined;
  let line = countLines(text.slice(0, key.index)) + 2;
  let at = text.indexOf('\n', key.index) + 1;
  if (at === 0) return undefined;
  const starts: number[] = [];
  const lines: number[] = [];
  let indent = -1;
  for (; at < text.length; line++) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    let i = at;
    while (i < nl && text.charCodeAt(i) === 0x20) i++;
    const c = text.charCodeAt(i);
    if (i < nl && c !== 0x0d && c !== 0x23 /* # */) {
      const after = text.charCodeAt(i + 1);
      const item = c === 0x2d /* - */ && (i + 1 === nl || after === 0x20 || after === 0x09 || after === 0x0d);
      if (indent < 0) {
        if (!item) return undefined;
        indent = i - at;
      }
      if (item && i - at === indent) {
        starts.push(at);
        lines.push(line);
      } else if (i - at <= indent) return { starts, lines, end: at, endLine: line };
    }
    at = nl + 1;
  }
  return starts.length === 0 ? undefined : { starts, lines, end: text.length, endLine: line };
}

/**
 * The items of a JSON file's top-level `"tasks"` list, when each takes whole lines (only blanks
 * before it on its first line, only a comma after it on its last), as `JSON.stringify` with an
 * indent or one task a line writes them: by a scan that follows strings and brackets. A file that
 * does not parse may mislead it (an unclosed string); the caller trusts only errors found inside
 * the item it keeps.
 */
function jsonTaskItems(text: string): TaskItems | undefined {
  const starts: number[] = [];
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inTasks = false; // inside the tasks list (its items at depth 2)
  let key: string | undefined; // the last string read at depth 1
  let itemStart = -1; // where the current item starts, while in one
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) line++;
    else if (c === 0x22 /* " */) {
      let j = i + 1;
      for (; j < text.length && text.charCodeAt(j) !== 0x22; j++) {
        if (text.charCodeAt(j) === 0x5c /* \ */) j++;
        else if (text.charCodeAt(j) === 0x0a) line++; // not in JSON, but a broken file must not shift lines
      }
      if (depth === 1) key = text.slice(i + 1, j);
      if (inTasks && depth === 2 && itemStart < 0) return undefined; // a string item: not a task
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth === 1 && c === 0x5b && key === 'tasks' && starts.length === 0) inTasks = true;
      else if (inTasks && depth === 2) {
        const lineStart = text.lastIndexOf('\n', i - 1) + 1;
        if (text.slice(lineStart, i).trim() !== '') return undefined;
        itemStart = lineStart;
        starts.push(lineStart);
        lines.push(line);
      }
      depth++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      if (inTasks && depth === 2 && itemStart >= 0) {
        const lineEnd = text.indexOf('\n', i);
        const rest = text.slice(i + 1, lineEnd < 0 ? text.length : lineEnd).trim();
        if (rest !== '' && rest !== ',') return undefined;
        itemStart = -1;
      } else if (inTasks && depth === 1) {
        // The list's end: its items take whole lines, so `]` starts the first line after them.
        const lineStart = text.lastIndexOf('\n', i - 1) + 1;
        if (starts.length === 0 || text.slice(lineStart, i).trim() !== '') return undefined;
        return { starts, lines, end: lineStart, endLine: line };
      }
    }
  }
  return undefined;
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> & { tasks?: unknown } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

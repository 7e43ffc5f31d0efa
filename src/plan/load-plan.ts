import { isAscii } from 'node:buffer';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { PlanValidationError, WeftError, type PlanIssue } from '../core/errors.js';
import { checkPlan, type CompileOptions, type CompiledPlan, type RawIssue } from '../core/plan/compile.js';
import { inlineSchemaFiles } from './contract-schema-files.js';
import { jsonOffsets, jsonSyntaxError, lineColumn, parseJsonFast } from './fast-json.js';
import { parseYamlFast } from './fast-yaml.js';
import { excerptAround, yamlExcerpt } from './yaml-excerpt.js';
import { yamlPackage } from './yaml-package.js';

/** The largest plan file weft reads: 64 MB. */
export const MAX_PLAN_BYTES = 64 * 1024 * 1024;

/** A plan file this large with a syntax error is reported from an excerpt around it (throwSyntaxInExcerpt). */
const EXCERPT_MIN_BYTES = 1024 * 1024;

/** How deep mappings and lists may nest in a plan (a real plan needs fewer than 20 levels). */
export const MAX_PLAN_DEPTH = 100;

export interface LoadedPlan {
  readonly file: string;
  readonly compiled: CompiledPlan;
}

/**
 * Reads and validates a YAML or JSON plan file; problems come back with line and column.
 * `baseDir` is where its tasks run. @default the plan file's folder
 */
export function loadPlanFile(path: string, options: Omit<CompileOptions, 'file'>, baseDir?: string): LoadedPlan {
  const file = resolve(path);
  const text = readPlanText(path);
  return { file, compiled: parsePlanText(text, path, options, baseDir ?? dirname(file)) };
}

/** Extensions of JavaScript and TypeScript modules: a plan in code, which the CLI does not run. */
const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx']);

/**
 * A plan file's text, refused (one line, naming the file) when it is named as a script, is not a
 * regular file, is over {@link MAX_PLAN_BYTES} or cannot be read.
 */
export function readPlanText(path: string): string {
  const file = resolve(path);
  // Read as YAML, a script fails with a dozen syntax errors that say nothing of the real problem.
  if (SCRIPT_EXTENSIONS.has(extname(file).toLowerCase()))
    throw new PlanValidationError([
      {
        file: path,
        message: 'a script, not a plan file: the CLI reads plans written in YAML or JSON',
        fix: 'run a plan built in code with the library (runWeft(plan)), or write it out as JSON (JSON.stringify(plan)) and pass that file',
      },
    ]);
  try {
    // Checked before reading: /dev/zero or a FIFO would be read for ever, a huge file into an
    // out-of-memory abort.
    const stat = statSync(file);
    if (stat.isDirectory()) throw new PlanValidationError([folderGiven(path, file)]);
    if (!stat.isFile())
      throw new PlanValidationError([
        {
          file: path,
          message: 'not a regular file (a device or FIFO)',
          fix: 'pass the path of a plan file (.yaml or .json)',
        },
      ]);
    if (stat.size > MAX_PLAN_BYTES)
      throw new PlanValidationError([
        {
          file: path,
          message: `${stat.size} bytes, over the 64 MB a plan file may have`,
          fix: 'split the plan, or let a task generate tasks with expands: true',
        },
      ]);
    return decodeText(readFileSync(file));
  } catch (error) {
    if (error instanceof WeftError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new WeftError(
      'WEFT_PLAN_NOT_FOUND',
      code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(error)})`,
      { cause: error, hint: 'pass the path of a plan file, e.g. examples/app.yaml' },
    );
  }
}

/** A folder passed where a plan file goes: the fix names the plan files in it. */
function folderGiven(path: string, dir: string): PlanIssue {
  const plans = readdirSync(dir)
    .filter((name) => YAML_OR_JSON_FILE.test(name) && looksLikePlan(join(dir, name)))
    .sort();
  const shown = plans.slice(0, 3).map((name) => join(path, name));
  return {
    file: path,
    message: 'a folder, not a plan file',
    fix:
      shown.length === 0
        ? 'pass the path of a plan file (.yaml or .json); `weft init` writes one'
        : `pass a plan file in it, e.g. ${shown.join(', ')}${plans.length > 3 ? ', …' : ''}`,
  };
}

/** A YAML or JSON file's name: what a plan file may be called, and what is read as such elsewhere. */
export const YAML_OR_JSON_FILE = /\.(ya?ml|json)$/i;

/** A YAML or JSON file with `tasks` at its top, read no further than its first 64 KB. */
function looksLikePlan(file: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) return false; // a FIFO would block the open
    fd = openSync(file, 'r');
    const head = Buffer.alloc(65_536);
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8');
    return /^tasks\s*:|^\s{0,4}"tasks"\s*:|^\{\s*"tasks"\s*:/m.test(text);
  } catch {
    return false; // a folder named x.yaml, or unreadable
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `bytes` read as UTF-8. A file of ASCII only (most plans) is read as Latin-1, which gives the same
 * string without the UTF-8 decoder: ~100 ms less for a 28 MB plan.
 */
export function decodeText(bytes: Buffer): string {
  // A byte-order mark (an editor's on Windows) is not text: kept, line 1's columns were one off.
  const text = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  return isAscii(text) ? text.toString('latin1') : text.toString('utf8');
}

/**
 * Parses plan text (YAML is a superset of JSON) and validates it. With `baseDir` (the plan's
 * folder), contracts' `schemaFile`s are read from there, and a `cwd` that does not exist there is
 * refused.
 */
export function parsePlanText(
  text: string,
  file: string,
  options: Omit<CompileOptions, 'file'>,
  baseDir?: string,
): CompiledPlan {
  // JSON and YAML are read without positions; they are found (by the `yaml` parser, which also
  // reports syntax errors and takes what the fast paths are not sure of) only for an error to report,
  // in an excerpt of a large file where one can be cut (yaml-excerpt.ts).
  const json = parseJsonFast(text, MAX_PLAN_DEPTH);
  // A .json file is JSON: the YAML path below would take a trailing comma or a comment silently.
  if (json === undefined && isJsonFile(file)) refuseNonJson(text, file);
  let stopped: number | undefined;
  const yaml = json === undefined ? parseYamlFast(text, MAX_PLAN_DEPTH, (line) => (stopped = line)) : undefined;
  if (stopped !== undefined) throwSyntaxInExcerpt(text, stopped, file);
  const parsed = json === undefined && yaml === undefined ? parseYamlDocument(text, file) : undefined;
  const raw: unknown = parsed !== undefined ? parsed.raw : json !== undefined ? json : yaml;
  // A contract's schemaFile is read next to the plan: compiling is pure and reads no files.
  const fileIssues = baseDir === undefined ? [] : inlineSchemaFiles(raw, baseDir);
  const checked = checkPlan(raw, options);
  const plan = fileIssues.length === 0 ? checked.plan : undefined;
  // A contract whose file could not be read also lacks its schema: its own issue says why.
  const atFile = (i: RawIssue): string =>
    i.path[0] === 'contracts' && i.path[2] === 'schemaFile' ? String(i.path[1]) : '';
  const unread = new Set(fileIssues.map(atFile));
  const issues = [...fileIssues, ...checked.issues.filter((i) => !unread.has(atFile(i)) || atFile(i) === '')];
  if (plan !== undefined && baseDir !== undefined) issues.push(...cwdIssues(plan, baseDir));
  if (plan !== undefined && issues.length === 0) return plan;
  if (json !== undefined) throw new PlanValidationError(locateJsonIssues(issues, text, file));
  const excerpted = parsed === undefined ? locateInExcerpt(issues, text, yaml, file) : undefined;
  if (excerpted !== undefined) throw new PlanValidationError(excerpted);
  const { doc, lines } = parsed ?? parseYamlDocument(text, file);
  // In the order they appear in the file (the checks find them in passes).
  throw new PlanValidationError(locateIssues(issues, doc, lines, file));
}

/** Whether `file` is named as JSON (`.json`, any case): then it must be JSON, not YAML. */
function isJsonFile(file: string): boolean {
  return extname(file).toLowerCase() === '.json';
}

/** Throws where `text`, from a file named .json, stops being JSON (one issue, with line and column). */
function refuseNonJson(text: string, file: string): void {
  const bad = jsonSyntaxError(text);
  if (bad === undefined) return; // JSON that the YAML path reads for its positions (a repeated key, deep nesting)
  const pos = lineColumn(text)(bad.offset);
  throw new PlanValidationError([
    { file, line: pos.line, column: pos.col, message: `bad JSON: ${bad.message}`, fix: bad.fix },
  ]);
}

/**
 * A `cwd` (relative to the plan's folder) that is not a folder, for tasks that wait for nothing:
 * a task that waits may work in a folder an earlier task creates.
 */
function cwdIssues(plan: CompiledPlan, baseDir: string): RawIssue[] {
  const issues: RawIssue[] = [];
  plan.spec.tasks.forEach((t, i) => {
    const cwd = t.cwd ?? plan.spec.defaults?.cwd;
    if (cwd === undefined || (t.needs ?? []).length > 0 || (t.after ?? []).length > 0) return;
    const dir = resolve(baseDir, cwd);
    if (isDirectory(dir)) return;
    const path = t.cwd === undefined ? ['defaults', 'cwd'] : ['tasks', i, 'cwd'];
    // A file there is not a missing folder: "create it" would be the wrong fix.
    const file = existsSync(dir);
    issues.push({
      path,
      task: t.id,
      field: 'cwd',
      message: file ? `"${dir}" is a file, not a folder` : `folder "${dir}" does not exist`,
      fix: file ? 'give cwd the folder the task runs in' : "create it, or give cwd relative to the plan's folder",
    });
  });
  return issues;
}

/** A YAML (or JSON) file that parses: the document with positions, and its plain value. */
export interface YamlDocument {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly raw: unknown;
}

/** Parses YAML text keeping positions; syntax errors throw a {@link PlanValidationError}, one line each with line and column. */
export function parseYamlDocument(text: string, file: string): YamlDocument {
  const { doc, lines } = yamlDocument(text);
  // The first error only: the ones after it are mostly the parser losing its way because of it.
  if (doc.errors.length > 0) throw new PlanValidationError(syntaxIssues(doc, lines, file).slice(0, 1));
  const fail = (message: string, offset = 0, fix = 'fix the syntax at that position'): never => {
    const pos = lines.linePos(offset);
    throw new PlanValidationError([{ file, line: pos.line, column: pos.col, message, fix }]);
  };
  // A .json file is read here too: its depth is no YAML problem, and no syntax error.
  const tooDeep = (): never =>
    fail(
      `bad ${isJsonFile(file) ? 'JSON' : 'YAML'}: nested deeper than ${MAX_PLAN_DEPTH} levels`,
      0,
      `nest it at most ${MAX_PLAN_DEPTH} levels deep`,
    );
  let raw: unknown;
  try {
    raw = doc.toJS() as unknown;
  } catch (error) {
    // The yaml library refuses an undefined alias and an alias bomb with a plain Error.
    const message = error instanceof Error ? error.message : String(error);
    const alias = /Unresolved alias.*: (.+)$/.exec(message)?.[1];
    if (alias !== undefined)
      fail(`bad YAML: alias *${alias} names no anchor (&${alias}) before it`, Math.max(0, text.indexOf(`*${alias}`)));
    if (/Excessive alias count/.test(message))
      fail('bad YAML: its aliases expand into too many copies (an alias bomb?)');
    if (error instanceof RangeError) tooDeep();
    throw error;
  }
  if (depthOf(raw) > MAX_PLAN_DEPTH) tooDeep();
  return { doc, lines, raw };
}

function yamlDocument(text: string): { doc: Document; lines: LineCounter } {
  const { LineCounter, parseDocument } = yamlPackage();
  const lines = new LineCounter();
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }), lines };
}

/** How to fix a syntax error of the `yaml` package, by its code (and message, where a code covers several). */
function syntaxFix(code: string, message: string): string {
  if (code === 'TAB_AS_INDENT') return 'indent with spaces, not tabs';
  if (code === 'DUPLICATE_KEY') return 'remove the repeated key, or rename it';
  if (code === 'MULTILINE_IMPLICIT_KEY' || message.startsWith('Implicit map keys need'))
    return 'write `key: value` on one line (a key needs a colon and a space after it)';
  if (message.startsWith('Nested mappings are not allowed'))
    return 'quote the value: it holds ": " (e.g. run: "echo a: b")';
  if (/Missing closing .?quote/.test(message)) return 'close the quote';
  if (/end with a [\]}]/.test(message))
    return `close the ${message.endsWith('}') ? '{ … } mapping with }' : '[ … ] list with ]'}`;
  if (code === 'BAD_INDENT' || message.startsWith('Sequence item without'))
    return 'indent it as the lines beside it are (a list item starts with "- ")';
  return 'check the indentation, colons, quotes and brackets there';
}

/** A document's syntax errors, one issue each with line and column, in the order they appear. */
function syntaxIssues(doc: Document, lines: LineCounter, file: string): PlanIssue[] {
  return [...doc.errors]
    .sort((a, b) => a.pos[0] - b.pos[0])
    .map((e) => {
      const pos = lines.linePos(e.pos[0]);
      const first = e.message.split('\n')[0] ?? e.message;
      const message = /Maximum call stack/.test(first)
        ? `nested deeper than the parser can follow (keep it under ${MAX_PLAN_DEPTH} levels)`
        : first;
      return {
        file,
        line: pos.line,
        column: pos.col,
        message: `bad ${isJsonFile(file) ? 'JSON' : 'YAML'}: ${message.replace(/ at line \d+, column \d+:?$/, '')}`,
        fix: /Maximum call stack/.test(first) ? 'fix the syntax at that position' : syntaxFix(e.code, first),
      };
    });
}

/**
 * Throws the syntax errors of a large plan file's task item where js-yaml stopped (line `stopped`),
 * found in an excerpt of the file (see yaml-excerpt.ts) rather than the `yaml` package's document
 * of the whole file (~20 s and 2 GB for 100,000 tasks). Only when that excerpt has errors and all of
 * them lie in that item; otherwise returns, and the caller reads the whole file. A small file
 * (under 1 MB) is always read whole: every syntax error in it is reported, not only one item's.
 */
function throwSyntaxInExcerpt(text: string, stopped: number, file: string): void {
  if (text.length < EXCERPT_MIN_BYTES) return;
  const excerpt = excerptAround(text, stopped);
  if (excerpt === undefined) return;
  const { doc, lines } = yamlDocument(excerpt.text);
  const issues = syntaxIssues(doc, lines, file).map((i) => ({ ...i, line: excerpt.fileLine(i.line as number) }));
  if (issues.length > 0 && issues.every((i) => i.line >= excerpt.from && i.line <= excerpt.to))
    throw new PlanValidationError(issues.slice(0, 1));
}

/** Whether `path` is a folder; a name too long or a path through a file is not one. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

/** How deep `value` nests, without recursion (the value may be deeper than the stack). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_PLAN_DEPTH) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Issues with their line and column in `doc`, sorted by position. */
export function locateIssues(
  issues: readonly RawIssue[],
  doc: Document,
  lines: LineCounter,
  file: string,
): PlanIssue[] {
  return issues
    .map((i) => locate(i, doc, lines, file))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * {@link locateIssues} for a YAML file read by the fast path, in the `yaml` package's document of
 * an excerpt holding only the tasks with issues (see yaml-excerpt.ts): the same positions as in
 * the whole file's. Undefined when the file cannot be cut so; the caller then reads it whole.
 */
function locateInExcerpt(
  issues: readonly RawIssue[],
  text: string,
  value: unknown,
  file: string,
): PlanIssue[] | undefined {
  const taskOf = (i: RawIssue): number | undefined =>
    i.path[0] === 'tasks' && typeof i.path[1] === 'number' ? i.path[1] : undefined;
  const keep = new Set(issues.map(taskOf).filter((i) => i !== undefined));
  const excerpt = yamlExcerpt(text, value, keep, (t) => parseYamlFast(t, MAX_PLAN_DEPTH));
  if (excerpt === undefined) return undefined;
  let document: YamlDocument;
  try {
    document = parseYamlDocument(excerpt.text, file);
  } catch {
    return undefined;
  }
  const moved = issues.map((i): RawIssue => {
    const task = taskOf(i);
    return task === undefined
      ? i
      : { ...i, path: ['tasks', excerpt.taskIndex.get(task) as number, ...i.path.slice(2)] };
  });
  return locateIssues(moved, document.doc, document.lines, file).map((i) =>
    i.line === undefined ? i : { ...i, line: excerpt.fileLine(i.line) },
  );
}

/**
 * {@link locateIssues} for a document read by the JSON fast path: the same positions (a member's
 * key, else its value, else its nearest parent's), found by one scan of the text.
 */
function locateJsonIssues(issues: readonly RawIssue[], text: string, file: string): PlanIssue[] {
  const offsetOf = jsonOffsets(
    text,
    issues.map((i) => i.path),
  );
  const position = lineColumn(text);
  return issues
    .map(({ path, ...rest }): PlanIssue => {
      for (let len = path.length; len >= 0; len--) {
        const offset = offsetOf(path.slice(0, len), len === path.length);
        if (offset !== undefined) {
          const pos = position(offset);
          return { file, line: pos.line, column: pos.col, ...rest };
        }
      }
      return { file, ...rest };
    })
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Gives an issue the line and column of the node its path points at (or its nearest parent). */
function locate(issue: RawIssue, doc: Document, lines: LineCounter, file: string): PlanIssue {
  const { path, ...rest } = issue;
  for (let len = path.length; len >= 0; len--) {
    const offset = offsetOf(doc, path.slice(0, len), len < path.length ? undefined : path[len - 1]);
    if (offset !== undefined) {
      const pos = lines.linePos(offset);
      return { file, line: pos.line, column: pos.col, ...rest };
    }
  }
  return { file, ...rest };
}

function offsetOf(
  doc: Document,
  path: readonly (string | number)[],
  key: string | number | undefined,
): number | undefined {
  if (path.length === 0) return doc.contents?.range?.[0];
  // For a missing or unknown key, point at the key itself.
  const { isMap, isPair, isScalar } = yamlPackage();
  const parent = doc.getIn(path.slice(0, -1), true);
  if (isMap(parent) && key !== undefined) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (pair !== undefined && isScalar(pair.key)) return pair.key.range?.[0];
  }
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range?.[0];
}

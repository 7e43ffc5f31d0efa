import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { PlanValidationError, WeftError, type PlanIssue } from '../core/errors.js';
import { checkPlan, type CompileOptions, type CompiledPlan, type RawIssue } from '../core/plan/compile.js';

export interface LoadedPlan {
  readonly file: string;
  readonly compiled: CompiledPlan;
}

/** Reads and validates a YAML or JSON plan file; problems come back with line and column. */
export function loadPlanFile(path: string, options: Omit<CompileOptions, 'file'>): LoadedPlan {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WeftError('WEFT_PLAN_NOT_FOUND', code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(error)})`, { cause: error, hint: 'pass the path of a plan file, e.g. examples/app.yaml' });
  }
  return { file, compiled: parsePlanText(text, path, options) };
}

/** Parses plan text (YAML is a superset of JSON) and validates it. */
export function parsePlanText(text: string, file: string, options: Omit<CompileOptions, 'file'>): CompiledPlan {
  const { doc, lines, raw } = parseYamlDocument(text, file);
  const { plan, issues } = checkPlan(raw, options);
  // In the order they appear in the file (the checks find them in passes).
  if (plan === undefined) throw new PlanValidationError(locateIssues(issues, doc, lines, file));
  return plan;
}

/** A YAML (or JSON) file that parses: the document with positions, and its plain value. */
export interface YamlDocument {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly raw: unknown;
}

/** Parses YAML text keeping positions; syntax errors throw a {@link PlanValidationError}, one line each with line and column. */
export function parseYamlDocument(text: string, file: string): YamlDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: PlanIssue[] = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      const message = e.message.split('\n')[0] ?? e.message;
      return { file, line: pos.line, column: pos.col, message: `bad ${extname(file) === '.json' ? 'JSON/YAML' : 'YAML'}: ${message.replace(/ at line \d+, column \d+:?$/, '')}`, fix: 'fix the syntax at that position' };
    });
    throw new PlanValidationError(issues);
  }
  return { doc, lines, raw: doc.toJS() as unknown };
}

/** Issues with their line and column in `doc`, sorted by position. */
export function locateIssues(issues: readonly RawIssue[], doc: Document, lines: LineCounter, file: string): PlanIssue[] {
  return issues.map((i) => locate(i, doc, lines, file)).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
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

function offsetOf(doc: Document, path: readonly (string | number)[], key: string | number | undefined): number | undefined {
  if (path.length === 0) return doc.contents?.range?.[0];
  // For a missing or unknown key, point at the key itself.
  const parent = doc.getIn(path.slice(0, -1), true);
  if (isMap(parent) && key !== undefined) {
    const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (pair !== undefined && isScalar(pair.key)) return pair.key.range?.[0];
  }
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range?.[0];
}

import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { RawIssue } from '../core/plan/compile.js';
import { jsonSyntaxError, lineColumn, parseJsonFast } from './fast-json.js';
import { yamlPackage } from './yaml-package.js';

/** The largest schema file a contract may name: 1 MB. */
const MAX_SCHEMA_BYTES = 1 << 20;

/** What a schema file holds, for the fixes of a `.json` one that is not JSON. */
const SCHEMA_FILE = { holds: 'the schema', example: '{"type": "object"}' };

/** Why a schema file gives no schema: what is wrong (after the file's name, or its `:line:col`) and how to fix it. */
interface Unread {
  readonly at?: string;
  readonly message: string;
  readonly fix?: string;
}

/**
 * Reads the file each contract's `schemaFile` names (relative to the plan's folder; a `.json` one
 * as strict JSON, as a `.json` plan is, any other as YAML) into its `schema`, in place, so the
 * compiled plan — and `plan.json`, which a resume compiles again — holds the schema itself. A
 * contract that gives both, or a file that is missing, too big, not JSON (named `.json`, with its
 * line and column) or YAML, or not a mapping, is an issue at its `schemaFile`.
 */
export function inlineSchemaFiles(raw: unknown, baseDir: string): RawIssue[] {
  const contracts = (raw as { contracts?: unknown } | null)?.contracts;
  if (!Array.isArray(contracts)) return [];
  const issues: RawIssue[] = [];
  contracts.forEach((c: unknown, k) => {
    if (typeof c !== 'object' || c === null) return;
    const contract = c as { schemaFile?: unknown; schema?: unknown };
    if (typeof contract.schemaFile !== 'string' || contract.schemaFile === '') return;
    const at = { path: ['contracts', k, 'schemaFile'], field: `contracts[${k}].schemaFile` };
    if (contract.schema !== undefined) {
      issues.push({ ...at, message: 'the contract gives both schema and schemaFile', fix: 'keep one of them' });
      return;
    }
    const file = resolve(baseDir, contract.schemaFile);
    const read = readSchema(file);
    if ('schema' in read) contract.schema = read.schema;
    else
      issues.push({
        ...at,
        message: `${contract.schemaFile}${read.at ?? ''}: ${read.message}`,
        fix:
          read.fix ??
          (read.message === 'no such file'
            ? "give the path relative to the plan's folder"
            : 'write one JSON Schema object (JSON or YAML) in the file'),
      });
  });
  return issues;
}

/** The mapping in `file`, or why there is none. */
function readSchema(file: string): { readonly schema: Record<string, unknown> } | Unread {
  let text: string;
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return { message: 'no such file' };
    if (!stat.isFile()) return { message: 'not a regular file' };
    if (stat.size > MAX_SCHEMA_BYTES) return { message: `${stat.size} bytes, over the 1 MB a schema file may have` };
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { message: `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  // A .json file is JSON, as a .json plan is: YAML would take a trailing comma or a comment silently.
  const json = extname(file).toLowerCase() === '.json';
  let value = json ? parseJsonFast(text, Number.POSITIVE_INFINITY) : undefined;
  if (value === undefined && json) {
    const bad = jsonSyntaxError(text, SCHEMA_FILE);
    if (bad !== undefined) {
      const pos = lineColumn(text)(bad.offset);
      return { at: `:${pos.line}:${pos.col}`, message: `bad JSON: ${bad.message}`, fix: bad.fix };
    }
    // JSON that YAML reads too: a repeated key (refused there), a list or a value that is no mapping.
  }
  try {
    value ??= yamlPackage().parse(text) as unknown;
  } catch (error) {
    return {
      message: `not JSON or YAML: ${((error as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { message: 'does not hold a JSON Schema object (a mapping)' };
  return { schema: value as Record<string, unknown> };
}

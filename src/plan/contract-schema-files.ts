import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RawIssue } from '../core/plan/compile.js';
import { yamlPackage } from './yaml-package.js';

/** The largest schema file a contract may name: 1 MB. */
const MAX_SCHEMA_BYTES = 1 << 20;

/**
 * Reads the file each contract's `schemaFile` names (JSON or YAML, relative to the plan's folder)
 * into its `schema`, in place, so the compiled plan — and `plan.json`, which a resume compiles
 * again — holds the schema itself. A contract that gives both, or a file that is missing, too big,
 * not YAML/JSON or not a mapping, is an issue at its `schemaFile`.
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
    if (typeof read === 'string')
      issues.push({
        ...at,
        message: `${contract.schemaFile}: ${read}`,
        fix:
          read === 'no such file'
            ? "give the path relative to the plan's folder"
            : 'write one JSON Schema object (JSON or YAML) in the file',
      });
    else contract.schema = read;
  });
  return issues;
}

/** The mapping in `file`, or why there is none. */
function readSchema(file: string): Record<string, unknown> | string {
  let text: string;
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return 'no such file';
    if (!stat.isFile()) return 'not a regular file';
    if (stat.size > MAX_SCHEMA_BYTES) return `${stat.size} bytes, over the 1 MB a schema file may have`;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  let value: unknown;
  try {
    value = yamlPackage().parse(text) as unknown;
  } catch (error) {
    return `not JSON or YAML: ${((error as Error).message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'does not hold a JSON Schema object (a mapping)';
  return value as Record<string, unknown>;
}

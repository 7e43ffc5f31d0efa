import { WeftError } from '../../core/errors.js';
import type { PlanSpec } from '../../core/plan/plan-schema.js';
import { parseStg } from './stg.js';
import { parseWfCommons } from './wfcommons.js';

export { parseStg } from './stg.js';
export { parseWfCommons } from './wfcommons.js';

/** Task-graph formats weft can import as a plan. */
export const IMPORT_FORMATS = ['stg', 'wfcommons'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * Turns a task graph written for another tool into a weft plan object (not yet validated:
 * pass it to `compilePlan` with the same `file`). Every task runs the harmless command `true`
 * and carries its known duration as `estimate`, so the plan is meant for `weft estimate`.
 *
 * @param text the file's contents
 * @param format `stg` (Standard Task Graph Set) or `wfcommons` (WfFormat 1.5 JSON trace)
 * @param file the file name, used in error messages and as the plan's default name
 * @throws {WeftError} `WEFT_IMPORT` naming the file and the line or field at fault
 * @example compilePlan(importPlan(text, 'stg', 'rand0000.stg'), { executors, file: 'rand0000.stg' })
 */
export function importPlan(text: string, format: ImportFormat, file: string): PlanSpec {
  switch (format) {
    case 'stg':
      return parseStg(text, file);
    case 'wfcommons':
      return parseWfCommons(text, file);
    default:
      throw new WeftError('WEFT_IMPORT', `${file}: unknown import format "${String(format)}"`, {
        hint: `use one of: ${IMPORT_FORMATS.join(', ')}`,
      });
  }
}

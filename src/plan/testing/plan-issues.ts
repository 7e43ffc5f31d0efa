import { PlanValidationError, type PlanIssue } from '../../core/errors.js';
import { checkPlan, type CompileOptions } from '../../core/plan/compile.js';
import { locateIssues, parsePlanText, parseYamlDocument } from '../load-plan.js';

type Executors = CompileOptions['executors'];

/** The issues `parsePlanText` reports for `text` read as `file` (the fast paths), none when it is valid. */
export function reportedIssues(text: string, file: string, executors: Executors): readonly PlanIssue[] {
  return issuesThrown(() => {
    parsePlanText(text, file, { executors });
    return [];
  });
}

/**
 * The issues as the `yaml` package's document of the whole text places them: the path every
 * error took before the fast paths, which they must agree with. Its syntax errors, when it has any.
 */
export function wholeFileIssues(text: string, file: string, executors: Executors): readonly PlanIssue[] {
  return issuesThrown(() => {
    const { doc, lines, raw } = parseYamlDocument(text, file);
    return locateIssues(checkPlan(raw, { executors }).issues, doc, lines, file);
  });
}

function issuesThrown(read: () => readonly PlanIssue[]): readonly PlanIssue[] {
  try {
    return read();
  } catch (error) {
    if (error instanceof PlanValidationError) return error.issues;
    throw error;
  }
}

/** Run reports: JSON, Markdown and a self-contained HTML file, from a run folder or a journal. */
export {
  buildReportInput,
  planTasksOf,
  reportTasks,
  type BuildReportOptions,
  type LogTail,
  type ReportInput,
  type ReportTask,
} from './report-input.js';
export { readLogTails, readRange, readTail, tailLines } from './log-tails.js';
export { buildJsonReport, renderJson, type JsonAttempt, type JsonReport, type JsonTask } from './json-report.js';
export { renderMarkdown } from './markdown-report.js';
export { renderHtml } from './html-report.js';
export { reportModel, type AttemptOutcome, type AttemptRow, type ReportModel, type TaskRow } from './report-model.js';
export { layoutGraph, layersOf, type GraphLayout, type LayoutOptions } from './graph-layout.js';

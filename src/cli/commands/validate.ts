import { PlanValidationError } from '../../core/errors.js';
import { catalogOf } from '../../executors/index.js';
import { wire } from '../wiring.js';
import { loadPlanFile } from '../../plan/load-plan.js';
import { formatDuration } from '../../core/plan/duration.js';
import { EXIT } from '../exit-codes.js';

export function validateCommand(file: string, opts: { json?: boolean; dir?: string }): number {
  try {
    const { compiled } = loadPlanFile(file, { executors: catalogOf(wire(opts.dir).executors) });
    const { graph } = compiled;
    if (opts.json === true) {
      process.stdout.write(
        `${JSON.stringify({ valid: true, file, plan: compiled.name, tasks: graph.tasks.length, workers: compiled.workers, criticalPath: graph.criticalPath.map((i) => graph.tasks[i]?.id), issues: [] })}\n`,
      );
    } else {
      process.stdout.write(
        `${file}: valid — ${graph.tasks.length} tasks, critical path ${formatDuration(graph.criticalPathMs)}\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof PlanValidationError && opts.json === true) {
      // `error` as every command's --json failure has it (README: Commands), beside validate's own shape.
      const failed = { code: error.code, message: error.message, issues: error.issues };
      process.stdout.write(`${JSON.stringify({ valid: false, file, issues: error.issues, error: failed })}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

import { PlanValidationError } from '../../core/errors.js';
import { count } from '../format.js';
import { catalogOf } from '../../executors/index.js';
import { dirname } from 'node:path';
import { wire } from '../wiring.js';
import { findWorkspace } from '../workspace-wiring.js';
import { errorRedactor } from '../secrets.js';
import { redactValue } from '../../core/redact.js';
import { loadPlanFile } from '../../plan/load-plan.js';
import { formatDuration } from '../../core/plan/duration.js';
import { EXIT } from '../exit-codes.js';

export async function validateCommand(
  file: string,
  opts: { json?: boolean; dir?: string; set?: Record<string, string> },
): Promise<number> {
  try {
    const { projectDir, executors } = wire(opts.dir);
    const vars = opts.set === undefined ? {} : { vars: opts.set };
    const loaded = loadPlanFile(file, { executors: catalogOf(executors), ...vars });
    const { compiled } = loaded;
    // What `weft run` refuses before anything runs, from the repository around the plan: an isolated
    // task working outside it, a `workspace.copy` file not in it.
    const place = { runId: 'validate', projectDir, baseDir: dirname(loaded.file), planFile: loaded.file };
    await findWorkspace(compiled, place, false);
    const { graph } = compiled;
    if (opts.json === true) {
      process.stdout.write(
        `${JSON.stringify({ valid: true, file, plan: compiled.name, tasks: graph.tasks.length, workers: compiled.workers, criticalPath: graph.criticalPath.map((i) => graph.tasks[i]?.id), issues: [] })}\n`,
      );
    } else {
      process.stdout.write(
        `${file}: valid — ${count(graph.tasks.length, 'task')}, critical path ${formatDuration(graph.criticalPathMs)}\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    if (error instanceof PlanValidationError && opts.json === true) {
      // `error` as every command's --json failure has it (README: Commands), beside validate's own shape.
      const failed = { code: error.code, message: error.message, issues: error.issues };
      const redact = errorRedactor(process.env, [file, ...error.issues.map((i) => i.file)], opts.set);
      const out = redactValue({ valid: false, file, issues: error.issues, error: failed }, redact);
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

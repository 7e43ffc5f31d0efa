import { WeftError } from '../../core/errors.js';
import type { PlanSpec } from '../../core/plan-schema.js';
import { compilePlan } from '../../core/validate.js';
import { catalogOf } from '../../executors/index.js';
import { EXIT } from '../exit-codes.js';
import { openJournal, readRun, resolveRunId } from '../journal.js';
import { wire } from '../wiring.js';
import { executeRun } from './run.js';

export interface ResumeOptions {
  readonly dir?: string;
  readonly json?: boolean;
  readonly progress?: boolean;
  readonly jobs?: number;
  readonly retry?: string[];
}

const UNFINISHED = new Set(['running', 'cancelled', 'interrupted']);

/**
 * Continues a run from its journal: finished tasks keep their results, what was running or
 * waiting runs again. No id: the most recent unfinished run.
 */
export async function resumeCommand(given: string | undefined, opts: ResumeOptions): Promise<number> {
  const { projectDir, executors, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config);
  try {
    const runId = await resolveRunId(store, given, (status) => UNFINISHED.has(status));
    const { events, state } = await readRun(store, runId);
    const created = events[0];
    if (created?.type !== 'run.created') throw new WeftError('WEFT_STORE', `run ${runId} has no run.created event`);
    const o = (created.options ?? {}) as { spec?: PlanSpec; vars?: Record<string, string | number | boolean>; planFile?: string; baseDir?: string; failFast?: boolean; isolation?: boolean };
    if (o.spec === undefined) throw new WeftError('WEFT_USAGE', `run ${runId} was started by a weft that did not record its plan; it cannot be resumed`);
    if (state.status === 'succeeded') {
      process.stdout.write(opts.json === true ? `${JSON.stringify({ runId, status: 'succeeded', resumed: false })}\n` : `run ${runId} already succeeded; nothing to resume\n`);
      return EXIT.ok;
    }
    // The plan as it was when the run started, not as the file is now.
    const compiled = compilePlan(o.spec, { executors: catalogOf(executors), file: o.planFile ?? '<journal>', ...(o.vars === undefined ? {} : { vars: o.vars }) });
    const unknown = (opts.retry ?? []).filter((id) => !compiled.graph.index.has(id));
    if (unknown.length > 0) throw new WeftError('WEFT_USAGE', `--retry: no task "${unknown[0]}" in run ${runId}`);
    return await executeRun({
      runId,
      compiled,
      planFile: o.planFile ?? '<journal>',
      baseDir: o.baseDir ?? projectDir,
      projectDir,
      workers: created.mode === 'sequential' ? 1 : (opts.jobs ?? created.workers),
      mode: created.mode,
      failFast: o.failFast === true,
      isolation: o.isolation !== false,
      executors,
      store,
      display: opts,
      prior: state,
      ...(opts.retry === undefined ? {} : { retry: opts.retry }),
    });
  } finally {
    await store.close();
  }
}

import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runPlan } from '../../core/engine.js';
import type { RunEvent } from '../../core/events.js';
import { summarize } from '../../core/metrics.js';
import { catalogOf } from '../../executors/index.js';
import { wire } from '../wiring.js';
import { loadPlanFile } from '../../plan/load-plan.js';
import { EXIT, exitCodeForStatus } from '../exit-codes.js';
import { formatSummary } from '../format.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { createRunDir, newRunId, writeJson } from '../run-files.js';
import { secretRedactor } from '../secrets.js';
import { openWorkspace } from '../workspace-wiring.js';

export interface RunCommandOptions {
  readonly jobs?: number;
  readonly json?: boolean;
  readonly failFast?: boolean;
  readonly sequential?: boolean;
  readonly set?: Record<string, string>;
  readonly dir?: string;
  readonly progress?: boolean;
  /** `--no-isolation`: run every task in the project folder, no worktrees. */
  readonly isolation?: boolean;
}

export async function runCommand(file: string, opts: RunCommandOptions): Promise<number> {
  const { projectDir, executors } = wire(opts.dir);
  const { file: planPath, compiled } = loadPlanFile(file, { executors: catalogOf(executors), ...(opts.set === undefined ? {} : { vars: opts.set }) });
  const mode = opts.sequential === true ? 'sequential' : 'parallel';
  const workers = mode === 'sequential' ? 1 : (opts.jobs ?? compiled.workers);
  const runId = newRunId();
  const runDir = createRunDir(projectDir, runId);
  writeJson(join(runDir, 'plan.json'), { file: planPath, name: compiled.name, workers, mode, vars: compiled.vars, plan: compiled.spec });

  const progressMode: ProgressMode = opts.json === true ? 'json' : opts.progress === false ? 'plain' : process.stdout.isTTY === true ? 'live' : 'plain';
  const progress = createProgress(progressMode, compiled.graph.tasks.length, workers);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\nweft: stopping — cancelling running tasks (Ctrl-C again to quit at once)\n');
      controller.abort();
    } else process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const journalPath = join(runDir, 'events.jsonl');
  const baseDir = dirname(planPath);
  const workspace = opts.isolation === false ? undefined : await openWorkspace(compiled, { runId, projectDir, baseDir });
  try {
    const { status, state } = await runPlan({
      runId,
      plan: compiled,
      executors,
      baseDir,
      runDir,
      workdirFor: (task) => (task.cwd === undefined ? baseDir : resolve(baseDir, task.cwd)),
      workers,
      mode,
      failFast: opts.failFast === true,
      signal: controller.signal,
      env: process.env,
      redact: secretRedactor(process.env),
      ...(workspace === undefined ? {} : { workspace }),
      journal: (events: readonly RunEvent[]) => appendFileSync(journalPath, events.map((e) => `${JSON.stringify(e)}\n`).join('')),
      onEvent: progress.onEvent,
    });
    progress.stop();
    const deps = new Map(compiled.graph.tasks.map((t) => [t.id, [...t.needs, ...t.after]]));
    const summary = summarize(state, deps);
    writeJson(join(runDir, 'summary.json'), summary);
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ type: 'run.summary', summary, runDir })}\n`);
    else process.stdout.write(`${formatSummary(summary, runDir)}\n`);
    return exitCodeForStatus(status);
  } finally {
    await workspace?.close?.();
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

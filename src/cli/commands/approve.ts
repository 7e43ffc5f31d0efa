import { hostname, userInfo } from 'node:os';
import { WeftError } from '../../core/errors.js';
import type { ApprovalDecision } from '../../core/run/engine-options.js';
import { EXIT } from '../exit-codes.js';
import { coordinatorOf, openJournal, readRun, resolveRunId, unknownTask } from '../journal.js';
import { wire } from '../wiring.js';
import type { Store } from '../../core/ports/store.js';

export interface DecideOptions {
  readonly dir?: string;
  readonly json?: boolean;
  readonly reason?: string;
}

/** Who decides: `user@host`, as the journal and the reports name them. */
export function decider(): string {
  let user = process.env.USER ?? 'someone';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep $USER
  }
  return `${user}@${hostname()}`;
}

/** What a decision did: the run, the event appended, whether a weft drives the run now. */
export interface Decided {
  readonly runId: string;
  readonly event: ApprovalDecision;
  readonly running: boolean;
}

/**
 * Appends a person's decision on a task that waits for approval to the run's journal (`given`: a
 * run id or a prefix of one). Shared by `weft approve`/`reject`, `weft serve` and `weft mcp`.
 *
 * @throws WeftError `WEFT_USAGE` for a reject without a reason, an unknown task (did-you-mean) or a
 *   task that is not waiting; `WEFT_RUN_NOT_FOUND` for an unknown run.
 */
export async function decide(
  store: Store,
  given: string,
  taskId: string,
  decision: ApprovalDecision['decision'],
  options: { readonly reason?: string | undefined; readonly by?: string } = {},
): Promise<Decided> {
  const reason = options.reason?.trim();
  if (decision === 'rejected' && (reason === undefined || reason === ''))
    throw new WeftError('WEFT_USAGE', 'a rejection needs a reason', {
      hint: `weft reject ${given} ${taskId} --reason "what must change"`,
    });
  const runId = await resolveRunId(store, given);
  const { state } = await readRun(store, runId);
  const record = state.tasks.get(taskId);
  if (record === undefined)
    throw unknownTask(
      `run ${runId} has no task "${taskId}"`,
      taskId,
      state.tasks.keys(),
      '`weft status` lists its tasks',
    );
  if (record.approval?.state !== 'waiting') {
    const waiting = [...state.tasks.values()].filter((r) => r.approval?.state === 'waiting').map((r) => r.id);
    const now =
      record.approval === undefined ? `it is ${record.state}` : `a person already ${record.approval.state} it`;
    throw new WeftError('WEFT_RUN_STATE', `task "${taskId}" of run ${runId} is not waiting for approval (${now})`, {
      hint: waiting.length === 0 ? 'no task of this run waits for approval' : `waiting: ${waiting.join(', ')}`,
    });
  }
  const event: ApprovalDecision = {
    type: 'approval.decided',
    at: Date.now(),
    task: taskId,
    decision,
    ...(reason === undefined || reason === '' ? {} : { reason }),
    by: options.by ?? decider(),
  };
  await store.append(runId, [event]);
  const who = await coordinatorOf(store, runId);
  return { runId, event, running: who !== undefined && who !== 'dead' };
}

/**
 * `weft approve <run> <task>` / `weft reject <run> <task> --reason "…"`: a person's decision on a
 * task that waits for approval, appended to the run's journal. A running weft reads it within a
 * second; a stopped run reads it on `weft resume`.
 */
export async function decideCommand(
  decision: ApprovalDecision['decision'],
  given: string,
  taskId: string,
  opts: DecideOptions,
): Promise<number> {
  if (decision === 'rejected' && (opts.reason === undefined || opts.reason.trim() === ''))
    throw new WeftError('WEFT_USAGE', 'weft reject needs a reason', {
      hint: `weft reject ${given} ${taskId} --reason "what must change"`,
    });
  const { projectDir, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config, { create: false });
  try {
    const { runId, event, running } = await decide(store, given, taskId, decision, { reason: opts.reason });
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ runId, ...event, running })}\n`);
    else
      process.stdout.write(
        `${decision} ${taskId} in run ${runId}${running ? '; the running weft goes on' : `; \`weft resume ${runId}\` goes on`}\n`,
      );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

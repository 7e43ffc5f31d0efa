import { hostname, userInfo } from 'node:os';
import { WeftError } from '../../core/errors.js';
import { closest } from '../../core/suggest.js';
import type { ApprovalDecision } from '../../core/run/engine-options.js';
import { EXIT } from '../exit-codes.js';
import { coordinatorOf, openJournal, readRun, resolveRunId } from '../journal.js';
import { wire } from '../wiring.js';

export interface DecideOptions {
  readonly dir?: string;
  readonly json?: boolean;
  readonly reason?: string;
}

/** Who decides: `user@host`, as the journal and the reports name them. */
function decider(): string {
  let user = process.env.USER ?? 'someone';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep $USER
  }
  return `${user}@${hostname()}`;
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
  const reason = opts.reason?.trim();
  if (decision === 'rejected' && (reason === undefined || reason === ''))
    throw new WeftError('WEFT_USAGE', 'weft reject needs a reason', {
      hint: `weft reject ${given} ${taskId} --reason "what must change"`,
    });
  const { projectDir, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config);
  try {
    const runId = await resolveRunId(store, given);
    const { state } = await readRun(store, runId);
    const record = state.tasks.get(taskId);
    if (record === undefined) {
      const hint = closest(taskId, state.tasks.keys());
      throw new WeftError('WEFT_USAGE', `run ${runId} has no task "${taskId}"`, {
        hint: hint === undefined ? '`weft status` lists its tasks' : `did you mean "${hint}"?`,
      });
    }
    if (record.approval?.state !== 'waiting') {
      const waiting = [...state.tasks.values()].filter((r) => r.approval?.state === 'waiting').map((r) => r.id);
      const now =
        record.approval === undefined ? `it is ${record.state}` : `a person already ${record.approval.state} it`;
      throw new WeftError('WEFT_USAGE', `task "${taskId}" of run ${runId} is not waiting for approval (${now})`, {
        hint: waiting.length === 0 ? 'no task of this run waits for approval' : `waiting: ${waiting.join(', ')}`,
      });
    }
    const event: ApprovalDecision = {
      type: 'approval.decided',
      at: Date.now(),
      task: taskId,
      decision,
      ...(reason === undefined || reason === '' ? {} : { reason }),
      by: decider(),
    };
    await store.append(runId, [event]);
    const who = await coordinatorOf(store, runId);
    const live = who !== undefined && who !== 'dead';
    if (opts.json === true) process.stdout.write(`${JSON.stringify({ runId, ...event, running: live })}\n`);
    else
      process.stdout.write(
        `${decision} ${taskId} in run ${runId}${live ? '; the running weft goes on' : `; \`weft resume ${runId}\` goes on`}\n`,
      );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

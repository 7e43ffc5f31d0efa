import { applyRun } from '../../workspace/index.js';
import { EXIT } from '../exit-codes.js';
import { openJournal, resolveRunId } from '../journal.js';
import { wire } from '../wiring.js';

/** `weft apply <run> [--merge]`: bring the run's integration branch into your current branch. */
export async function applyCommand(given: string | undefined, opts: { dir?: string; merge?: boolean; json?: boolean }): Promise<number> {
  const { projectDir, config } = wire(opts.dir);
  const store = await openJournal(projectDir, config);
  let runId: string;
  try {
    runId = await resolveRunId(store, given);
  } finally {
    await store.close();
  }
  const applied = await applyRun(projectDir, runId, { mode: opts.merge === true ? 'merge' : 'ff' });
  process.stdout.write(opts.json === true ? `${JSON.stringify(applied)}\n` : `applied ${applied.from} to ${applied.branch} (${applied.how}): ${applied.before.slice(0, 10)} → ${applied.after.slice(0, 10)}\n`);
  return EXIT.ok;
}

import { copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject } from '../support/weft-cli.js';
import { APPEND_LINE, type RunJournal, checkLines, linesOf, readJournal, startCli } from './crash-kit.js';

beforeAll(ensureBuilt);

/**
 * A power cut: the disk keeps whatever weft had written when the lights went out. Freeze weft
 * (SIGSTOP) mid-run, copy `.weft/weft.db` with its `-wal` (and `-shm`) and the run folder the way
 * they are at that instant, then let the original die or finish. The copy is put where the
 * project was (a resumed run works in the folder its journal recorded) and `weft resume` there
 * must reopen the journal, keep what it had as succeeded, and finish the rest.
 */
const TASKS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
const NEEDS: Record<string, string[]> = {
  c: ['a'],
  d: ['a', 'b'],
  e: ['c'],
  f: ['d'],
  g: ['c', 'd'],
  h: ['e', 'f'],
  i: ['g'],
  j: ['h', 'i'],
};
const PLAN = {
  name: 'power-cut',
  workers: 3,
  tasks: TASKS.map((id) => ({
    id,
    ...(NEEDS[id] === undefined ? {} : { needs: NEEDS[id] }),
    run: ['sh', '-c', `${APPEND_LINE}; sleep 0.15`],
  })),
};
/** Lines `weft run --json` prints: run.created, ready/started/succeeded per task, run.finished, the summary. */
const LINES = 3 * TASKS.length + 3;

/** Copies what a crash at this instant leaves on disk: the journal's files and the project's. */
function copyAsCrashLeft(from: string, to: string, runId: string): { wal: boolean; shm: boolean } {
  mkdirSync(join(to, '.weft', 'runs'), { recursive: true });
  const db = join(from, '.weft', 'weft.db');
  copyFileSync(db, join(to, '.weft', 'weft.db'));
  const wal = existsSync(`${db}-wal`);
  const shm = existsSync(`${db}-shm`);
  if (wal) copyFileSync(`${db}-wal`, join(to, '.weft', 'weft.db-wal'));
  if (shm) copyFileSync(`${db}-shm`, join(to, '.weft', 'weft.db-shm'));
  cpSync(join(from, '.weft', 'runs', runId), join(to, '.weft', 'runs', runId), { recursive: true });
  copyFileSync(join(from, 'plan.yaml'), join(to, 'plan.yaml'));
  // After the journal: every line in it is from an attempt whose start the copied journal holds.
  if (existsSync(join(from, 'lines.txt'))) copyFileSync(join(from, 'lines.txt'), join(to, 'lines.txt'));
  return { wal, shm };
}

/** Reads a journal copy without touching the files `weft resume` is about to open. */
function peek(project: string): RunJournal {
  const scratch = tempProject('weft-peek-');
  mkdirSync(join(scratch, '.weft'));
  for (const suffix of ['', '-wal', '-shm']) {
    const file = join(project, '.weft', `weft.db${suffix}`);
    if (existsSync(file)) copyFileSync(file, join(scratch, '.weft', `weft.db${suffix}`));
  }
  const journal = readJournal(scratch);
  rmSync(scratch, { recursive: true, force: true });
  if (journal === undefined) throw new Error(`no run in the journal copied from ${project}`);
  return journal;
}

const succeededAt = (j: RunJournal): Map<string, number> =>
  new Map(
    [...j.state.tasks.values()].flatMap((r) =>
      r.state === 'succeeded'
        ? [[r.id, r.attempts.find((a) => a.outcome === 'succeeded')?.attempt ?? NaN] as const]
        : [],
    ),
  );

interface Cut {
  readonly afterLines: number;
  /** What became of the original coordinator after the copy: killed, or let run to the end. */
  readonly then: 'kill' | 'continue';
}

const CUTS: Cut[] = [0.2, 0.45, 0.7].flatMap((f) =>
  (['kill', 'continue'] as const).map((then) => ({ afterLines: Math.round(f * LINES), then })),
);

async function cutAndResume(cut: Cut): Promise<{ kept: number; unfinished: number }> {
  const project = tempProject('weft-power-');
  writeFileSync(join(project, 'plan.yaml'), JSON.stringify(PLAN));
  const original = startCli(['run', 'plan.yaml', '--json'], project);
  await original.whenLines(cut.afterLines);
  const pid = original.child.pid as number;
  process.kill(pid, 'SIGSTOP');
  const copy = tempProject('weft-power-copy-');
  let files: { wal: boolean; shm: boolean };
  try {
    const runId = (JSON.parse(original.stdout().split('\n')[0] as string) as { runId: string }).runId;
    files = copyAsCrashLeft(project, copy, runId);
  } finally {
    process.kill(pid, cut.then === 'kill' ? 'SIGKILL' : 'SIGCONT');
  }
  const ended = await original.done;
  if (cut.then === 'kill') expect(ended.signal).toBe('SIGKILL');
  else expect(ended.code, ended.stderr).toBe(0);
  // The journal was still in the WAL: this copy tests recovery from it, not a checkpointed file.
  expect(files.wal).toBe(true);

  const snapshot = peek(copy);
  expect(snapshot.state.status).toBe('running');
  const kept = succeededAt(snapshot);
  // The copy goes where the project was; the original is moved aside (its lines stay out of it).
  renameSync(project, `${project}-before-the-cut`);
  renameSync(copy, project);

  const resumed = await startCli(['resume', '--json'], project).done;
  expect(resumed.code, `${resumed.stderr}\n${resumed.stdout}`).toBe(0);
  const events = resumed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; task?: string });
  // Nothing the copied journal had as succeeded started again.
  expect(events.filter((e) => e.type === 'task.started' && kept.has(e.task ?? ''))).toEqual([]);
  const status = await startCli(['status', '--json'], project).done;
  const summary = JSON.parse(status.stdout) as {
    status: string;
    resumes: number;
    tasks: { id: string; state: string }[];
  };
  expect(summary).toMatchObject({ status: 'succeeded', resumes: 1 });
  expect(summary.tasks.map((t) => `${t.id}:${t.state}`)).toEqual(TASKS.map((id) => `${id}:succeeded`));
  const journal = readJournal(project) as RunJournal;
  expect(checkLines(linesOf(project), journal, TASKS, kept).problems).toEqual([]);
  rmSync(project, { recursive: true, force: true });
  rmSync(`${project}-before-the-cut`, { recursive: true, force: true });
  return { kept: kept.size, unfinished: TASKS.length - kept.size };
}

describe('power cut: the journal as a crash leaves it on disk', () => {
  it('resumes from a copy of weft.db + WAL taken mid-run: keeps what had succeeded, finishes the rest', async () => {
    const results: { kept: number; unfinished: number }[] = [];
    // Two at a time: each cut is a real run of ~1s.
    for (let i = 0; i < CUTS.length; i += 2)
      results.push(...(await Promise.all(CUTS.slice(i, i + 2).map(cutAndResume))));
    console.log(
      `power cut: ${results.map((r, i) => `${(CUTS[i] as Cut).then} after ${(CUTS[i] as Cut).afterLines} lines → ${r.kept} kept, ${r.unfinished} resumed`).join('; ')}`,
    );
    // The cuts really fell mid-run: some kept work, and some left work to resume.
    expect(results.some((r) => r.kept > 0 && r.unfinished > 0)).toBe(true);
  }, 120_000);
});

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft as runWeft } from '../support/weft-cli.js';
import { readJournal } from '../crash/crash-kit.js';

beforeAll(ensureBuilt);

/** `weft …` in `cwd`; the journal is the project's own SQLite file, whatever the environment says. */
const weft = (args: readonly string[], cwd: string) => runWeft(args, { cwd, env: { WEFT_DATABASE_URL: undefined } });

describe('a journal truncated to 0 bytes', () => {
  it('is reported by weft runs, resume and run — one line naming the file and the fix — and left as it is', async () => {
    const project = tempProject('weft-faults-');
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ tasks: [{ id: 't', run: ['true'] }] }));
    expect((await weft(['run', 'plan.yaml'], project)).code).toBe(0);
    const db = join(project, '.weft', 'weft.db');
    truncateSync(db, 0);
    for (const args of [['runs'], ['resume'], ['run', 'plan.yaml']]) {
      const r = await weft(args, project);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`weft: the journal ${db} is empty (0 bytes): it was truncated or wiped`);
      expect(r.stderr).toContain(`move it away (mv ${db} ${db}.empty) to start a new journal`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(statSync(db).size).toBe(0);
  }, 60_000);
});

describe('with more workers than cores', () => {
  it("task durations count from the task's own process start to its end, not from the queue", async () => {
    const project = tempProject('weft-faults-');
    const stamp = 'date +%s%3N > "$WEFT_TASK_ID.start"; sleep 0.2; date +%s%3N > "$WEFT_TASK_ID.end"';
    const ids = Array.from({ length: 32 }, (_, i) => `t${i}`);
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: ids.map((id) => ({ id, run: ['sh', '-c', stamp] })) }),
    );
    const run = await weft(['run', 'plan.yaml', '-j', '32'], project);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse((await weft(['status', '--json'], project)).stdout) as {
      tasks: { id: string; durationMs: number }[];
      utilisation: number;
    };
    const journal = readJournal(project);
    let spans = 0;
    let durations = 0;
    for (const id of ids) {
      const own = {
        start: Number(readFileSync(join(project, `${id}.start`), 'utf8')),
        end: Number(readFileSync(join(project, `${id}.end`), 'utf8')),
      };
      const queued = journal?.events.find((e) => e.type === 'task.started' && e.task === id)?.at as number;
      const done = journal?.events.find((e) => e.type === 'task.succeeded' && e.task === id);
      if (done?.type !== 'task.succeeded') throw new Error(`${id} did not succeed`);
      const { processStartedAt: from = NaN, processEndedAt: to = NaN } = done;
      // The process's life holds what the task itself saw, and lies within what the coordinator saw.
      expect([queued <= from, from <= own.start, own.end <= to, to <= done.at], id).toEqual([true, true, true, true]);
      const shown = summary.tasks.find((t) => t.id === id)?.durationMs;
      expect(shown, id).toBe(to - from);
      spans += done.at - queued;
      durations += to - from;
    }
    expect(durations).toBeLessThan(spans);
  }, 120_000);
});

/** A 3 MB tmpfs to fill up, where this machine lets the tests mount one (as root in CI); `undefined` elsewhere. */
function smallDisk(): string | undefined {
  const dir = tempProject('weft-full-');
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir]).status === 0 ? dir : undefined;
}

describe('a disk that fills up during a run', () => {
  const disk = smallDisk();
  afterAll(() => {
    if (disk !== undefined) spawnSync('umount', [disk]);
  });
  it.skipIf(disk === undefined)(
    'names the write that failed (the journal append), the fix, and leaves a journal weft can still read',
    async () => {
      const project = disk as string;
      const tasks = [
        { id: 'big', run: ['sh', '-c', "head -c 5000000 /dev/zero | tr '\\0' x"] },
        { id: 'small', run: ['sh', '-c', 'echo hi'] },
      ];
      writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ workers: 2, tasks }));
      const r = await weft(['run', 'plan.yaml'], project);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /weft: cannot append to run "[^"]+" in .*\/\.weft\/weft\.db: database or disk is full\n/,
      );
      expect(r.stderr).toContain('free space on the disk that holds');
      expect(r.stderr).not.toContain('cannot release the lease'); // a clean-up step's error no longer hides the cause
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Space freed: the journal is intact and says where the run stands.
      rmSync(join(project, '.weft', 'runs'), { recursive: true, force: true });
      const status = await weft(['status', '--json'], project);
      expect(status.code, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as { tasks: { id: string }[] }).tasks.map((t) => t.id).sort()).toEqual([
        'big',
        'small',
      ]);
    },
    60_000,
  );
});

describe('weft run --fail-fast', () => {
  it('stops the tasks still running at the first failure, and says why', async () => {
    const project = tempProject('weft-faults-');
    const tasks = [
      { id: 'boom', run: ['sh', '-c', 'sleep 0.2; exit 3'] },
      { id: 'slow', run: ['sleep', '5'] },
    ];
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ workers: 2, tasks }));
    const r = await weft(['run', 'plan.yaml', '--fail-fast'], project);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('■ slow cancelled: fail-fast: task "boom" failed');
    expect(r.stdout).toContain('failed — fail-fast: task "boom" failed');
  }, 60_000);
});

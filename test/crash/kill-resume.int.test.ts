import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject } from '../support/weft-cli.js';
import {
  APPEND_LINE,
  type KillTrigger,
  type RunJournal,
  checkLines,
  linesOf,
  readJournal,
  runAndKill,
  startCli,
} from './crash-kit.js';
import { seededRandom } from '../../src/core/schedule/search/index.js';

beforeAll(ensureBuilt);

/**
 * "Nothing lost": SIGKILL the real CLI at many random points of a run (and of the resumes that
 * follow), resume until a resume exits 0, and check against the journal that every task
 * succeeded exactly once and that nothing which had finished ran again.
 *
 * WEFT_CRASH_POINTS (default 30, so the whole suite stays inside CI's 30 minutes; 50 took ~71 s
 * in a whole-suite run, 100 about 160 s) sets how many kills of `weft run` to land, WEFT_CRASH_SEED the draws, WEFT_CRASH_LANES how many projects run at once, WEFT_CRASH_BUDGET_S (default 600) the time
 * after which no new point starts. Each point costs about three CLI starts (~0.8 s of CPU each).
 */
const POINTS = Number(process.env.WEFT_CRASH_POINTS ?? 30);
const SEED = Number(process.env.WEFT_CRASH_SEED ?? 20_261_121);
const LANES = Number(process.env.WEFT_CRASH_LANES ?? 4);
/** No new kill point starts after this, so a slow machine ends with the counts, not a timeout. */
const BUDGET_MS = Number(process.env.WEFT_CRASH_BUDGET_S ?? 600) * 1000;
/** Every n-th point asks `weft status --json` (a CLI start costs more than the rest of a point). */
const STATUS_EVERY = 4;

const sh = (script: string): string[] => ['sh', '-c', script];
/** 16 tasks: two roots, fan-out, a flaky one (fails on attempt 1), fan-in, a soft `after` at the end. */
const TASKS: { id: string; needs?: string[]; after?: string[]; run: string[]; retries?: number }[] = [
  { id: 'fetch', run: sh(APPEND_LINE) },
  { id: 'config', run: sh(APPEND_LINE) },
  { id: 'lint', needs: ['fetch'], run: sh(APPEND_LINE) },
  { id: 'compile-a', needs: ['fetch', 'config'], run: sh(APPEND_LINE) },
  { id: 'compile-b', needs: ['fetch'], run: sh(APPEND_LINE) },
  { id: 'compile-c', needs: ['config'], run: sh(APPEND_LINE) },
  { id: 'flaky', needs: ['compile-a'], run: sh(`${APPEND_LINE}; [ "$WEFT_ATTEMPT" != 1 ]`), retries: 2 },
  { id: 'test-a', needs: ['compile-a'], run: sh(APPEND_LINE) },
  { id: 'test-b', needs: ['compile-b'], run: sh(APPEND_LINE) },
  { id: 'test-c', needs: ['compile-c', 'lint'], run: sh(APPEND_LINE) },
  { id: 'docs', needs: ['config'], run: sh(APPEND_LINE) },
  { id: 'bundle', needs: ['compile-a', 'compile-b', 'compile-c'], run: sh(APPEND_LINE) },
  { id: 'e2e', needs: ['bundle', 'flaky'], run: sh(APPEND_LINE) },
  { id: 'package', needs: ['bundle', 'test-a', 'test-b', 'test-c'], run: sh(APPEND_LINE) },
  { id: 'publish', needs: ['package', 'e2e', 'docs'], run: sh(APPEND_LINE) },
  { id: 'notify', after: ['publish'], run: sh(APPEND_LINE) },
];
const IDS = TASKS.map((t) => t.id);
const PLAN = {
  name: 'crash',
  workers: 3,
  defaults: { retries: 1, backoff: { initial: '20ms', jitter: false } },
  tasks: TASKS,
};

function newProject(): string {
  const project = tempProject('weft-crash-');
  writeFileSync(join(project, 'plan.yaml'), JSON.stringify(PLAN, null, 1)); // JSON is YAML
  return project;
}

const RUN = ['run', 'plan.yaml', '--json'];

interface Counts {
  killPoints: number;
  before: number;
  mid: number;
  after: number;
  exitedFirst: number;
  restarts: number;
  resumes: number;
  resumeKills: number;
  linesChecked: number;
  statusChecks: number;
}

/** A full run, uninterrupted: how long it lives and how many lines it prints, to spread kills across. */
async function calibrate(): Promise<{ lines: number; exitMs: number }> {
  const project = newProject();
  const t0 = Date.now();
  const r = await startCli(RUN, project).done;
  const exitMs = Date.now() - t0;
  expect(r.code, r.stderr).toBe(0);
  const journal = readJournal(project);
  expect(journal).toBeDefined();
  expect(checkLines(linesOf(project), journal as RunJournal, IDS).problems).toEqual([]);
  rmSync(project, { recursive: true, force: true });
  return { lines: r.stdout.split('\n').length - 1, exitMs };
}

describe('SIGKILL at random points, then resume', () => {
  it(
    `loses nothing and redoes nothing over ${POINTS} kill points`,
    async () => {
      const started = Date.now();
      const calib = await calibrate();
      /** A kill point: mostly right after the n-th journaled event, sometimes at a plain time since start. */
      const drawTrigger = (rnd: () => number): KillTrigger =>
        rnd() < 0.25
          ? { afterLines: 0, delayMs: Math.floor(rnd() * calib.exitMs * 1.1) }
          : { afterLines: 1 + Math.floor(rnd() * calib.lines), delayMs: Math.floor(rnd() * 12) };

      const counts: Counts = {
        killPoints: 0,
        before: 0,
        mid: 0,
        after: 0,
        exitedFirst: 0,
        restarts: 0,
        resumes: 0,
        resumeKills: 0,
        linesChecked: 0,
        statusChecks: 0,
      };
      const problems: string[] = [];
      let next = 0;

      /** One kill point, start to finish: kill the run, resume (killing some resumes too) until one exits 0, check. */
      const point = async (index: number): Promise<void> => {
        const rnd = seededRandom(SEED + index * 7919);
        const project = newProject();
        const where = `point ${index} (seed ${SEED}, ${project})`;
        const first = drawTrigger(rnd);
        const { killed, result } = await runAndKill(RUN, project, first);
        if (!killed) {
          counts.exitedFirst++;
          if (result.code !== 0)
            problems.push(`${where}: weft run exited ${result.code} before the kill: ${result.stderr.trim()}`);
        } else {
          counts.killPoints++;
          let landed: RunJournal | undefined;
          try {
            landed = readJournal(project);
          } catch (error) {
            problems.push(`${where}: the journal cannot be read after the kill: ${(error as Error).message}`);
            return;
          }
          if (landed === undefined) counts.before++;
          else if (landed.state.status === 'running') counts.mid++;
          else counts.after++;
        }
        // Some points kill the resumes too, up to three times.
        let resumeKills = rnd() < 0.3 ? 1 + Math.floor(rnd() * 3) : 0;
        let finalOutput = '';
        for (let round = 0; ; round++) {
          if (round > 8) {
            problems.push(`${where}: still not finished after ${round} resumes`);
            return;
          }
          const runId = readJournal(project)?.runId;
          // Killed before its first append: there is no run to resume; the user runs the plan again.
          const args = runId === undefined ? RUN : ['resume', runId, '--json'];
          if (runId === undefined) counts.restarts++;
          else counts.resumes++;
          if (resumeKills > 0) {
            resumeKills--;
            const k = await runAndKill(args, project, drawTrigger(rnd));
            if (k.killed) {
              counts.resumeKills++;
              continue;
            }
            if (k.result.code === 0) {
              finalOutput = k.result.stdout;
              break;
            }
            problems.push(`${where}: weft ${args[0]} exited ${k.result.code}: ${k.result.stderr.trim()}`);
            return;
          }
          const r = await startCli(args, project).done;
          if (r.code === 0) {
            finalOutput = r.stdout;
            break;
          }
          problems.push(
            `${where}: weft ${args.join(' ')} exited ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim()}`,
          );
          return;
        }
        const journal = readJournal(project);
        if (journal === undefined) {
          problems.push(`${where}: no run in the journal after a successful resume`);
          return;
        }
        // What the user sees: `weft status --json` on every STATUS_EVERY-th point and whenever the last
        // command printed no summary (the run had already finished); else the same summary, as printed.
        const printed = finalOutput.split('\n').find((l) => l.startsWith('{"type":"run.summary"'));
        let summary: { status: string; tasks: { id: string; state: string }[] };
        if (printed === undefined || index % STATUS_EVERY === 0) {
          const status = await startCli(['status', journal.runId, '--json'], project).done;
          counts.statusChecks++;
          if (status.code !== 0) {
            problems.push(`${where}: weft status exited ${status.code ?? status.signal}: ${status.stderr.trim()}`);
            return;
          }
          summary = JSON.parse(status.stdout) as typeof summary;
        } else summary = (JSON.parse(printed) as { summary: typeof summary }).summary;
        if (
          summary.status !== 'succeeded' ||
          summary.tasks.length !== IDS.length ||
          summary.tasks.some((t) => t.state !== 'succeeded')
        ) {
          problems.push(
            `${where}: the run ended ${summary.status}: ${summary.tasks.map((t) => `${t.id}:${t.state}`).join(' ')}`,
          );
        }
        const check = checkLines(linesOf(project), journal, IDS);
        counts.linesChecked += check.lines;
        problems.push(...check.problems.map((p) => `${where}: ${p}`));
        if (check.problems.length === 0) rmSync(project, { recursive: true, force: true });
      };

      const deadline = Date.now() + BUDGET_MS;
      const lane = async (): Promise<void> => {
        // Points that exit before their kill don't count; stop at POINTS kills (or give up well past it).
        while (counts.killPoints < POINTS && next < POINTS * 2 && problems.length < 20 && Date.now() < deadline) {
          const index = next++;
          await point(index).catch((error: unknown) =>
            problems.push(`point ${index} (seed ${SEED}): ${(error as Error).stack ?? String(error)}`),
          );
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));

      const total = counts.before + counts.mid + counts.after;
      console.log(
        [
          `crash: ${counts.killPoints} kill points (seed ${SEED}, ${LANES} lanes, calibrated run ${calib.exitMs}ms / ${calib.lines} lines)`,
          `  kills landed: ${counts.before} before the first event, ${counts.mid} mid-run, ${counts.after} after finish (${total}); ${counts.exitedFirst} run(s) exited before their kill`,
          `  resumes: ${counts.resumes}; re-runs of a plan killed before its first event: ${counts.restarts}; ${counts.resumeKills} of these were killed too`,
          `  lines checked: ${counts.linesChecked}; weft status --json asked ${counts.statusChecks} times; ${Math.round((Date.now() - started) / 1000)}s`,
        ].join('\n'),
      );
      expect(problems).toEqual([]);
      expect(counts.killPoints).toBeGreaterThanOrEqual(POINTS);
      expect(counts.mid).toBeGreaterThan(counts.killPoints / 3);
    },
    BUDGET_MS + 70_000,
  );
});

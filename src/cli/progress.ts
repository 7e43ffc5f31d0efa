import type LogUpdate from 'log-update';
import { formatDuration } from '../core/plan/duration.js';
import type { EngineNotice } from '../core/run/engine.js';
import { count, painter, stateMark } from './format.js';
import { stripControl } from '../core/control-stripper.js';
import { flakySummary, waitsForFixes } from '../core/run/policies/check-failed.js';

export type ProgressMode = 'live' | 'plain' | 'json';

export interface Progress {
  readonly onEvent: (event: EngineNotice) => void;
  stop(): void;
}

/**
 * Chooses the display: a live board on a terminal, plain lines in a pipe, JSON lines with --json.
 * log-update is loaded only for the live board (it costs ~70 ms of start-up); `logUpdate` replaces it.
 */
export async function createProgress(
  mode: ProgressMode,
  total: number,
  workers: number,
  done: Iterable<string> = [],
  runId = '<run>',
  logUpdate?: typeof LogUpdate,
): Promise<Progress> {
  if (mode === 'json')
    return { onEvent: (e) => stdoutLines.add(`${JSON.stringify(e)}\n`), stop: () => stdoutLines.flush() };
  const tally = new Tally(total, done, runId);
  if (mode === 'plain') return new PlainLines(tally);
  return new LiveBoard(tally, workers, logUpdate ?? (await import('log-update')).default);
}

const c = painter();

/**
 * Lines for stdout, written together once per turn of the event loop: one write per line cost
 * ~10 µs of system time each (a second for a 100,000-task run's 200,000 lines).
 */
class StdoutLines {
  private pending: string[] = [];

  add(text: string): void {
    if (this.pending.push(text) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    process.stdout.write(text);
  }
}

function line(e: EngineNotice, started: Map<string, number>, runId: string): string | undefined {
  const time = (task: string): string => formatDuration(e.at - (started.get(task) ?? e.at));
  switch (e.type) {
    case 'task.started':
      started.set(e.task, e.at);
      return `${stateMark('running')} ${e.task} ${e.queued === true ? `sent to the workers' queue as w${e.worker}` : `started on w${e.worker}`}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`;
    case 'task.succeeded':
      return `${stateMark('succeeded')} ${e.task} ${c.dim(time(e.task))}${e.result.cached === true ? c.dim(' (cached)') : ''}${e.result.flaky === undefined ? '' : ` ${c.yellow('⚠')} ${stripControl(flakySummary(e.task, e.result.flaky))}`}`;
    case 'task.retrying':
      if (e.error.code === 'WEFT_PREEMPTED') return `${stateMark('retrying')} ${e.task} waits for a worker again`;
      if (e.fix !== undefined) {
        // Sent back to the task to fix, not retried: it goes again at once, in the same session.
        const to = e.error.code === 'WEFT_MERGE_CONFLICT' ? 'resolve' : 'fix';
        return `${stateMark('retrying')} ${e.task} attempt ${e.attempt}: ${stripControl(e.error.message)} — sent back to ${e.task} to ${to} (fix ${e.fix.n} of ${e.fix.of})`;
      }
      // A check whose failure went to the tasks that broke it: it runs again on their fixes.
      if (e.waitsFor !== undefined)
        return `${stateMark('retrying')} ${e.task} attempt ${e.attempt} failed: ${stripControl(e.error.message)}; ${waitsForFixes(e.waitsFor)}`;
      return `${stateMark('retrying')} ${e.task} attempt ${e.attempt} failed: ${stripControl(e.error.message)}; retrying in ${formatDuration(e.retryAt - e.at)}`;
    case 'task.failed':
      // What a task wrote is shown without its terminal control sequences (an OSC 52 clipboard write).
      return `${stateMark('failed')} ${e.task} ${stripControl(e.error.message)}${e.error.stderrTail === undefined ? '' : `\n    ${stripControl(e.error.stderrTail).split('\n').slice(-3).join('\n    ')}`}`;
    case 'task.stalled':
      return `${stateMark('retrying')} ${e.task} attempt ${e.attempt} stalled: no progress for ${formatDuration(e.silentMs)}; stopping it`;
    case 'task.preempted':
      return `${stateMark('retrying')} ${e.task} attempt ${e.attempt} preempted by ${e.byClass} task ${e.by}; it runs again later`;
    case 'task.skipped':
      return `${stateMark('skipped')} ${e.task} skipped: ${e.reason}`;
    case 'task.cancelled':
      return `${stateMark('cancelled')} ${e.task} cancelled: ${e.reason}`;
    case 'task.blocked':
      return `${stateMark('blocked')} ${e.task} blocked: ${stripControl(e.reason)}`;
    case 'approval.waiting':
      return `${c.yellow('⏸')} ${e.task} waits for approval: weft approve ${runId} ${e.task} (or weft reject … --reason "…")`;
    case 'approval.decided':
      return `${e.decision === 'approved' ? stateMark('succeeded') : stateMark('blocked')} ${e.task} ${e.decision}${e.by === undefined ? '' : ` by ${e.by}`}${e.reason === undefined ? '' : `: ${stripControl(e.reason)}`}`;
    case 'loop.iteration.started':
      return e.iteration === 1
        ? undefined
        : `${c.cyan('⟳')} loop iteration ${e.iteration}: ${(e.tasks ?? []).join(', ')} again`;
    case 'loop.iteration.ended':
      return `${e.outcome === 'passed' ? stateMark('succeeded') : e.outcome === 'repeat' ? c.yellow('⟳') : stateMark('blocked')} loop iteration ${e.iteration} ${ITERATION_ENDS[e.outcome]} ${c.dim(formatDuration(e.durationMs))}${e.reasons.length === 0 ? '' : `: ${stripControl(e.reasons.join('; '))}`}`;
    case 'run.created':
      return `weft ▸ ${stripControl(e.plan)}: ${count(e.tasks.length, 'task')} on ${count(e.workers, 'worker')}${e.mode === 'sequential' ? ' (sequential)' : ''}`;
    case 'run.resumed':
      return `weft ▸ resuming`;
    default:
      return undefined;
  }
}

/** How the live line says an iteration ended. */
const ITERATION_ENDS = {
  passed: 'passed',
  repeat: 'did not pass, repeating',
  exhausted: 'did not pass and was the last (max)',
  budget: 'stopped: the budget ran out',
  failed: 'failed',
} as const;

/** Tasks finished of all the run has: both displays count the same way. */
class Tally {
  private readonly ended: Set<string>;
  /**
   * `done`: the tasks an earlier life of the run finished (a resume). They are known as ended, so a
   * fix one of them gets after the resume (a check sent it back) does not count it again.
   */
  constructor(
    public total: number,
    done: Iterable<string>,
    readonly runId: string,
  ) {
    this.ended = new Set(done);
  }

  /** How many tasks have ended (each once). */
  get done(): number {
    return this.ended.size;
  }

  note(e: EngineNotice): void {
    if (e.type === 'plan.expanded') this.total += e.tasks.length; // a task added tasks to the run
    // A loop's next iteration: its tasks are to do again.
    if (e.type === 'loop.iteration.started') for (const id of e.tasks ?? []) this.ended.delete(id);
    if (
      e.type === 'task.succeeded' ||
      e.type === 'task.failed' ||
      e.type === 'task.skipped' ||
      e.type === 'task.cancelled' ||
      e.type === 'task.blocked'
    ) {
      // A task a check sent back ends twice; it counts once.
      this.ended.add(e.task);
    }
  }
}

/** Past this many, tasks ended the same way in a row are one line, not one each. */
const ONE_BY_ONE = 5;

/**
 * Tasks ended in bulk, held until the next other line or the end of the turn: tasks cancelled
 * before they started (Ctrl-C or --fail-fast cancel every task still waiting), and tasks skipped
 * because a dependency was skipped or cancelled (what a failure far upstream leaves behind). A few
 * are shown one by one, more as one line per kind. A 100,000-task run stopped early printed a line
 * for each of the 99,000 tasks it never started; a failed task with 2,000 dependents, 2,000 lines.
 */
class Collapsed {
  /** Per kind: the line's text before the count, its mark, the one-by-one lines, and the tasks. */
  private readonly held = new Map<string, { what: string; mark: string; lines: string[]; ids: string[] }>();

  /** Holds `e` when it is such an end; `count` is what its own line ends with, should it be shown alone. */
  hold(e: EngineNotice, count = ''): boolean {
    if (e.type !== 'task.cancelled' && e.type !== 'task.skipped') return false;
    let kind: { key: string; what: string; mark: string; line: string } | undefined;
    if (e.type === 'task.cancelled') {
      if (e.attempt !== undefined) return false;
      const line = `${e.task} cancelled: ${e.reason}`;
      kind = { key: `c ${e.reason}`, what: `tasks not started, cancelled: ${e.reason}`, mark: 'cancelled', line };
    } else {
      const via = /^dependency ".*" (was skipped|was cancelled)$/.exec(e.reason)?.[1];
      const line = `${e.task} skipped: ${e.reason}`;
      if (via !== undefined)
        kind = { key: `s ${via}`, what: `tasks skipped: a dependency ${via}`, mark: 'skipped', line };
    }
    if (kind === undefined) return false;
    const group = this.held.get(kind.key) ?? { what: kind.what, mark: kind.mark, lines: [], ids: [] };
    this.held.set(kind.key, group);
    group.lines.push(`${kind.line}${count}`);
    group.ids.push(e.task);
    return true;
  }

  /** The lines for what is held, which is then let go; a line for many ends with `count`, the tally now. */
  release(count = ''): string[] {
    if (this.held.size === 0) return []; // every other line of a run comes here first
    const lines = [...this.held.values()].flatMap(({ what, mark, lines, ids }) => {
      const m = stateMark(mark);
      if (ids.length <= ONE_BY_ONE) return lines.map((l) => `${m} ${l}`);
      return [`${m} ${ids.length} ${what} (${ids.slice(0, 3).join(', ')}, … ${ids.at(-1) ?? ''})${count}`];
    });
    this.held.clear();
    return lines;
  }
}

/** The run's stdout lines: the progress display's, and `--explain-cache`'s between them. */
export const stdoutLines = new StdoutLines();

class PlainLines implements Progress {
  private readonly started = new Map<string, number>();
  private readonly collapsed = new Collapsed();
  private releasing = false;

  constructor(private readonly tally: Tally) {}

  readonly onEvent = (e: EngineNotice): void => {
    this.tally.note(e);
    if (this.collapsed.hold(e, this.count())) {
      if (!this.releasing) {
        this.releasing = true;
        setImmediate(this.release);
      }
      return;
    }
    const text = line(e, this.started, this.tally.runId);
    if (text === undefined) return;
    this.release();
    stdoutLines.add(`${text}${e.type.startsWith('task.') && e.type !== 'task.started' ? this.count() : ''}\n`);
  };

  private count(): string {
    return c.dim(` [${this.tally.done}/${this.tally.total}]`);
  }

  private readonly release = (): void => {
    this.releasing = false;
    for (const text of this.collapsed.release(this.count())) stdoutLines.add(`${text}\n`);
  };

  stop(): void {
    this.release();
    stdoutLines.flush();
  }
}

/** The shortest time between two draws of the live board, ms. */
const DRAW_EVERY_MS = 50;

/**
 * The board of workers under the lines of what happened. Lines and the board are drawn together,
 * at most once per turn of the event loop and once per {@link DRAW_EVERY_MS}, not per event:
 * log-update's redraw of the board costs ~0.2–0.8 ms, which made a 20,000-gate run 8.4 s on a
 * terminal against 1.6 s in a pipe, and added ~0.8 s to 1,000 one-millisecond shell tasks.
 */
class LiveBoard implements Progress {
  private readonly started = new Map<string, number>();
  private readonly onWorker: (string | undefined)[];
  private readonly last = new Map<string, string>();
  private readonly begun = Date.now();
  private readonly timer: NodeJS.Timeout;
  /** Lines to print above the board at the next draw. */
  private lines: string[] = [];
  private drawing = false;
  private drawnAt = 0;
  private stopped = false;
  private readonly collapsed = new Collapsed();

  constructor(
    private readonly tally: Tally,
    workers: number,
    private readonly logUpdate: typeof LogUpdate,
  ) {
    this.onWorker = Array.from({ length: workers }, () => undefined);
    this.timer = setInterval(() => this.render(), 200);
    this.timer.unref();
  }

  readonly onEvent = (e: EngineNotice): void => {
    if (e.type === 'task.progress') {
      if (e.progress.message !== undefined)
        this.last.set(e.task, stripControl(e.progress.message).split('\n')[0]?.slice(0, 60) ?? '');
      return;
    }
    this.tally.note(e);
    if (e.type === 'task.started') this.onWorker[e.worker] = e.task;
    if (
      e.type === 'task.succeeded' ||
      e.type === 'task.failed' ||
      e.type === 'task.retrying' ||
      e.type === 'task.cancelled' ||
      e.type === 'task.blocked'
    ) {
      const w = this.onWorker.indexOf(e.task);
      if (w >= 0) this.onWorker[w] = undefined;
    }
    const text = this.collapsed.hold(e) ? undefined : line(e, this.started, this.tally.runId);
    if (text !== undefined && e.type !== 'task.started') {
      this.releaseHeld();
      this.lines.push(`${text}\n`);
    }
    if (!this.drawing) {
      this.drawing = true;
      const wait = this.drawnAt + DRAW_EVERY_MS - Date.now();
      if (wait <= 0) setImmediate(this.draw);
      else setTimeout(this.draw, wait).unref();
    }
  };

  private readonly draw = (): void => {
    this.drawing = false;
    if (this.stopped) return; // stop() printed the lines, and the board is gone
    this.drawnAt = Date.now();
    this.printLines();
    this.render();
  };

  /** What {@link collapsed} holds, as lines after those already queued. */
  private releaseHeld(): void {
    for (const text of this.collapsed.release()) this.lines.push(`${text}\n`);
  }

  private printLines(): void {
    this.releaseHeld();
    if (this.lines.length === 0) return;
    this.logUpdate.clear();
    process.stdout.write(this.lines.join(''));
    this.lines = [];
  }

  private render(): void {
    const now = Date.now();
    const rows = this.onWorker.map((task, w) => {
      if (task === undefined) return c.dim(`  w${w}  idle`);
      const since = formatDuration(now - (this.started.get(task) ?? now));
      const note = this.last.get(task);
      return `  w${w}  ${c.cyan(task)} ${c.dim(since)}${note === undefined ? '' : c.dim(` · ${note}`)}`;
    });
    this.logUpdate(
      [
        `${c.bold(`${this.tally.done}/${this.tally.total}`)} done · elapsed ${formatDuration(now - this.begun)}`,
        ...rows,
      ].join('\n'),
    );
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.printLines();
    this.logUpdate.clear();
    this.logUpdate.done();
  }
}

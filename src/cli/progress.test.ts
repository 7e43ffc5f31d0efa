import type LogUpdate from 'log-update';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineNotice } from '../core/run/engine.js';
import { createProgress } from './progress.js';

afterEach(() => vi.restoreAllMocks());

/** A stand-in for log-update (the terminal's board): what it was asked to draw, and how often it cleared. */
function board(): { logUpdate: typeof LogUpdate; draws: string[]; clears: () => number } {
  const draws: string[] = [];
  let clears = 0;
  const logUpdate = Object.assign((text: string) => void draws.push(text), {
    clear: () => void clears++,
    done: () => undefined,
  }) as unknown as typeof LogUpdate;
  return { logUpdate, draws, clears: () => clears };
}

/** What the progress writes to stdout, chunk by chunk, instead of the terminal (until `vi.restoreAllMocks()`). */
function captureStdout(): string[] {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return written;
}

const at = 1_000;
const started = (i: number): EngineNotice => ({ type: 'task.started', at, task: `t${i}`, attempt: 1, worker: i % 4 });
const succeeded = (i: number): EngineNotice => ({ type: 'task.succeeded', at, task: `t${i}`, attempt: 1, result: {} });

describe('the live board', () => {
  it('prints every line, in order, and redraws at most once per turn of the event loop and per 50 ms, not per event', async () => {
    const written = captureStdout();
    const { logUpdate, draws, clears } = board();
    const progress = await createProgress('live', 2000, 4, [], 'r', logUpdate);
    for (let i = 0; i < 2000; i++) {
      progress.onEvent(started(i));
      progress.onEvent(succeeded(i));
    }
    expect(draws).toHaveLength(0); // nothing yet: drawn when this turn ends
    await new Promise((r) => setImmediate(r));
    expect(draws).toHaveLength(1);
    expect(draws[0]).toMatch(/2000\/2000.* done · elapsed/);
    expect(clears()).toBe(1);
    const lines = written.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2000);
    expect(lines[0]).toMatch(/t0 /);
    expect(lines[1999]).toMatch(/t1999 /);

    // Events in turns of their own: drawn at most once per 50 ms, every line printed.
    const begun = Date.now();
    for (let i = 2000; i < 2100; i++) {
      progress.onEvent(succeeded(i));
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 60));
    expect(draws.length).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - begun) / 50));
    expect(written.join('').split('\n').filter(Boolean)).toHaveLength(2100);
    draws.length = 0;

    // Lines that come after the last draw are printed when it stops, and the board is not drawn again.
    progress.onEvent(started(2100));
    progress.onEvent({ type: 'task.failed', at, task: 't2100', attempt: 1, error: { message: 'boom' } });
    progress.stop();
    await new Promise((r) => setTimeout(r, 60));
    expect(draws).toHaveLength(0);
    expect(written.join('')).toMatch(/t2100 boom\n$/);
  });
});

describe('tasks ended in bulk: cancelled before they started, skipped after a skipped dependency', () => {
  const cancelled = (i: number, reason = 'interrupted (Ctrl-C)'): EngineNotice => ({
    type: 'task.cancelled',
    at,
    task: `t${i}`,
    reason,
  });

  async function shown(mode: 'live' | 'plain', events: readonly EngineNotice[]): Promise<string[]> {
    const written = captureStdout();
    const progress = await createProgress(mode, 1000, 4, [], 'r', board().logUpdate);
    for (const e of events) progress.onEvent(e);
    await new Promise((r) => setImmediate(r));
    progress.stop();
    vi.restoreAllMocks();
    return written.join('').split('\n').filter(Boolean);
  }

  it('are one line per reason past five, each on its own line up to five, in both displays', async () => {
    const many = [
      started(0),
      { type: 'task.cancelled', at, task: 't0', attempt: 1, reason: 'interrupted (Ctrl-C)' } as EngineNotice,
      ...Array.from({ length: 998 }, (_, i) => cancelled(i + 1)),
      cancelled(999, 't5 failed (--fail-fast)'),
    ];
    for (const mode of ['live', 'plain'] as const) {
      const lines = await shown(mode, many);
      expect(lines.map((l) => l.replace(/ \[\d+\/1000\]$/, ''))).toEqual([
        ...(mode === 'plain' ? ['▸ t0 started on w0'] : []),
        '■ t0 cancelled: interrupted (Ctrl-C)',
        '■ 998 tasks not started, cancelled: interrupted (Ctrl-C) (t1, t2, t3, … t998)',
        '■ t999 cancelled: t5 failed (--fail-fast)',
      ]);
      const skipped = (i: number, reason: string): EngineNotice => ({
        type: 'task.skipped',
        at,
        task: `t${i}`,
        reason,
        cause: 'upstream',
      });
      const cascade = await shown(mode, [
        { type: 'task.failed', at, task: 't0', attempt: 1, error: { message: 'exited with code 1' } },
        skipped(1, 'dependency "t0" failed'),
        ...Array.from({ length: 700 }, (_, i) =>
          skipped(i + 2, `dependency "t${Math.floor((i + 1) / 2)}" was skipped`),
        ),
      ]);
      expect(cascade.map((l) => l.replace(/ \[\d+\/1000\]$/, ''))).toEqual([
        '✗ t0 exited with code 1',
        '↷ t1 skipped: dependency "t0" failed',
        '↷ 700 tasks skipped: a dependency was skipped (t2, t3, t4, … t701)',
      ]);
      const few = await shown(mode, [cancelled(1), cancelled(2), succeeded(3), cancelled(4)]);
      expect(few.map((l) => l.replace(/ \[\d+\/1000\]$/, ''))).toEqual([
        '■ t1 cancelled: interrupted (Ctrl-C)',
        '■ t2 cancelled: interrupted (Ctrl-C)',
        expect.stringMatching(/^✓ t3 /) as string,
        '■ t4 cancelled: interrupted (Ctrl-C)',
      ]);
    }
  });

  it('count each task where it ended in the plain lines: a held line keeps its own [n/N]', async () => {
    const lines = await shown('plain', [cancelled(1), cancelled(2), succeeded(3), cancelled(4)]);
    // eslint-disable-next-line no-control-regex -- the count is dimmed when colours are on
    expect(lines.map((l) => l.replace(/\x1b\[[\d;]*m/g, '').replace(/^.* (\[\d+\/1000\])$/, '$1'))).toEqual([
      '[1/1000]',
      '[2/1000]',
      '[3/1000]',
      '[4/1000]',
    ]);
  });
});

describe('the line of a task sent to remote workers (--dispatch)', () => {
  it("says it was sent to the workers' queue, not that it started", async () => {
    const written = captureStdout();
    const progress = await createProgress('plain', 2, 2, [], 'r', board().logUpdate);
    progress.onEvent({ type: 'task.started', at, task: 't0', attempt: 1, worker: 0, queued: true });
    progress.onEvent(started(1));
    await new Promise((r) => setImmediate(r));
    progress.stop();
    vi.restoreAllMocks();
    expect(written.join('').split('\n').filter(Boolean)).toEqual([
      "▸ t0 sent to the workers' queue as w0",
      '▸ t1 started on w1',
    ]);
  });
});

describe('the count after a resume', () => {
  it('does not count again a task finished before the resume that a check sends back for a fix', async () => {
    const written = captureStdout();
    // backend finished before the coordinator died; build (its check) and docs did not.
    const progress = await createProgress('plain', 3, 2, ['backend'], 'r', board().logUpdate);
    const ok = (task: string, attempt: number): EngineNotice => ({
      type: 'task.succeeded',
      at,
      task,
      attempt,
      result: { exitCode: 0, signal: null },
    });
    for (const e of [ok('backend', 2), ok('build', 3), ok('docs', 1)]) progress.onEvent(e);
    await new Promise((r) => setImmediate(r));
    progress.stop();
    vi.restoreAllMocks();
    // eslint-disable-next-line no-control-regex -- the count is dimmed when colours are on
    const plain = (l: string): string => l.replace(/\x1b\[[\d;]*m/g, '');
    const counts = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => plain(l).replace(/^.* (\[\d+\/3\])$/, '$1'));
    expect(counts).toEqual(['[1/3]', '[2/3]', '[3/3]']);
  });
});

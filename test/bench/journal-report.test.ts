import { describe, expect, it } from 'vitest';
import { parseJournalReport, pct } from '../../bench/journal-overhead-bench.js';

describe('the journal bench report', () => {
  it('reads the run figures to the tenth of a millisecond the script prints and judges them on', () => {
    const text = [
      'B. one run of 10,000 no-op tasks through runPlan, every batch journaled before it takes effect (target: ≤ +20% vs MemoryStore)',
      '   none                29.4 ms wall   33.1 ms CPU  340,136 tasks/s',
      '   MemoryStore         55.4 ms wall   64.0 ms CPU  180,505 tasks/s',
      '   SqliteStore         66.6 ms wall   72.3 ms CPU  150,150 tasks/s   +20.2% wall, +13.0% CPU vs MemoryStore',
      '   SqliteStore (FULL) 1,204.5 ms wall   80.0 ms CPU    8,302 tasks/s',
    ].join('\n');
    const { runs } = parseJournalReport(text);
    expect(runs.map((r) => [r.journal, r.wallMs, r.cpuMs, r.tasksPerSecond])).toEqual([
      ['none', 29.4, 33.1, 340136],
      ['MemoryStore', 55.4, 64, 180505],
      ['SqliteStore', 66.6, 72.3, 150150],
      ['SqliteStore (FULL)', 1204.5, 80, 8302],
    ]);
    // The verdict, on the figures read back, says what the script's own line says.
    const [memory, sqlite] = [runs[1], runs[2]] as const;
    const verdict = pct((sqlite?.wallMs ?? 0) / (memory?.wallMs ?? 1));
    expect(verdict).toBe('+20.2%');
    expect(text).toContain(`${verdict} wall`);
  });

  it('reads the append figures of each mode', () => {
    const text = [
      'A. 10,000 lifecycles (started + succeeded), one append per event (tasks finishing one at a time)',
      '   MemoryStore           31 ms    645,233 events/s      1.5 µs/append  ×1.00 MemoryStore  (20,001 appends)',
      '   SqliteStore          244 ms     82,013 events/s     12.2 µs/append  ×7.87 MemoryStore  (20,001 appends)',
    ].join('\n');
    const { appends, runs } = parseJournalReport(text);
    expect(runs).toEqual([]);
    expect(appends).toEqual([
      {
        mode: '10,000 lifecycles (started + succeeded), one append per event (tasks finishing one at a time)',
        store: 'MemoryStore',
        ms: 31,
        eventsPerSecond: 645233,
        usPerAppend: 1.5,
      },
      {
        mode: '10,000 lifecycles (started + succeeded), one append per event (tasks finishing one at a time)',
        store: 'SqliteStore',
        ms: 244,
        eventsPerSecond: 82013,
        usPerAppend: 12.2,
      },
    ]);
  });
});

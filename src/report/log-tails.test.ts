import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../core/run/events.js';
import { foldRun } from '../core/run/run-state.js';
import { sampleEvents, T0 } from './fixtures/sample-run.js';
import { readLogTails, readTail, tailLines } from './log-tails.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-report-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeLog(task: string, name: string, text: string, root = dir): void {
  mkdirSync(join(root, 'tasks', task), { recursive: true });
  writeFileSync(join(root, 'tasks', task, name), text);
}

describe('readLogTails', () => {
  it('reads the tails of each task’s latest attempt logs', () => {
    writeLog('setup', '1.stdout.log', Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    writeLog('test-unit', '1.stderr.log', 'first attempt failed\n');
    writeLog('test-unit', '2.stdout.log', 'second attempt passed\n');
    writeLog('test-e2e', '1.stdout.log', '');
    writeLog('test-e2e', '1.stderr.log', 'boom\n');
    const tails = readLogTails(dir, foldRun(sampleEvents()));
    expect(tails.setup?.stdout.split('\n')).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 61}`));
    expect(tails['test-unit']).toEqual({ attempt: 2, stdout: 'second attempt passed', stderr: '' });
    expect(tails['test-e2e']).toEqual({ attempt: 1, stdout: '', stderr: 'boom' });
    expect(Object.keys(tails).sort()).toEqual(['setup', 'test-e2e', 'test-unit']);
  });

  it('keeps as many lines as asked', () => {
    writeLog('setup', '1.stdout.log', 'a\nb\nc\n');
    expect(readLogTails(dir, foldRun(sampleEvents()), { lines: 2 }).setup?.stdout).toBe('b\nc');
  });

  it('never reads outside the run folder for a task id that is not a valid id', () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: [] },
      { type: 'plan.expanded', at: T0, by: 'x', tasks: [{ id: '../../outside' }] },
      { type: 'task.started', at: T0, task: '../../outside', attempt: 1, worker: 0 },
    ];
    // Where tasks/../../outside/1.stdout.log would lead.
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', '1.stdout.log'), 'secret');
    expect(readLogTails(run, foldRun(events))).toEqual({});
  });
});

describe('readTail', () => {
  it('reads only the end of a large log', () => {
    writeLog(
      'big',
      '1.stdout.log',
      `${'x'.repeat(200_000)}\n${Array.from({ length: 50 }, (_, i) => `row ${i}`).join('\n')}\n`,
    );
    expect(readTail(join(dir, 'tasks', 'big', '1.stdout.log'), 3)).toBe('row 47\nrow 48\nrow 49');
    expect(readTail(join(dir, 'missing.log'), 3)).toBe('');
  });

  it('caps a tail made of very long lines', () => {
    const tail = tailLines(`${'y'.repeat(50_000)}\nend`, 2);
    expect(tail.length).toBe(16 * 1024 + 1);
    expect(tail.endsWith('y\nend')).toBe(true);
  });
});

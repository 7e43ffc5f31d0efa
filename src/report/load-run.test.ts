import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WeftError } from '../core/errors.js';
import type { RunEvent } from '../core/events.js';
import { sampleEvents, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { loadReportInput, parseEventsJsonl, readTail, tailLines } from './load-run.js';
import { buildReportInput } from './report-input.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-report-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeRun(events = sampleEvents(), extra = ''): void {
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(samplePlanJson()));
  writeFileSync(join(dir, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join('') + extra);
}
function writeLog(task: string, name: string, text: string): void {
  mkdirSync(join(dir, 'tasks', task), { recursive: true });
  writeFileSync(join(dir, 'tasks', task, name), text);
}

describe('loadReportInput', () => {
  it('reads plan.json, events.jsonl and the tails of each task’s latest attempt logs', () => {
    writeRun();
    writeLog('setup', '1.stdout.log', Array.from({ length: 100 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    writeLog('test-unit', '1.stderr.log', 'first attempt failed\n');
    writeLog('test-unit', '2.stdout.log', 'second attempt passed\n');
    writeLog('test-e2e', '1.stdout.log', '');
    writeLog('test-e2e', '1.stderr.log', 'boom\n');
    const input = loadReportInput(dir, { generatedAt: T0 });
    expect(input.logTails.setup?.stdout.split('\n')).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 61}`));
    expect(input.logTails['test-unit']).toEqual({ attempt: 2, stdout: 'second attempt passed', stderr: '' });
    expect(input.logTails['test-e2e']).toEqual({ attempt: 1, stdout: '', stderr: 'boom' });
    expect(Object.keys(input.logTails).sort()).toEqual(['setup', 'test-e2e', 'test-unit']);
    const fromEvents = buildReportInput(sampleEvents(), samplePlanJson(), input.logTails, { generatedAt: T0 });
    expect(input.summary).toEqual(fromEvents.summary);
    expect(input.tasks).toEqual(fromEvents.tasks);
  });

  it('ignores a journal line torn by a crash, and keeps tail lines as asked', () => {
    writeRun(sampleEvents().slice(0, 5), '{"type":"task.succ');
    writeLog('setup', '1.stdout.log', 'a\nb\nc\n');
    const input = loadReportInput(dir, { tailLines: 2 });
    expect(input.state.status).toBe('running');
    expect(input.state.tasks.get('build')?.state).toBe('running');
    expect(input.logTails.setup?.stdout).toBe('b\nc');
  });

  it('reports from the journal alone when plan.json is missing', () => {
    writeRun();
    rmSync(join(dir, 'plan.json'));
    const input = loadReportInput(dir);
    expect(input.tasks.map((t) => t.executor)).toEqual(Array(8).fill('unknown'));
    expect(input.summary.counts.total).toBe(8);
  });

  it('never reads outside the run folder for a task id that is not a valid id', () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    const events: RunEvent[] = [
      { type: 'run.created', at: T0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: [] },
      { type: 'plan.expanded', at: T0, by: 'x', tasks: [{ id: '../../outside' }] },
      { type: 'task.started', at: T0, task: '../../outside', attempt: 1, worker: 0 },
    ];
    writeFileSync(join(run, 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    // Where tasks/../../outside/1.stdout.log would lead.
    mkdirSync(join(dir, 'outside'));
    writeFileSync(join(dir, 'outside', '1.stdout.log'), 'secret');
    expect(loadReportInput(run).logTails).toEqual({});
  });

  it('says which folder has no run', () => {
    expect(() => loadReportInput(join(dir, 'nope'))).toThrow(WeftError);
    expect(() => loadReportInput(join(dir, 'nope'))).toThrow(/no run journal at .*nope.events\.jsonl/);
  });
});

describe('parseEventsJsonl', () => {
  it('names the line of a damaged journal', () => {
    expect(() => parseEventsJsonl('{"type":"run.resumed","at":1,"by":"x"}\nnot json\n{"type":"run.resumed","at":2,"by":"x"}\n', 'j.jsonl')).toThrow('j.jsonl:2: not a JSON event');
  });
});

describe('readTail', () => {
  it('reads only the end of a large log', () => {
    writeLog('big', '1.stdout.log', `${'x'.repeat(200_000)}\n${Array.from({ length: 50 }, (_, i) => `row ${i}`).join('\n')}\n`);
    expect(readTail(join(dir, 'tasks', 'big', '1.stdout.log'), 3)).toBe('row 47\nrow 48\nrow 49');
    expect(readTail(join(dir, 'missing.log'), 3)).toBe('');
  });

  it('caps a tail made of very long lines', () => {
    const tail = tailLines(`${'y'.repeat(50_000)}\nend`, 2);
    expect(tail.length).toBe(16 * 1024 + 1);
    expect(tail.endsWith('y\nend')).toBe(true);
  });
});

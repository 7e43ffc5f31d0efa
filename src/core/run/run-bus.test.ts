import { describe, expect, it } from 'vitest';
import { RUN_EVENT_TYPES, RunBus, replayEvents } from './run-bus.js';
import type { RunEvent } from './events.js';
import type { EngineNotice } from './engine-options.js';

const created: RunEvent = {
  type: 'run.created',
  at: 1,
  runId: 'r',
  plan: 'p',
  workers: 1,
  mode: 'parallel',
  tasks: ['a'],
};
const started: RunEvent = { type: 'task.started', at: 2, task: 'a', attempt: 1, worker: 0 };
const succeeded: RunEvent = { type: 'task.succeeded', at: 3, task: 'a', attempt: 1, result: { exitCode: 0 } };

describe('RunBus', () => {
  it('hands each event to the listeners of its type, then to those of every type, in order', () => {
    const bus = new RunBus();
    const seen: string[] = [];
    bus.on('task.succeeded', (e) => seen.push(`typed ${e.task} ${e.result.exitCode}`));
    bus.on('*', (e) => seen.push(`all ${e.type}`));
    for (const e of [created, started, succeeded]) bus.publish(e);
    expect(seen).toEqual(['all run.created', 'all task.started', 'typed a 0', 'all task.succeeded']);
  });

  it('unsubscribes, and a listener that throws stops neither the others nor the publisher', () => {
    const bus = new RunBus();
    const seen: string[] = [];
    bus.on('task.started', () => {
      throw new Error('a display bug');
    });
    const off = bus.on('task.started', (e) => seen.push(e.task));
    bus.publish(started);
    off();
    bus.publish(started);
    expect(seen).toEqual(['a']);
    expect(bus.size).toBe(1);
  });

  it('onAll subscribes a map of handlers and takes them all off at once', () => {
    const bus = new RunBus();
    const seen: EngineNotice[] = [];
    const off = bus.onAll({ 'run.created': (e) => seen.push(e), 'task.started': (e) => seen.push(e) });
    bus.publish(created);
    off();
    bus.publish(started);
    expect(seen).toEqual([created]);
    expect(bus.size).toBe(0);
  });

  it('refuses a type no run publishes, naming the nearest, and subscribes none of a map that holds one', () => {
    const bus = new RunBus();
    expect(() => bus.on('task.suceeded' as never, () => undefined)).toThrow(
      expect.objectContaining({ code: 'WEFT_USAGE', hint: expect.stringContaining('did you mean "task.succeeded"?') }),
    );
    expect(() => bus.onAll({ 'task.started': () => undefined, 'task.strated': () => undefined } as never)).toThrow(
      expect.objectContaining({ code: 'WEFT_USAGE', message: 'no run event is called "task.strated"' }),
    );
    expect(bus.size).toBe(0);
    expect(() => replayEvents([created], { 'run.create': () => undefined } as never)).toThrow(
      expect.objectContaining({ code: 'WEFT_USAGE' }),
    );
    // Every type and '*' is taken.
    for (const type of [...RUN_EVENT_TYPES, '*'] as const) bus.on(type, () => undefined);
    expect(bus.size).toBe(RUN_EVENT_TYPES.length + 1);
  });

  it('replays a journal through the same types, to a bus or to handlers', () => {
    const bus = new RunBus();
    const types: string[] = [];
    bus.on('*', (e) => types.push(e.type));
    replayEvents([created, started, succeeded], bus);
    expect(types).toEqual(['run.created', 'task.started', 'task.succeeded']);
    const done: string[] = [];
    replayEvents([created, started, succeeded], { 'task.succeeded': (e) => done.push(e.task) });
    expect(done).toEqual(['a']);
  });
});

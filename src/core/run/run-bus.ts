import type { RunEvent } from './events.js';
import type { EngineNotice } from './engine-options.js';

/** Every type a run publishes (`run.created`, `task.succeeded`, `task.progress`, …). */
export type RunEventType = EngineNotice['type'];

/** The notice of one type: `RunEventOf<'task.failed'>` has `error`. */
export type RunEventOf<T extends RunEventType> = Extract<EngineNotice, { readonly type: T }>;

/** A listener of one type, or of every type (`'*'`). */
export type RunListener<T extends RunEventType | '*'> = (
  event: T extends RunEventType ? RunEventOf<T> : EngineNotice,
) => void;

/** Listeners by type, as `runWeft`'s `on` option takes them. */
export type RunHandlers = { readonly [T in RunEventType | '*']?: RunListener<T> };

/**
 * One typed, in-process bus per run: the engine publishes every journaled event (once it is
 * stored) and every progress notice; the CLI's live lines, `--json`, the server and the library
 * subscribe. A listener that throws does not stop the others, nor the run.
 *
 * @example
 * const bus = new RunBus();
 * const off = bus.on('task.succeeded', (e) => console.log(e.task, e.result.usage));
 * await runWeft(plan, { bus });
 * off();
 */
export class RunBus {
  private readonly listeners = new Map<string, Set<(event: EngineNotice) => void>>();

  /** Subscribes to one type, or to every type with `'*'`. @returns a function that unsubscribes. */
  on<T extends RunEventType | '*'>(type: T, listener: RunListener<T>): () => void {
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    const fn = listener as (event: EngineNotice) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Subscribes every handler of `handlers`. @returns a function that unsubscribes them all. */
  onAll(handlers: RunHandlers): () => void {
    const offs = Object.entries(handlers)
      .filter(([, fn]) => typeof fn === 'function')
      .map(([type, fn]) => this.on(type as RunEventType, fn as RunListener<RunEventType>));
    return () => offs.forEach((off) => off());
  }

  /** Hands `event` to the listeners of its type, then to those of `'*'`. */
  publish(event: EngineNotice): void {
    for (const key of [event.type, '*']) {
      const set = this.listeners.get(key);
      if (set === undefined) continue;
      for (const fn of [...set]) {
        try {
          fn(event);
        } catch {
          // A display's bug must not stop the run nor the other listeners.
        }
      }
    }
  }

  /** How many listeners are subscribed (all types). */
  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

/**
 * A finished (or running) run's journal, replayed through the same bus and the same types the
 * live run published: what was journaled, in order (progress notices are not journaled).
 *
 * @example replayEvents((await store.read(runId)).map((e) => e.event), { 'task.failed': show });
 */
export function replayEvents(events: Iterable<RunEvent>, to: RunBus | RunHandlers): void {
  const bus = to instanceof RunBus ? to : new RunBus();
  const off = to instanceof RunBus ? undefined : bus.onAll(to);
  for (const e of events) bus.publish(e);
  off?.();
}

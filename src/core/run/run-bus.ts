import { WeftError } from '../errors.js';
import { closest } from '../suggest.js';
import type { RunEvent } from './events.js';
import type { EngineNotice } from './engine-options.js';

/** Every type a run publishes (`run.created`, `task.succeeded`, `task.progress`, …). */
export type RunEventType = EngineNotice['type'];

/** {@link RunEventType} at run time, so a misspelt type is refused instead of never heard. */
export const RUN_EVENT_TYPES = [
  'run.created',
  'run.resumed',
  'run.finished',
  'plan.expanded',
  'task.ready',
  'task.started',
  'task.progress',
  'task.output',
  'task.stalled',
  'task.succeeded',
  'task.failed',
  'task.retrying',
  'task.skipped',
  'task.blocked',
  'task.cancelled',
  'task.preempted',
  'approval.waiting',
  'approval.decided',
  'loop.iteration.started',
  'loop.iteration.ended',
] as const satisfies readonly RunEventType[];

// Fails to compile when an event type is added to the union but not to the list.
const everyType: Exclude<RunEventType, (typeof RUN_EVENT_TYPES)[number]> extends never ? true : never = true;
void everyType;

const KNOWN: ReadonlySet<string> = new Set<string>([...RUN_EVENT_TYPES, '*']);

/** The notice of one type: `RunEventOf<'task.failed'>` has `error`. */
export type RunEventOf<T extends RunEventType> = Extract<EngineNotice, { readonly type: T }>;

/** A listener of one type, or of every type (`'*'`). */
export type RunListener<T extends RunEventType | '*'> = (
  event: T extends RunEventType ? RunEventOf<T> : EngineNotice,
) => void;

/** Listeners by type, as `runWeft`'s `on` option takes them. */
export type RunHandlers = { readonly [T in RunEventType | '*']?: RunListener<T> };

/** Refuses a type no run publishes (naming the nearest one) or a listener that is not a function. */
function checkListener(type: string, listener: unknown): void {
  if (!KNOWN.has(type)) {
    const near = closest(type, KNOWN);
    throw new WeftError('WEFT_USAGE', `no run event is called "${type}"`, {
      hint: `${near === undefined ? '' : `did you mean "${near}"? `}the types: ${RUN_EVENT_TYPES.join(', ')}, or '*' for every one`,
    });
  }
  if (typeof listener !== 'function')
    throw new WeftError('WEFT_USAGE', `the listener of "${type}" is not a function (got \`${typeof listener}\`)`);
}

/** {@link checkListener} of every handler, before any is subscribed. */
export function checkHandlers(handlers: RunHandlers): void {
  for (const [type, fn] of Object.entries(handlers)) if (fn !== undefined) checkListener(type, fn);
}

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

  /**
   * Subscribes to one type, or to every type with `'*'`. @returns a function that unsubscribes.
   * @throws WeftError `WEFT_USAGE` for a type no run publishes, or a listener that is not a function.
   */
  on<T extends RunEventType | '*'>(type: T, listener: RunListener<T>): () => void {
    checkListener(type, listener);
    const set = this.listeners.get(type) ?? new Set();
    this.listeners.set(type, set);
    const fn = listener as (event: EngineNotice) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Subscribes every handler of `handlers`. @returns a function that unsubscribes them all. */
  onAll(handlers: RunHandlers): () => void {
    checkHandlers(handlers);
    const offs = Object.entries(handlers)
      .filter(([, fn]) => fn !== undefined)
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

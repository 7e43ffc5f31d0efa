/**
 * The watchdog's rule: a running attempt that has shown no progress — no output byte, no agent
 * event — for its task's `stallAfter` has stalled. The engine asks at the time this says and
 * applies the answer (journal `task.stalled`, stop the attempt, retry it as a failure).
 */

/** What the watchdog finds when it looks at an attempt. */
export type StallCheck =
  /** Still alive: look again in `inMs`. */
  | { readonly kind: 'wait'; readonly inMs: number }
  /** Silent for `silentMs` (≥ `stallAfterMs`): stop it. */
  | { readonly kind: 'stalled'; readonly silentMs: number };

/**
 * Whether an attempt whose last progress was at `lastProgressAt` has stalled at `now`.
 *
 * @example
 * stallCheck(1000, 61_000, 60_000); // → { kind: 'stalled', silentMs: 60_000 }
 * stallCheck(30_000, 61_000, 60_000); // → { kind: 'wait', inMs: 29_000 }
 */
export function stallCheck(lastProgressAt: number, now: number, stallAfterMs: number): StallCheck {
  const silentMs = now - lastProgressAt;
  if (silentMs >= stallAfterMs) return { kind: 'stalled', silentMs };
  return { kind: 'wait', inMs: stallAfterMs - silentMs };
}

/** The failure message of a stalled attempt. */
export function stalledMessage(ms: number): string {
  return `stalled: no progress (no output, no agent event) for ${formatSeconds(ms)}`;
}

/** What the next attempt of a stalled task is told (an agent resumes its session with it). */
export function stalledNote(ms: number): string {
  return `Your previous attempt at this task stalled: it showed no progress for ${formatSeconds(ms)} and was stopped. Check the files as they are now, avoid the step that hung (a command waiting for input, a server that never exits, a very long wait), then carry on and finish the task.`;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

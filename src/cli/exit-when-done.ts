/**
 * Set when something this process started cannot be stopped and would keep it alive after its
 * command is done: an OpenTelemetry exporter still retrying spans to a collector that is down
 * holds timers for up to its export timeout (~10 s). `main` then ends the process itself.
 */
let asked = false;

/** Asks `main` to end the process once the command has returned (its exit code stands). */
export function exitWhenDone(): void {
  asked = true;
}

/** Whether {@link exitWhenDone} was asked. */
export function mustExit(): boolean {
  return asked;
}

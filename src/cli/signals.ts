import { killLiveGroups } from '../executors/process/process-group.js';
import { EXIT } from './exit-codes.js';

/**
 * The signal `weft serve` and `weft mcp` stop a run with: its own, so the run records who stopped it
 * (SIGINT would say Ctrl-C).
 */
export const CANCEL_SIGNAL = 'SIGUSR2';

/** The signals that stop a run: Ctrl-C, `kill`, the terminal closing (SIGHUP), a cancel, with what the run records for each. */
const STOP_SIGNALS = {
  SIGINT: 'interrupted (Ctrl-C)',
  SIGTERM: 'stopped (SIGTERM)',
  SIGHUP: 'the terminal closed (SIGHUP)',
  [CANCEL_SIGNAL]: 'cancelled through weft serve or weft mcp',
} as const;

/**
 * Ctrl-C, SIGTERM or SIGHUP once: stop cleanly and record it. Twice: SIGKILL every task's process
 * group (a task that traps SIGTERM would outlive weft otherwise) and quit at once.
 */
export function onInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (name: NodeJS.Signals): void => {
    // A closed terminal takes stdout and stderr with it: writing there must not crash the clean stop.
    if (name === 'SIGHUP') ignoreOutputErrors();
    count++;
    if (count === 1) {
      const again = name === 'SIGINT' ? 'Ctrl-C again' : `${name} again`;
      say(`\nweft: stopping — cancelling running tasks (${again} to quit at once; \`weft resume\` continues)\n`);
      controller.abort(STOP_SIGNALS[name as keyof typeof STOP_SIGNALS] ?? `stopped (${name})`);
    } else {
      const killed = killLiveGroups();
      say(`\nweft: quitting — killed ${killed} task process group(s); \`weft resume\` continues\n`);
      process.exit(EXIT.interrupted);
    }
  };
  for (const name of Object.keys(STOP_SIGNALS)) process.on(name, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of Object.keys(STOP_SIGNALS)) process.off(name, handler);
    },
  };
}

function say(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // the terminal is gone
  }
}

let ignoring = false;
function ignoreOutputErrors(): void {
  if (ignoring) return;
  ignoring = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}

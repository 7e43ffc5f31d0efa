import { existsSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { EngineNotice } from '../core/run/engine-options.js';
import { readRange } from '../report/index.js';

/**
 * Follows the `--json` output of a run this server started (one event or progress notice a line)
 * from its size now on, calling `onNotice` with each new line, every `everyMs`: how a server learns
 * at once what a detached `weft run` publishes, progress notices included (those are not journaled).
 * `poll` reads what is new at once: called before the run's journal is read, it passes on every
 * notice the run printed before the events that read returns (the run prints as it goes).
 */
export function tailOutput(
  file: string,
  onNotice: (notice: EngineNotice) => void,
  everyMs = 100,
): { readonly poll: () => void; readonly stop: () => void } {
  let offset = existsSync(file) ? statSync(file).size : 0;
  let partial = '';
  const decoder = new StringDecoder('utf8'); // a read may end inside a character
  const poll = (): void => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size < offset) offset = 0; // replaced
    if (size === offset) return;
    const bytes = readRange(file, offset, size);
    offset += bytes.length;
    const lines = (partial + decoder.write(bytes)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      let notice: EngineNotice;
      try {
        notice = JSON.parse(line) as EngineNotice;
      } catch {
        continue; // not a line of ours
      }
      if (typeof notice === 'object' && notice !== null && typeof notice.type === 'string') onNotice(notice);
    }
  };
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}

/**
 * Removes terminal control sequences from text a task wrote before weft shows it on the user's
 * terminal: a task's output must not write to the clipboard (OSC 52), retitle the window, move the
 * cursor over earlier lines or hide text. Removed: escape sequences (CSI, OSC, DCS/SOS/PM/APC
 * strings, two-byte escapes), their 8-bit C1 forms, and C0/C1 control characters. Kept: tab, line
 * feed and CR LF; a lone CR becomes a line feed (it would let a line overwrite itself).
 *
 * It is fed in pieces (a log read in chunks): a sequence cut by a chunk boundary is still removed.
 * weft's own colours are added after this, so they stay.
 * @example
 * const strip = new ControlStripper();
 * out.write(strip.push(chunk1)); out.write(strip.push(chunk2)); out.write(strip.end());
 */
export class ControlStripper {
  private state: State = 'text';

  /** The text of `chunk` that may be shown; what may continue a sequence is remembered. */
  push(chunk: string): string {
    let out = '';
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      switch (this.state) {
        case 'text':
          if (!isControl(code)) continue;
          out += chunk.slice(from, i);
          from = i + 1;
          this.state = stateAfter(code);
          if (code === 0x09 || code === 0x0a) out += chunk[i];
          break;
        case 'cr':
          out += '\n';
          this.state = 'text';
          if (code === 0x0a)
            from = i + 1; // CR LF: one line feed
          else i--; // a lone CR: look at this character again as text
          break;
        case 'esc':
          // ESC [ is CSI; ESC ] P X ^ _ open a string; ESC + intermediates (0x20–0x2f) wait for a final byte.
          if (code === 0x5b) this.state = 'csi';
          else if (code === 0x5d || code === 0x50 || code === 0x58 || code === 0x5e || code === 0x5f)
            this.state = 'string';
          else if (!((code >= 0x20 && code <= 0x2f) || code === 0x1b)) this.state = 'text';
          from = i + 1;
          break;
        case 'csi':
          if (code >= 0x40 && code <= 0x7e) this.state = 'text';
          from = i + 1;
          break;
        case 'string':
          // Ends at BEL or ST (ESC \ or 0x9c).
          if (code === 0x07 || code === 0x9c) this.state = 'text';
          else if (code === 0x1b) this.state = 'string-esc';
          from = i + 1;
          break;
        case 'string-esc':
          this.state = code === 0x5c ? 'text' : code === 0x1b ? 'string-esc' : 'string';
          from = i + 1;
          break;
      }
    }
    return this.state === 'text' ? out + chunk.slice(from) : out;
  }

  /** What is left at the end of the text: a pending CR as a line feed; an unfinished sequence is dropped. */
  end(): string {
    const rest = this.state === 'cr' ? '\n' : '';
    this.state = 'text';
    return rest;
  }
}

/** `text` without terminal control sequences (see {@link ControlStripper}). */
export function stripControl(text: string): string {
  const stripper = new ControlStripper();
  return stripper.push(text) + stripper.end();
}

type State = 'text' | 'esc' | 'csi' | 'string' | 'string-esc' | 'cr';

const isControl = (code: number): boolean => code < 0x20 || (code >= 0x7f && code <= 0x9f);

/** After a control character in text: where the stripper goes (CR waits to see whether LF follows). */
function stateAfter(code: number): State {
  if (code === 0x1b) return 'esc';
  if (code === 0x9b) return 'csi';
  if (code === 0x9d || code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) return 'string';
  if (code === 0x0d) return 'cr';
  return 'text';
}

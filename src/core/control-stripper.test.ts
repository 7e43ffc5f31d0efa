import { describe, expect, it } from 'vitest';
import { ControlStripper, stripControl } from './control-stripper.js';

const ESC = '\x1b';
const OSC52 = `${ESC}]52;c;${Buffer.from('rm -rf ~').toString('base64')}\x07`;

describe('stripControl', () => {
  it.each([
    ['an OSC 52 clipboard write (BEL-ended)', `a${OSC52}b`, 'ab'],
    ['an OSC title ended by ST', `a${ESC}]0;pwned${ESC}\\b`, 'ab'],
    ['colours and cursor moves (CSI)', `${ESC}[31mred${ESC}[0m ${ESC}[2A${ESC}[2Kup`, 'red up'],
    ['8-bit CSI and OSC', `a\u009b2Jb\u009d52;c;eA==\u009cc`, 'abc'],
    ['a DCS string', `a${ESC}Pq#0;2;0;0;0${ESC}\\b`, 'ab'],
    ['two-byte escapes (reset, charset)', `a${ESC}cb${ESC}(Bc`, 'abc'],
    ['bell, backspace, NUL', 'a\x07b\x08c\x00d', 'abcd'],
    ['a lone CR (a line that overwrites itself)', 'visible\rhidden', 'visible\nhidden'],
  ])('removes %s', (_what, input, shown) => {
    expect(stripControl(input)).toBe(shown);
  });

  it('keeps tabs, line feeds, CR LF and Unicode', () => {
    expect(stripControl('a\tb\r\nc\nünï 🧵')).toBe('a\tb\nc\nünï 🧵');
  });

  it('removes a sequence cut anywhere by chunk boundaries', () => {
    const text = `before${OSC52}mid${ESC}[1;31mafter\r\nend\r`;
    for (let cut = 0; cut <= text.length; cut++) {
      const s = new ControlStripper();
      expect(s.push(text.slice(0, cut)) + s.push(text.slice(cut)) + s.end()).toBe('beforemidafter\nend\n');
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeText, readPlanText } from './load-plan.js';

describe('decodeText', () => {
  it.each([
    ['ASCII', 'tasks:\n  - id: a\n    run: echo "hi"\n'],
    ['accents and CJK', 'name: café\ntasks:\n  - id: 建て\n    run: echo ü\n'],
    ['emoji (4-byte UTF-8)', 'name: 🚀\n'],
    ['the empty file', ''],
  ])('reads %s as UTF-8 does', (_name, text) => {
    const bytes = Buffer.from(text, 'utf8');
    expect(decodeText(bytes)).toBe(bytes.toString('utf8'));
  });

  // Kept, it was a character of line 1 and shifted its columns by one.
  it('drops a byte-order mark, before ASCII text and before UTF-8', () => {
    expect(decodeText(Buffer.from('\uFEFFname: x\n', 'utf8'))).toBe('name: x\n');
    expect(decodeText(Buffer.from('\uFEFFname: café\n', 'utf8'))).toBe('name: café\n');
  });

  it('reads bytes that are not UTF-8 as UTF-8 does (replacement characters, not Latin-1)', () => {
    const bytes = Buffer.from([0x6e, 0x3a, 0x20, 0xe9, 0xff, 0x0a]);
    expect(decodeText(bytes)).toBe(bytes.toString('utf8'));
    expect(decodeText(bytes)).toContain('\uFFFD');
  });
});

describe('readPlanText', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-plan-text-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an ASCII file and a non-ASCII one as readFileSync(…, "utf8") does', () => {
    for (const [name, text] of [
      ['ascii.yaml', 'name: plain\n'],
      ['utf8.yaml', 'name: café ✓\n'],
    ] as const) {
      writeFileSync(join(dir, name), text);
      expect(readPlanText(join(dir, name))).toBe(text);
    }
  });
});

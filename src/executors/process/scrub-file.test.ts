import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactorOf } from '../../core/redact.js';
import { logOffsets, scrubFile } from './scrub-file.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-scrub-'));
let n = 0;
const file = (content: string | Buffer): string => {
  const path = join(dir, `${++n}.log`);
  writeFileSync(path, content);
  return path;
};

describe('scrubFile', () => {
  it('masks every secret in place and says so; a clean file is left untouched', () => {
    const path = file('key=sk-ant-123456 and again sk-ant-123456\nTOKEN ghp_abcdef\n');
    expect(scrubFile(path, ['sk-ant-123456', 'ghp_abcdef'])).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('key=*** and again ***\nTOKEN ***\n');
    const clean = file('nothing here\n');
    const before = statSync(clean).mtimeMs;
    expect(scrubFile(clean, ['sk-ant-123456'])).toBe(false);
    expect(statSync(clean).mtimeMs).toBe(before);
    expect(scrubFile(join(dir, 'missing.log'), ['sk-ant-123456'])).toBe(false);
  });

  it('finds a secret that straddles two 1 MiB chunks, and masks a longer secret whole where a shorter one is its prefix', () => {
    const secret = 'sk-live-9f8e7d6c5b4a';
    const big = Buffer.concat([Buffer.alloc((1 << 20) - 7, 'x'), Buffer.from(secret), Buffer.from('\nend\n')]);
    const path = file(big);
    expect(scrubFile(path, [secret])).toBe(true);
    const out = readFileSync(path, 'utf8');
    expect(out.endsWith('x***\nend\n')).toBe(true);
    expect(out.length).toBe((1 << 20) - 7 + 3 + 5);
    const prefixed = file(Buffer.concat([Buffer.alloc((1 << 20) - 4, 'y'), Buffer.from('abcdefgh!')]));
    expect(scrubFile(prefixed, redactorOf(['abcdef', 'abcdefgh']).secrets)).toBe(true);
    expect(readFileSync(prefixed, 'utf8').slice(-5)).toBe('y***!');
  });

  it('leaves the same text a redactor would leave, whatever the content and chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('sk-secret-1', 'sk-secret-1-long', 'tok3n-abc', 'plain ', 'sk-', '\n', 'é'), {
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 40 }),
        (parts, chunkBytes) => {
          const text = parts.join('');
          const path = file(text);
          const redact = redactorOf(['sk-secret-1', 'sk-secret-1-long', 'tok3n-abc']);
          scrubFile(path, redact.secrets, chunkBytes);
          expect(readFileSync(path, 'utf8')).toBe(redact(text));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('logOffsets', () => {
  it('maps a follower of the log as written into the scrubbed file, and back, around each mask', () => {
    const written = 'tok=sk-live-123456\nhalf=sk-live-123456 done\nafter line\n';
    const path = file(written);
    expect(logOffsets(path, statSync(path).size).toFile(30)).toBe(30); // not scrubbed yet: as written
    scrubFile(path, ['sk-live-123456']);
    const now = readFileSync(path, 'utf8');
    expect(now).toBe('tok=***\nhalf=*** done\nafter line\n');
    const offsets = logOffsets(path, statSync(path).size);
    // Before the first secret, after it, inside the second (the reader saw part of it), after it, at the end.
    const rest = (raw: number): string => now.slice(offsets.toFile(raw));
    expect(rest(4)).toBe(now.slice(4));
    expect(rest(19)).toBe('half=*** done\nafter line\n');
    expect(rest(30)).toBe(' done\nafter line\n');
    expect(rest(38)).toBe(' done\nafter line\n');
    expect(rest(written.length)).toBe('');
    expect([0, 4, 7, 8, 13, 16, 21, now.length].map((f) => offsets.toRaw(f))).toEqual([
      0,
      4,
      18,
      19,
      24,
      38,
      43,
      written.length,
    ]);
    // A file that is not the scrub's (another size) reads as written.
    expect(logOffsets(path, now.length + 1).toFile(30)).toBe(30);
  });
});

import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineNotice } from '../core/run/engine-options.js';
import { tailOutput } from './output-tail.js';

const until = async (ok: () => boolean): Promise<void> => {
  const end = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('tailOutput', () => {
  it('passes on each whole JSON line written after it started, a line cut anywhere (even in a character) once whole', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'weft-tail-')), 'run.out.jsonl');
    writeFileSync(file, `${JSON.stringify({ type: 'run.created', at: 1 })}\n`);
    const seen: EngineNotice[] = [];
    const { stop } = tailOutput(file, (n) => seen.push(n), 10);
    try {
      const progress = JSON.stringify({
        type: 'task.progress',
        task: 'a',
        progress: { kind: 'text', message: 'héllo' },
      });
      const bytes = Buffer.from(`${progress}\nnot json\n`);
      const cut = bytes.indexOf(Buffer.from('é')) + 1; // inside the two bytes of é
      appendFileSync(file, bytes.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([]);
      appendFileSync(file, bytes.subarray(cut));
      appendFileSync(file, `${JSON.stringify({ type: 'task.succeeded', task: 'a' })}\n`);
      await until(() => seen.length === 2);
      expect(seen).toEqual([
        { type: 'task.progress', task: 'a', progress: { kind: 'text', message: 'héllo' } },
        { type: 'task.succeeded', task: 'a' },
      ]);
    } finally {
      stop();
    }
  });

  it('poll reads what is new at once, without waiting for the next turn', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'weft-tail-')), 'run.out.jsonl');
    writeFileSync(file, '');
    const seen: EngineNotice[] = [];
    const { poll, stop } = tailOutput(file, (n) => seen.push(n), 60_000);
    try {
      appendFileSync(file, `${JSON.stringify({ type: 'task.progress', task: 'a' })}\n`);
      expect(seen).toEqual([]);
      poll();
      expect(seen).toEqual([{ type: 'task.progress', task: 'a' }]);
    } finally {
      stop();
    }
  });

  it('waits for a file that does not exist yet', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'weft-tail-')), 'later.jsonl');
    const seen: EngineNotice[] = [];
    const { stop } = tailOutput(file, (n) => seen.push(n), 10);
    try {
      await new Promise((r) => setTimeout(r, 30));
      writeFileSync(file, `${JSON.stringify({ type: 'run.finished', status: 'succeeded' })}\n`);
      await until(() => seen.length === 1);
      expect(seen[0]).toMatchObject({ type: 'run.finished' });
    } finally {
      stop();
    }
  });
});

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { colourStats, decodePng } from '../../src/report/fixtures/png.js';
import { findChromium, launchChromium } from './chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-chromium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder holding an executable `chromium` that is not a browser (it exits 1): a PATH with a "system" one. */
function fakeSystem(): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'chromium'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(bin, 'chromium'), 0o755);
  return bin;
}

const emptyPath = (): string => {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  return empty;
};

/** The Chromium major version the @sparticuz/chromium package ships is its own major version. */
function npmMajor(): string {
  const require = createRequire(import.meta.url);
  const pkg = join(dirname(require.resolve('@sparticuz/chromium')), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version.split('.')[0] ?? '';
}

describe('findChromium: which browser the browser tests run', () => {
  it("WEFT_CHROMIUM=npm runs the npm package's Chromium, even with one on PATH; it draws a page offline", async () => {
    const found = await findChromium({ env: { WEFT_CHROMIUM: 'npm', PATH: fakeSystem() } });
    expect(found).toEqual({ source: 'npm', path: join(tmpdir(), 'chromium') });
    const browser = await launchChromium(found);
    try {
      expect(browser.version().startsWith(`${npmMajor()}.`), browser.version()).toBe(true);
      const page = await browser.newPage({ viewport: { width: 200, height: 100 } });
      const box = '<div style="width:100px;height:100px;background:#2f9e62"></div>';
      await page.setContent(`<body style="margin:0;background:#fff">${box}</body>`);
      const pixels = decodePng(await page.screenshot());
      expect([pixels.width, pixels.height]).toEqual([200, 100]);
      const at = (x: number, y: number): number[] => {
        const i = (y * 200 + x) * pixels.channels;
        return [...pixels.data.subarray(i, i + 3)];
      };
      expect(at(50, 50)).toEqual([0x2f, 0x9e, 0x62]);
      expect(at(150, 50)).toEqual([255, 255, 255]);
      expect(colourStats(pixels).nonWhite).toBeCloseTo(0.5, 2);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('an installed Chromium on PATH wins over the npm one', async () => {
    const bin = fakeSystem();
    const found = await findChromium({ env: { PATH: `${emptyPath()}:${bin}` } });
    expect(found).toEqual({ source: 'system', path: join(bin, 'chromium') });
  });

  it("with none on PATH, the npm package's", async () => {
    const found = await findChromium({ env: { PATH: emptyPath() } });
    expect(found).toEqual({ source: 'npm', path: join(tmpdir(), 'chromium') });
  }, 180_000);

  it('WEFT_CHROMIUM=<path> wins over PATH', async () => {
    const chosen = join(fakeSystem(), 'chromium');
    const found = await findChromium({ env: { WEFT_CHROMIUM: chosen, PATH: '/usr/bin:/bin' } });
    expect(found).toEqual({ source: 'WEFT_CHROMIUM', path: chosen });
  });

  it('WEFT_CHROMIUM naming no executable: one line with the fix', async () => {
    await expect(findChromium({ env: { WEFT_CHROMIUM: join(dir, 'nope') } })).rejects.toThrow(
      `WEFT_CHROMIUM=${join(dir, 'nope')} is not an executable file — fix: point it at a Chromium binary, ` +
        'or set WEFT_CHROMIUM=npm to use the one from the @sparticuz/chromium package',
    );
  });

  it('a binary that does not start as a browser: the error names it and the fix', async () => {
    const path = join(fakeSystem(), 'chromium');
    await expect(launchChromium({ path, source: 'system' })).rejects.toThrow(
      `cannot start Chromium at ${path} (system) — fix: set WEFT_CHROMIUM to a working Chromium, or WEFT_CHROMIUM=npm`,
    );
  });
});

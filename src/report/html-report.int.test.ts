import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium, launchChromium } from '../../test/support/chromium.js';
import { sampleEvents, sampleLogTails, samplePlanJson, T0 } from './fixtures/sample-run.js';
import { colourStats, decodePng } from './fixtures/png.js';
import { renderHtml } from './html-report.js';
import { buildReportInput } from './report-input.js';

/**
 * Opens the HTML report in headless Chromium, the one test/support/chromium.ts finds (WEFT_CHROMIUM,
 * else an installed one, else the npm package's). If it cannot start, the tests fail: an integration
 * test that skips itself hides a broken CI.
 */
const found = await findChromium();

const input = buildReportInput(sampleEvents(), samplePlanJson(), sampleLogTails(), { generatedAt: T0 + 10_000 });
let browser: Browser;
let dir: string;
let page: Page;
let url: string;
const requests: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  browser = await launchChromium(found);
  dir = mkdtempSync(join(tmpdir(), 'weft-html-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, renderHtml(input));
  url = pathToFileURL(file).href;
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
});

afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The few browser globals used below (tsconfig has no DOM lib). */
interface BrowserGlobals {
  getComputedStyle(e: unknown): { strokeWidth: string };
}
const ids = (selector: string): Promise<string[]> =>
  page.locator(selector).evaluateAll((els) => els.map((e) => e.getAttribute('data-task') ?? ''));

describe(`HTML report in a browser (${found.source} Chromium: ${found.path})`, () => {
  it('draws one Gantt bar per attempt on one row per worker used, retries as separate bars', async () => {
    const attempts = [...input.state.tasks.values()].reduce((n, r) => n + r.attempts.length, 0);
    expect(attempts).toBe(8);
    expect(await page.locator('rect.gantt-bar[data-task]').count()).toBe(attempts);
    expect(await page.locator('g.gantt-row[data-worker]').count()).toBe(3);
    const first = await page.locator('rect.gantt-bar[data-task="test-unit"][data-attempt="1"]').boundingBox();
    const second = await page.locator('rect.gantt-bar[data-task="test-unit"][data-attempt="2"]').boundingBox();
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    if (first === null || second === null) return;
    expect(second.x).toBeGreaterThan(first.x + first.width); // the backoff shows as a gap
    expect(second.y).toBeGreaterThan(first.y); // and the retry ran on another worker
    expect(await page.locator('rect.gantt-bar.outcome-failed').count()).toBe(1);
    expect(await page.locator('rect.gantt-bar.outcome-retrying').count()).toBe(1);
  });

  it('draws one graph node per task, critical path highlighted, no two nodes overlapping', async () => {
    expect(await ids('g.node[data-task]')).toEqual(input.tasks.map((t) => t.id));
    expect(await ids('g.node.critical')).toEqual(['setup', 'build', 'test-unit', 'package']);
    expect(await page.locator('path.edge.critical').count()).toBe(3);
    const boxes = await Promise.all((await page.locator('g.node rect').all()).map((l) => l.boundingBox()));
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        if (a === null || b === null) throw new Error('a graph node is not rendered');
        expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y).toBe(
          true,
        );
      }
    }
    const stroke = await page
      .locator('g.node.critical rect')
      .first()
      .evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).strokeWidth);
    expect(stroke).toBe('3px');
  });

  it('shows hostile text as text: the <script> in a log never runs', async () => {
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('details.log[data-task="test-e2e"] pre.stderr').textContent()).toContain(
      '</pre><script>window.__pwned = 1</script>',
    );
    expect(await page.locator('tr.task-row[data-task="docs"] td').nth(1).textContent()).toBe(
      'Write <img src=x onerror="window.__pwned=2"> docs & more',
    );
  });

  it('runs its own script under the CSP: hover lights a task up everywhere, click opens its log', async () => {
    await page.hover('rect.gantt-bar[data-task="package"]');
    expect(await page.locator('g.node[data-task="package"]').getAttribute('class')).toContain('hl');
    const log = page.locator('details.log[data-task="test-unit"]');
    expect(await log.getAttribute('open')).toBeNull();
    await page.click('g.node[data-task="test-unit"]');
    expect(await log.getAttribute('open')).toBe('');
  });

  it('renders a non-blank page in the outcome colours', async () => {
    const png = await page.screenshot({ fullPage: true });
    const pixels = decodePng(png);
    expect(pixels.width).toBeGreaterThan(1000);
    const stats = colourStats(pixels);
    expect(stats.colours).toBeGreaterThan(50);
    expect(stats.nonWhite).toBeGreaterThan(0.05);
    const near = (rgb: readonly [number, number, number]): number => {
      let n = 0;
      for (let i = 0; i < pixels.data.length; i += pixels.channels) {
        if (
          Math.abs((pixels.data[i] as number) - rgb[0]) +
            Math.abs((pixels.data[i + 1] as number) - rgb[1]) +
            Math.abs((pixels.data[i + 2] as number) - rgb[2]) <
          12
        )
          n++;
      }
      return n;
    };
    expect(near([0x2f, 0x9e, 0x62])).toBeGreaterThan(500); // succeeded bars
    expect(near([0xd9, 0x48, 0x4b])).toBeGreaterThan(200); // the failed bar
    expect(near([0xee, 0x9b, 0x2f])).toBeGreaterThan(200); // the retried attempt
  });

  it('made no network request beyond the file itself, and logged no error', () => {
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
  });
});

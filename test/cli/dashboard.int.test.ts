import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../support/chromium.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { api, follow, closeServedPage, servedPage, waitFor, type Server } from '../support/serve.js';
import { colourStats, decodePng } from '../../src/report/fixtures/png.js';

/**
 * The dashboard `weft serve` serves, in real headless Chromium (test/support/chromium.ts): a
 * finished run from the journal, a live run whose board updates, hostile titles and log lines
 * shown as text, and nothing fetched but the server itself.
 */
const found = await findChromium();
const TIMEOUT = 240_000;
const HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_LINE = '<script>window.__pwned=2</script><b>bold</b>';

let browser: Browser;
let page: Page;
let server: Server;
let project: string;
let finishedRun: string;
const requests: string[] = [];
const errors: string[] = [];

/** The few browser globals used below (tsconfig has no DOM lib). */
interface BrowserWindow {
  __pwned?: number;
  document: { querySelectorAll(s: string): { length: number } };
}

beforeAll(async () => {
  ensureBuilt();
  project = tempProject('weft-dashboard-');
  writeFileSync(
    join(project, 'plan.yaml'),
    [
      'name: hostile',
      'workers: 2',
      'tasks:',
      `  - id: evil`,
      `    title: '${HOSTILE_TITLE}'`,
      `    run: [sh, -c, "echo 'first line'; echo '${HOSTILE_LINE}'"]`,
      `  - id: calm`,
      `    run: [sh, -c, 'echo calm']`,
      `  - id: after`,
      `    needs: [evil, calm]`,
      `    verifies: [evil]`,
      `    run: [sh, -c, 'echo checked']`,
      '',
    ].join('\n'),
  );
  const ran = await weft(['run', 'plan.yaml', '--no-isolation', '--json'], { cwd: project });
  expect(ran.code, ran.stderr).toBe(0);
  finishedRun = /"runId":"([^"]+)"/.exec(ran.stdout)?.[1] ?? '';
  ({ server, browser, page } = await servedPage(project, found, errors));
  page.on('request', (r) => requests.push(r.url()));
}, TIMEOUT);

afterAll(() => closeServedPage({ server, browser }));

const states = (): Promise<Record<string, string>> =>
  page
    .locator('#graph g.node[data-task]')
    .evaluateAll((els) =>
      Object.fromEntries(els.map((e) => [e.getAttribute('data-task'), e.getAttribute('data-state')])),
    );

describe(`the dashboard in a browser (${found.source} Chromium)`, () => {
  it(
    'opens on the most recent run, from the journal: graph, critical path, lanes, checks, tasks — and a screenshot shows them',
    async () => {
      await page.goto(server.dashboard, { waitUntil: 'load' });
      await page.waitForSelector('#graph g.node[data-task="after"][data-state="succeeded"]', { timeout: 60_000 });
      expect(page.url()).not.toContain('token'); // the token leaves the address bar at once
      expect(await page.locator('#run-list li').count()).toBe(1);
      expect(await page.locator('#run-list li.selected').getAttribute('data-run')).toBe(finishedRun);
      expect(await page.locator('#run-title').textContent()).toBe(`hostile · ${finishedRun}`);
      expect(await page.locator('#run-status').textContent()).toBe('succeeded');
      expect(await states()).toEqual({ evil: 'succeeded', calm: 'succeeded', after: 'succeeded' });
      expect(await page.locator('#graph g.node.critical').count()).toBe(2);
      expect(await page.locator('#graph path.edge').count()).toBe(2);
      expect(await page.locator('#workers .lane').count()).toBe(2);
      expect(await page.locator('#workers .bar.succeeded').count()).toBe(3);
      expect(await page.locator('#checks li[data-check="after"] .verdict-pass').textContent()).toBe('pass');
      expect(await page.locator('#tasks tbody tr').count()).toBe(3);
      expect(await page.locator('#cancel').isHidden()).toBe(true);
      const png = decodePng(await page.screenshot({ fullPage: true }));
      expect(png.width).toBe(1400);
      expect(colourStats(png).colours).toBeGreaterThan(30);
      // The succeeded green (#22c55e) of the status badge, node borders and bars is on the picture.
      let green = 0;
      for (let i = 0; i < png.data.length; i += png.channels)
        if (
          Math.abs((png.data[i] ?? 0) - 0x22) < 12 &&
          Math.abs((png.data[i + 1] ?? 0) - 0xc5) < 12 &&
          Math.abs((png.data[i + 2] ?? 0) - 0x5e) < 12
        )
          green++;
      expect(green).toBeGreaterThan(500);
    },
    TIMEOUT,
  );

  it(
    'shows hostile task titles and log lines as text: nothing of them runs or renders as HTML',
    async () => {
      const row = page.locator('#tasks tbody tr[data-task="evil"]');
      expect(await row.locator('td').nth(1).textContent()).toBe(HOSTILE_TITLE);
      expect(await page.locator('#graph g.node[data-task="evil"] title').textContent()).toContain(HOSTILE_TITLE);
      await row.click();
      await waitFor(async () => ((await page.locator('#log').textContent()) ?? '').includes('bold'), 'the log');
      expect(await page.locator('#log').textContent()).toBe(`first line\n${HOSTILE_LINE}\n`);
      expect(await page.locator('#panel-title').textContent()).toBe(`evil — ${HOSTILE_TITLE}`);
      const pwned = await page.evaluate(() => {
        const w = globalThis as unknown as BrowserWindow;
        return {
          flag: w.__pwned,
          imgs: w.document.querySelectorAll('img').length,
          bold: w.document.querySelectorAll('#log b, #tasks b').length,
          scripts: w.document.querySelectorAll('script').length,
        };
      });
      expect(pwned).toEqual({ flag: undefined, imgs: 0, bold: 0, scripts: 1 });
      await page.locator('#panel-close').click();
    },
    TIMEOUT,
  );

  it(
    'follows a live run: states, lanes and the task log update as events come, until it ends',
    async () => {
      const go = join(project, 'go');
      const plan = {
        name: 'live',
        workers: 2,
        tasks: [
          { id: 'wait', run: ['sh', '-c', `echo line-1; while [ ! -f ${go} ]; do sleep 0.1; done; echo line-2`] },
          { id: 'then', needs: ['wait'], run: ['sh', '-c', 'echo then'] },
        ],
      };
      const { runId } = (await api(server, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#graph g.node[data-task="wait"][data-state="running"]', { timeout: 60_000 });
      expect(await page.locator('#run-status').textContent()).toBe('running');
      expect(await page.locator('#cancel').isVisible()).toBe(true);
      expect(await page.locator('#graph g.node[data-task="then"]').getAttribute('data-state')).not.toBe('succeeded');
      expect(await page.locator('#workers .holds').first().textContent()).toContain('wait');
      expect(await page.locator('#workers .bar.running[data-task="wait"]').count()).toBe(1);
      await page.locator('#graph g.node[data-task="wait"]').click();
      await waitFor(async () => ((await page.locator('#log').textContent()) ?? '').includes('line-1'), 'line-1');
      writeFileSync(go, '');
      await waitFor(async () => ((await page.locator('#log').textContent()) ?? '').includes('line-2'), 'line-2');
      await page.waitForSelector('#graph g.node[data-task="then"][data-state="succeeded"]', { timeout: 60_000 });
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      expect(await page.locator('#workers .bar.running').count()).toBe(0);
      expect(await page.locator('#workers .bar.succeeded').count()).toBe(2);
      expect(await page.locator('#run-list li').count()).toBe(2);
      await follow(server, runId, (type) => type === 'run.finished');
    },
    TIMEOUT,
  );

  it(
    "the task panel opened on a failing attempt shows the retry's log after it, under a line naming the attempt",
    async () => {
      const flaky = 'echo "try $WEFT_ATTEMPT"; sleep 1; test "$WEFT_ATTEMPT" -ge 2';
      const plan = {
        name: 'retried',
        tasks: [{ id: 'flaky', run: ['sh', '-c', flaky], retries: 1, backoff: { initial: '1s' } }],
      };
      const { runId } = (await api(server, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#graph g.node[data-task="flaky"][data-state="running"]', { timeout: 60_000 });
      await page.locator('#graph g.node[data-task="flaky"]').click();
      await waitFor(async () => ((await page.locator('#log').textContent()) ?? '').includes('try 1'), 'try 1');
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      await waitFor(async () => ((await page.locator('#log').textContent()) ?? '').includes('try 2'), 'try 2');
      expect(await page.locator('#log').textContent()).toBe('try 1\n── attempt 2 ──\ntry 2\n');
      expect(await page.locator('#panel-sub').textContent()).toContain('attempt 2');
    },
    TIMEOUT,
  );

  it(
    'the board shows each event within 250 ms of its journal time',
    async () => {
      const go = join(project, 'go-fast');
      const step = (id: string, needs: string[]) => ({ id, needs, run: ['sh', '-c', 'sleep 0.4'] });
      const plan = {
        name: 'latency',
        tasks: [
          { id: 'gate', run: ['sh', '-c', `while [ ! -f ${go} ]; do sleep 0.05; done`] },
          step('one', ['gate']),
          step('two', ['one']),
          step('three', ['two']),
        ],
      };
      const { runId } = (await api(server, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#graph g.node[data-task="gate"][data-state="running"]', { timeout: 60_000 });
      // When (this machine's clock, as the journal's) each task is first shown with each state.
      await page.evaluate(`(() => {
        window.__seen = {};
        const look = () => {
          for (const g of document.querySelectorAll('#graph g.node[data-task]')) {
            const key = g.getAttribute('data-task') + ' ' + g.getAttribute('data-state');
            window.__seen[key] ??= Date.now();
          }
        };
        new MutationObserver(look).observe(document.getElementById('graph'), { childList: true, subtree: true });
      })()`);
      writeFileSync(go, '');
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      const seen = (await page.evaluate('window.__seen')) as Record<string, number>;
      const journal = await follow(server, runId, (type) => type === 'run.finished');
      const lags = journal
        .filter((e) => e.type === 'task.started' || e.type === 'task.succeeded')
        .map((e) => {
          const key = `${String(e.data.task)} ${e.type === 'task.started' ? 'running' : 'succeeded'}`;
          return { key, lag: (seen[key] ?? Infinity) - Number(e.data.at) };
        })
        .filter((x) => !x.key.startsWith('gate running')); // shown before the observer was on
      expect(lags).toHaveLength(7);
      for (const { key, lag } of lags) expect(lag, key).toBeLessThanOrEqual(250);
    },
    TIMEOUT,
  );

  it(
    'the Cancel button stops a live run, and Resume continues it from the journal',
    async () => {
      const plan = { name: 'stoppable', tasks: [{ id: 'long', run: ['sleep', '120'] }] };
      const { runId } = (await api(server, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#graph g.node[data-task="long"][data-state="running"]', { timeout: 60_000 });
      await page.locator('#cancel').click();
      await page.waitForSelector('#run-status.cancelled', { timeout: 60_000 });
      expect(await page.locator('#cancel').isHidden()).toBe(true);
      await page.locator('#resume').click();
      await page.waitForSelector('#run-status.running', { timeout: 60_000 });
      await page.waitForSelector('#graph g.node[data-task="long"][data-state="running"]', { timeout: 60_000 });
      const detail = (await api(server, `/api/runs/${runId}`)).json() as { run: { resumes: number } };
      expect(detail.run.resumes).toBe(1);
      await waitFor(async () => (await api(server, `/api/runs/${runId}/cancel`, {})).status === 200, 'a cancel');
      await page.waitForSelector('#run-status.cancelled', { timeout: 60_000 });
    },
    TIMEOUT,
  );

  it(
    "a resumed run's makespan is the one `weft status` gives: the time weft was stopped is not in it, and it says so",
    async () => {
      const go = join(project, 'go-resumed');
      const plan = {
        name: 'resumed',
        tasks: [
          { id: 'hold', run: ['sh', '-c', `while [ ! -f ${go} ]; do sleep 0.05; done`] },
          { id: 'next', needs: ['hold'], run: ['sh', '-c', 'sleep 0.3'] },
        ],
      };
      const { runId } = (await api(server, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await waitFor(async () => (await api(server, `/api/runs/${runId}/cancel`, {})).status === 200, 'a cancel');
      await follow(server, runId, (type) => type === 'run.finished');
      await new Promise((r) => setTimeout(r, 3000)); // weft is stopped
      writeFileSync(go, '');
      expect((await api(server, `/api/runs/${runId}/resume`, {})).status).toBe(200);
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      const { makespanMs, pausedMs } = (await api(server, `/api/runs/${runId}/summary`)).json() as {
        makespanMs: number;
        pausedMs: number;
      };
      expect(pausedMs).toBeGreaterThan(2500);
      const figure = await page.locator('#figures div', { hasText: 'makespan' }).locator('dd').textContent();
      const m = /^(\d+(?:\.\d)?)(ms|s) \(not counting (\d+(?:\.\d)?)(ms|s) while weft was stopped\)$/.exec(
        figure ?? '',
      );
      expect(m, figure ?? '').not.toBeNull();
      const msOf = (n?: string, unit?: string): number => Number(n) * (unit === 's' ? 1000 : 1);
      expect(Math.abs(msOf(m?.[1], m?.[2]) - makespanMs)).toBeLessThanOrEqual(50);
      expect(Math.abs(msOf(m?.[3], m?.[4]) - pausedMs)).toBeLessThanOrEqual(50);
      // `weft status` says the same makespan.
      const status = await weft(['status', runId], { cwd: project });
      expect(status.stdout).toMatch(/makespan +\S+ on \d+ workers? \(not counting \S+ while weft was stopped\)/);
      expect(await page.locator('#figures dt', { hasText: 'elapsed' }).count()).toBe(0);
    },
    TIMEOUT,
  );

  it('fetched nothing but the server, and the CSP refused nothing', () => {
    const origin = new URL(server.base).origin;
    expect(requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(errors).toEqual([]);
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/run/events.js';
import { openStore } from '../../src/store/open-store.js';
import { findChromium } from '../support/chromium.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { api, follow, closeServedPage, servedPage, type Server } from '../support/serve.js';
import { decodePng } from '../../src/report/fixtures/png.js';

/**
 * What the dashboard shows of a run's decisions, in real headless Chromium: approvals waiting with
 * Approve and Reject buttons that drive the real run, gates with their verdicts, and a loop's
 * iterations read from the journal.
 */
const found = await findChromium();
const TIMEOUT = 240_000;
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const LOOP_RUN = '20261205-120000-100f';
const T0 = Date.UTC(2026, 11, 5, 12);

let browser: Browser;
let page: Page;
let server: Server;
let project: string;
let gateRun: string;
const errors: string[] = [];

const out = (o: object) => ['node', '-e', `console.log(JSON.stringify(${JSON.stringify(o)}))`];

/** A run of a loop, as the loop engine journals it: two iterations repeated, the third passed. */
const loopEvents = [
  { type: 'run.created', at: T0, runId: LOOP_RUN, plan: 'looped', workers: 1, mode: 'parallel', tasks: ['fix'] },
  { type: 'loop.iteration.started', at: T0, iteration: 1 },
  { type: 'task.ready', at: T0, task: 'fix' },
  { type: 'task.started', at: T0 + 1, task: 'fix', attempt: 1, worker: 0 },
  { type: 'task.succeeded', at: T0 + 4000, task: 'fix', attempt: 1, result: { exitCode: 0 } },
  {
    type: 'loop.iteration.ended',
    at: T0 + 4000,
    iteration: 1,
    outcome: 'repeat',
    reasons: ['tests failed: 3', HOSTILE],
    durationMs: 4000,
    costUsd: 0.125,
  },
  { type: 'loop.iteration.started', at: T0 + 4000, iteration: 2 },
  {
    type: 'loop.iteration.ended',
    at: T0 + 65_000,
    iteration: 2,
    outcome: 'repeat',
    reasons: ['tests failed: 1'],
    durationMs: 61_000,
  },
  { type: 'loop.iteration.started', at: T0 + 65_000, iteration: 3 },
  {
    type: 'loop.iteration.ended',
    at: T0 + 70_000,
    iteration: 3,
    outcome: 'passed',
    reasons: [],
    durationMs: 5000,
    costUsd: 2.5,
  },
  { type: 'run.finished', at: T0 + 70_000, status: 'succeeded' },
] as unknown as RunEvent[]; // the loop events are not in RunEvent yet: the store keeps them as JSON

beforeAll(async () => {
  ensureBuilt();
  project = tempProject('weft-decisions-');
  writeFileSync(
    join(project, 'gated.yaml'),
    [
      'name: gated',
      'tasks:',
      `  - id: ui`,
      `    run: ${JSON.stringify(out({ score: 4 }))}`,
      `    outputSchema: { type: object, properties: { score: { type: number } } }`,
      `  - { id: fair, gate: tasks.ui.output.score >= 3 }`,
      `  - { id: strict, gate: tasks.ui.output.score >= 6 }`,
      `  - { id: ship, needs: [strict], run: "true" }`,
      '',
    ].join('\n'),
  );
  const ran = await weft(['run', 'gated.yaml', '--no-isolation', '--json'], { cwd: project });
  expect(ran.code, ran.stderr).toBe(4);
  gateRun = /"runId":"([^"]+)"/.exec(ran.stdout)?.[1] ?? '';
  const store = await openStore({ dir: join(project, '.weft') });
  try {
    await store.append(LOOP_RUN, loopEvents);
  } finally {
    await store.close();
  }
  ({ server, browser, page } = await servedPage(project, found, errors));
}, TIMEOUT);

afterAll(() => closeServedPage({ server, browser }));

/** A plan whose `deploy` waits for a person, started through the API; resolves once the page shows the wait. */
async function waitingRun(name: string): Promise<string> {
  const plan = {
    name,
    tasks: [
      { id: 'build', run: ['true'] },
      { id: 'deploy', title: HOSTILE, needs: ['build'], approval: 'required', run: ['sh', '-c', 'echo deployed'] },
      { id: 'announce', needs: ['deploy'], run: ['true'] },
    ],
  };
  const started = await api(server, '/api/runs', { plan, isolation: false });
  expect(started.status, started.text).toBe(201);
  const { runId } = started.json() as { runId: string };
  await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
  await page.waitForSelector('#approvals li[data-approval="deploy"][data-state="waiting"]', { timeout: 60_000 });
  return runId;
}

const journalOf = async (runId: string) =>
  (await follow(server, runId, (type) => type === 'run.finished')).map((e) => ({ type: e.type, ...e.data }));

describe(`the dashboard's decisions in a browser (${found.source} Chromium)`, () => {
  it(
    'an approval waiting shows Approve and Reject; a click on Approve lets the real run go on and finish',
    async () => {
      const runId = await waitingRun('approve-me');
      const item = page.locator('#approvals li[data-approval="deploy"]');
      expect(await item.locator('strong').textContent()).toBe('deploy');
      expect(await item.textContent()).toContain(HOSTILE); // its title, as text
      expect(await item.textContent()).toMatch(/waits since \d\d:\d\d:\d\d/);
      expect(await item.locator('button.approve').isVisible()).toBe(true);
      expect(await item.locator('button.reject').isVisible()).toBe(true);
      expect(await page.locator('#graph g.node[data-task="deploy"]').getAttribute('data-state')).toBe('ready');
      expect(await page.locator('#run-status').textContent()).toBe('running');
      const png = decodePng(await page.screenshot({ fullPage: true }));
      expect(png.width).toBe(1400);
      // The waiting approval is marked in amber (#f59e0b) on the picture.
      const shot = decodePng(await item.screenshot());
      let amber = 0;
      for (let i = 0; i < shot.data.length; i += shot.channels)
        if (
          Math.abs((shot.data[i] ?? 0) - 0xf5) < 16 &&
          Math.abs((shot.data[i + 1] ?? 0) - 0x9e) < 16 &&
          Math.abs((shot.data[i + 2] ?? 0) - 0x0b) < 16
        )
          amber++;
      expect(amber).toBeGreaterThan(40);

      await item.locator('button.approve').click();
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      await page.waitForSelector('#approvals li[data-approval="deploy"][data-state="approved"]', { timeout: 10_000 });
      expect(await page.locator('#approvals li[data-approval="deploy"]').textContent()).toMatch(
        /approved by \S+ \(weft serve\) at \d\d:\d\d:\d\d/,
      );
      expect(await page.locator('#approvals button').count()).toBe(0);
      expect(await page.locator('#graph g.node[data-task="announce"]').getAttribute('data-state')).toBe('succeeded');
      const journal = await journalOf(runId);
      expect(journal).toContainEqual(
        expect.objectContaining({ type: 'approval.decided', task: 'deploy', decision: 'approved' }),
      );
      expect(journal.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    'Reject wants a reason; with one, the task ends blocked with it and the run is blocked',
    async () => {
      const runId = await waitingRun('reject-me');
      const item = page.locator('#approvals li[data-approval="deploy"]');
      await item.locator('button.reject').click();
      await page.waitForSelector('#message:not([hidden])');
      expect(await page.locator('#message').textContent()).toBe(
        'say why you reject deploy: a rejection needs a reason',
      );
      expect(await item.getAttribute('data-state')).toBe('waiting');
      await item.locator('input.reason').fill('not on a Friday');
      await item.locator('button.reject').click();
      await page.waitForSelector('#run-status.blocked', { timeout: 60_000 });
      await page.waitForSelector('#approvals li[data-approval="deploy"][data-state="rejected"]', { timeout: 10_000 });
      expect(await page.locator('#approvals li[data-approval="deploy"]').textContent()).toContain(': not on a Friday');
      expect(await page.locator('#graph g.node[data-task="deploy"]').getAttribute('data-state')).toBe('blocked');
      const journal = await journalOf(runId);
      expect(journal).toContainEqual(
        expect.objectContaining({
          type: 'approval.decided',
          task: 'deploy',
          decision: 'rejected',
          reason: 'not on a Friday',
        }),
      );
    },
    TIMEOUT,
  );

  it(
    'gates show their verdicts: a pass, and a block naming the failing part with its value',
    async () => {
      await page.goto(`${server.dashboard}&run=${gateRun}`, { waitUntil: 'load' });
      await page.waitForSelector('#checks li[data-gate="strict"]', { timeout: 60_000 });
      expect(await page.locator('#run-status').textContent()).toBe('blocked');
      expect(await page.locator('#checks li[data-gate="fair"] .verdict-pass').textContent()).toBe('pass');
      expect(await page.locator('#checks li[data-gate="strict"] .verdict-fail').textContent()).toBe('blocked');
      expect(await page.locator('#checks li[data-gate="strict"] .why').textContent()).toBe(
        ' — tasks.ui.output.score = 4 < 6',
      );
      expect(await page.locator('#approvals-section').isHidden()).toBe(true);
      expect(await page.locator('#loop-section').isHidden()).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "a loop's iterations from the journal: outcome, reasons (as text), time and cost",
    async () => {
      await page.goto(`${server.dashboard}&run=${LOOP_RUN}`, { waitUntil: 'load' });
      await page.waitForSelector('#loops tbody tr[data-iteration="3"]', { timeout: 60_000 });
      expect(await page.locator('#loop-section').isVisible()).toBe(true);
      const rows = await page
        .locator('#loops tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      expect(rows).toEqual([
        ['1', 'repeat', `tests failed: 3; ${HOSTILE}`, '4.0s', '$0.1250'],
        ['2', 'repeat', 'tests failed: 1', '1m01s', ''],
        ['3', 'passed', '', '5.0s', '$2.50'],
      ]);
      expect(await page.locator('#loops img').count()).toBe(0);
      // The loop events are no tasks: the board holds the one task.
      expect(await page.locator('#tasks tbody tr').count()).toBe(1);
    },
    TIMEOUT,
  );

  it(
    "a loop's iterations as they are journaled: one running, then its outcome",
    async () => {
      const LIVE = '20261205-121500-1001';
      const at = Date.now();
      const store = await openStore({ dir: join(project, '.weft') });
      try {
        await store.append(LIVE, [
          { type: 'run.created', at, runId: LIVE, plan: 'looping', workers: 1, mode: 'parallel', tasks: ['fix'] },
          { type: 'loop.iteration.started', at, iteration: 1 } as unknown as RunEvent,
        ]);
        await page.goto(`${server.dashboard}&run=${LIVE}`, { waitUntil: 'load' });
        await page.waitForSelector('#loops tbody tr[data-iteration="1"][data-outcome="running"]', { timeout: 60_000 });
        await store.append(LIVE, [
          {
            type: 'loop.iteration.ended',
            at: at + 1500,
            iteration: 1,
            outcome: 'budget',
            reasons: ['the run spent its budget'],
            durationMs: 1500,
            costUsd: 1.25,
          } as unknown as RunEvent,
        ]);
        await page.waitForSelector('#loops tbody tr[data-iteration="1"][data-outcome="budget"]', { timeout: 10_000 });
        expect(
          await page
            .locator('#loops tbody tr[data-iteration="1"] td')
            .evaluateAll((tds) => tds.map((td) => td.textContent)),
        ).toEqual(['1', 'budget', 'the run spent its budget', '1.5s', '$1.25']);
      } finally {
        await store.close();
      }
    },
    TIMEOUT,
  );

  it(
    'a flaky check (failed, then passed when run again on the same tree) says so, and how it failed',
    async () => {
      const count = join(project, 'flaky-count');
      const script = `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}; [ $n -ge 2 ] || { echo 'FLAKE: connection reset' >&2; exit 1; }`;
      const plan = {
        name: 'flaky',
        tasks: [
          { id: 'api', run: ['true'] },
          { id: 'build', verifies: ['api'], run: ['sh', '-c', script] },
        ],
      };
      const started = await api(server, '/api/runs', { plan, isolation: false });
      expect(started.status, started.text).toBe(201);
      const { runId } = started.json() as { runId: string };
      await page.goto(`${server.dashboard}&run=${runId}`, { waitUntil: 'load' });
      await page.waitForSelector('#run-status.succeeded', { timeout: 60_000 });
      const row = page.locator('#checks li[data-check="build"]');
      await row.waitFor({ timeout: 60_000 });
      expect(await row.locator('.verdict-wait').textContent()).toBe('pass (flaky)');
      expect(await row.textContent()).toMatch(
        /^build verifies api: pass \(flaky\) — failed \(exited with code 1 after \S+: FLAKE: connection reset\), then passed when run again on the same tree; no task was told$/,
      );
    },
    TIMEOUT,
  );

  it('no error on the page', () => {
    expect(errors).toEqual([]);
  });
});

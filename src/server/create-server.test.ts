import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { RunEvent } from '../core/run/events.js';
import type { Store } from '../core/ports/store.js';
import { openStore } from '../store/open-store.js';
import { defaultExecutors } from '../executors/index.js';
import { createRunControl } from '../cli/run-control.js';
import { createServer } from './create-server.js';
import { RunBus } from '../core/run/run-bus.js';

const TOKEN = 'test-token-0123456789abcdef';
const RUN = '20261205-100000-beef';
const T0 = Date.UTC(2026, 11, 5, 10);
const HOSTILE = '<img src=x onerror="alert(1)">';

const events: RunEvent[] = [
  { type: 'run.created', at: T0, runId: RUN, plan: 'demo', workers: 2, mode: 'parallel', tasks: ['build', 'test'] },
  { type: 'task.ready', at: T0, task: 'build' },
  { type: 'task.started', at: T0 + 1, task: 'build', attempt: 1, worker: 0 },
  { type: 'task.succeeded', at: T0 + 1000, task: 'build', attempt: 1, result: { exitCode: 0 } },
  { type: 'task.ready', at: T0 + 1000, task: 'test' },
  { type: 'task.started', at: T0 + 1001, task: 'test', attempt: 1, worker: 1 },
  {
    type: 'task.failed',
    at: T0 + 3000,
    task: 'test',
    attempt: 1,
    error: { code: 'WEFT_EXECUTOR', message: 'exit 1' } as never,
  },
  { type: 'run.finished', at: T0 + 3000, status: 'failed', reason: 'a task failed' },
];

let dir: string;
let store: Store;
let app: Hono;
let control: ReturnType<typeof createRunControl>;
const auth = { authorization: `Bearer ${TOKEN}`, host: '127.0.0.1:4873' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weft-server-'));
  store = await openStore({ dir: join(dir, '.weft') });
  await store.append(RUN, events);
  const runDir = join(dir, '.weft', 'runs', RUN);
  mkdirSync(join(runDir, 'tasks', 'build'), { recursive: true });
  writeFileSync(
    join(runDir, 'plan.json'),
    JSON.stringify({
      plan: {
        name: 'demo',
        budget: { usd: 5 },
        tasks: [
          { id: 'build', title: HOSTILE, run: ['true'] },
          { id: 'test', needs: ['build'], verifies: ['build'], run: ['false'] },
        ],
      },
    }),
  );
  writeFileSync(join(runDir, 'tasks', 'build', '1.stdout.log'), `compiled\n${HOSTILE}\n\u001b]52;c;aGk=\u0007done\n`);
  control = createRunControl({ projectDir: dir, store, executors: defaultExecutors() });
  app = createServer({ control, token: TOKEN, maxBodyBytes: 4096, pollMs: 20 });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Reads an SSE response until `n` events with an id came, then cancels it. */
async function readEvents(res: Response, n: number): Promise<{ id: string; event: string; data: string }[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const out: { id: string; event: string; data: string }[] = [];
  let buffer = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const field = (name: string) =>
        /^(\w+): ?(.*)$/m.exec(block) && (new RegExp(`^${name}: ?(.*)$`, 'm').exec(block)?.[1] ?? '');
      const id = field('id');
      if (id) out.push({ id, event: field('event') || 'message', data: field('data') || '' });
    }
  }
  await reader.cancel();
  return out;
}

describe('weft serve: checks on every request', () => {
  it('401 without a token or with a wrong one, 400 for a malformed header (RFC 6750); JSON with no secret', async () => {
    for (const [headers, status] of [
      [{ host: '127.0.0.1' }, 401],
      [{ host: '127.0.0.1', authorization: 'Bearer wrong-token-0123456789' }, 401],
      [{ host: '127.0.0.1', authorization: 'Basic abc' }, 400],
      [{ host: '127.0.0.1', authorization: 'Bearer' }, 400],
    ] as [Record<string, string>, number][]) {
      const res = await app.request('/api/runs', { headers });
      expect(res.status, JSON.stringify(headers)).toBe(status);
      const text = await res.text();
      expect(text).toContain('WEFT_UNAUTHORIZED');
      expect(text).not.toContain(TOKEN);
    }
    expect((await app.request('/api/runs', { headers: { host: '127.0.0.1' } })).status).toBe(401);
  });

  it('403 for a foreign Host (DNS rebinding), even with the right token; loopback names pass', async () => {
    const foreign = await app.request('/api/runs', { headers: { ...auth, host: 'evil.example:4873' } });
    expect(foreign.status).toBe(403);
    expect((await app.request('/', { headers: { host: 'evil.example' } })).status).toBe(403);
    for (const host of ['127.0.0.1:4873', 'localhost:4873', '[::1]:4873', 'LOCALHOST'])
      expect((await app.request('/api/runs', { headers: { ...auth, host } })).status).toBe(200);
  });

  it('413 for a body over the limit, before it is parsed', async () => {
    const big = JSON.stringify({ plan: { tasks: [{ id: 'x', run: 'a'.repeat(10_000) }] } });
    const res = await app.request('/api/runs', {
      method: 'POST',
      body: big,
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'WEFT_USAGE' } });
  });

  it('a strict CSP and no CORS header on every answer; the dashboard is served without the token', async () => {
    for (const path of ['/', '/app.js', '/dom.js', '/board.js', '/stream.js', '/decisions.js', '/app.css']) {
      const res = await app.request(path, { headers: { host: '127.0.0.1' } });
      expect(res.status).toBe(200);
      // ES modules load only with a JavaScript type (nosniff is on).
      if (path.endsWith('.js')) expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.text()).not.toContain(TOKEN);
    }
    const preflight = await app.request('/api/runs', {
      method: 'OPTIONS',
      headers: { host: '127.0.0.1', origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('weft serve: the runs API', () => {
  it('GET /api/runs lists runs with whether a coordinator drives them', async () => {
    const runs = (await (await app.request('/api/runs', { headers: auth })).json()) as {
      id: string;
      status: string;
      driven: boolean;
    }[];
    expect(runs).toEqual([
      expect.objectContaining({ id: RUN, plan: 'demo', status: 'failed', driven: false, tasks: 2 }),
    ]);
  });

  it('GET /api/runs/:id: the report, graph layout, budget, checks with verdicts', async () => {
    const d = (await (await app.request(`/api/runs/${RUN}`, { headers: auth })).json()) as Record<string, unknown> & {
      tasks: { id: string; state: string; title: string }[];
      layout: { nodes: { id: string; layer: number }[] };
      checks: unknown[];
    };
    expect(d.run).toMatchObject({ id: RUN, status: 'failed', workers: 2 });
    expect(d.tasks.map((t) => [t.id, t.state])).toEqual([
      ['build', 'succeeded'],
      ['test', 'failed'],
    ]);
    expect(d.tasks[0]?.title).toBe(HOSTILE);
    expect(d.layout.nodes.map((n) => [n.id, n.layer])).toEqual([
      ['build', 0],
      ['test', 1],
    ]);
    expect(d.budget).toEqual({ usd: 5 });
    expect(d.checks).toEqual([
      { id: 'test', verifies: ['build'], state: 'failed', attempts: 1, reason: expect.any(String), flaky: null },
    ]);
    expect(d).toMatchObject({ driven: false, lastSeq: events.length });
  });

  it('tasks, summary, and the report in json, md and html', async () => {
    const tasks = (await (await app.request(`/api/runs/${RUN}/tasks`, { headers: auth })).json()) as unknown[];
    expect(tasks).toHaveLength(2);
    const summary = (await (await app.request(`/api/runs/${RUN}/summary`, { headers: auth })).json()) as {
      counts: unknown;
    };
    expect(summary.counts).toMatchObject({ succeeded: 1, failed: 1, total: 2 });
    const json = await app.request(`/api/runs/${RUN}/report?format=json`, { headers: auth });
    expect(((await json.json()) as { format: string }).format).toBe('weft-report');
    const md = await app.request(`/api/runs/${RUN}/report?format=md`, { headers: auth });
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(await md.text()).toContain('demo');
    const html = await app.request(`/api/runs/${RUN}/report?format=html`, { headers: auth });
    expect(await html.text()).toContain('<svg');
    const bad = await app.request(`/api/runs/${RUN}/report?format=pdf`, { headers: auth });
    expect(bad.status).toBe(400);
  });

  it('a task log: from an offset, terminal control sequences removed; an unknown run or task is a 404, an attempt never made a 400', async () => {
    const res = await app.request(`/api/runs/${RUN}/tasks/build/log`, { headers: auth });
    const log = (await res.json()) as { text: string; offset: number; ended: boolean };
    expect(log.text).toBe(`compiled\n${HOSTILE}\ndone\n`);
    expect(log.ended).toBe(true);
    const rest = (await (await app.request(`/api/runs/${RUN}/tasks/build/log?offset=9`, { headers: auth })).json()) as {
      text: string;
    };
    expect(rest.text.startsWith(HOSTILE)).toBe(true);
    const follow = await app.request(`/api/runs/${RUN}/tasks/build/log?follow=1`, { headers: auth });
    expect(follow.headers.get('content-type')).toContain('text/event-stream');
    expect(await follow.text()).toContain('event: end');
    expect((await app.request(`/api/runs/nope/tasks/build/log`, { headers: auth })).status).toBe(404);
    expect((await app.request(`/api/runs/${RUN}/tasks/ghost/log`, { headers: auth })).status).toBe(404);
    expect((await app.request(`/api/runs/${RUN}/tasks/build/log?stream=both`, { headers: auth })).status).toBe(400);
    const never = await app.request(`/api/runs/${RUN}/tasks/build/log?attempt=3`, { headers: auth });
    expect(never.status).toBe(400);
    expect(await never.json()).toEqual({
      error: {
        code: 'WEFT_USAGE',
        message: `task "build" of run ${RUN} made 1 attempt(s), not 3`,
        hint: 'leave out attempt for the latest',
      },
    });
  });

  it('a log follower that reconnects with Last-Event-ID gets the rest of the log, not all of it again', async () => {
    const first = await (await app.request(`/api/runs/${RUN}/tasks/build/log?follow=1`, { headers: auth })).text();
    const id = /^id: (.*)$/m.exec(first)?.[1];
    const whole = (await (await app.request(`/api/runs/${RUN}/tasks/build/log`, { headers: auth })).json()) as {
      offset: number;
    };
    expect(id).toBe(`1:${whole.offset}`); // the attempt and the offset in the log after the event
    const again = await app.request(`/api/runs/${RUN}/tasks/build/log?follow=1`, {
      headers: { ...auth, 'last-event-id': id as string },
    });
    const text = await again.text();
    expect(text).not.toContain('event: log');
    expect(text).toContain('event: end');
    const midway = await app.request(`/api/runs/${RUN}/tasks/build/log?follow=1`, {
      headers: { ...auth, 'last-event-id': '1:9' },
    });
    const rest = /^data: (.*)$/m.exec(await midway.text())?.[1] ?? '{}';
    expect((JSON.parse(rest) as { text: string }).text).toBe(`${HOSTILE}\ndone\n`);
  });

  it('events as SSE with the journal seq as id; Last-Event-ID resumes after it', async () => {
    const all = await readEvents(await app.request(`/api/runs/${RUN}/events`, { headers: auth }), events.length);
    expect(all.map((e) => e.id)).toEqual(events.map((_, i) => String(i + 1)));
    expect(all.map((e) => e.event)).toEqual(events.map((e) => e.type));
    expect(JSON.parse(all[0]?.data ?? '{}')).toMatchObject({ type: 'run.created', runId: RUN });
    const resumed = await app.request(`/api/runs/${RUN}/events`, { headers: { ...auth, 'last-event-id': '5' } });
    const rest = await readEvents(resumed, events.length - 5);
    expect(rest.map((e) => e.id)).toEqual(['6', '7', '8']);
    expect(rest[0]?.event).toBe('task.started');
    const bad = await app.request(`/api/runs/${RUN}/events`, { headers: { ...auth, 'last-event-id': 'x' } });
    expect(bad.status).toBe(400);
    expect((await app.request(`/api/runs/none/events`, { headers: auth })).status).toBe(404);
  });

  it('POST /api/runs: a plan the schema refuses is a 400 listing every issue; the body is checked field by field', async () => {
    const post = (body: string) =>
      app.request('/api/runs', { method: 'POST', body, headers: { ...auth, 'content-type': 'application/json' } });
    const invalid = await post(
      JSON.stringify({ plan: { tasks: [{ id: 'a', needs: ['ghost'], run: ['true'] }, { id: 'b' }] } }),
    );
    expect(invalid.status).toBe(400);
    const err = ((await invalid.json()) as { error: { code: string; issues: { message: string }[] } }).error;
    expect(err.code).toBe('WEFT_PLAN_INVALID');
    expect(err.issues.length).toBeGreaterThanOrEqual(2);
    expect(((await (await post('{not json')).json()) as { error: { message: string } }).error.message).toContain(
      'not JSON',
    );
    const unknown = await post(JSON.stringify({ plan: {}, colour: 'red' }));
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('colour');
    const both = await post(JSON.stringify({ plan: { tasks: [] }, planFile: 'x.yaml' }));
    expect(((await both.json()) as { error: { message: string } }).error.message).toContain('give one of');
    const message = async (body: unknown) =>
      ((await (await post(JSON.stringify(body))).json()) as { error: { message: string } }).error.message;
    expect(await message({ goal: 'an app', plan: { tasks: [] } })).toContain('give one of');
    expect(await message({ goal: '  ' })).toBe('`goal` is empty');
    expect(await message({ plan: { tasks: [] }, planner: 'claude' })).toContain('go with `goal`');
    expect(await message({ goal: 'an app', sequential: true })).toContain('`sequential` does not go with `goal`');
    expect((await post(JSON.stringify({ workers: 0, plan: {} }))).status).toBe(400);
    // `workers` beside `sequential` was dropped without a word.
    const paired = await post(
      JSON.stringify({ workers: 3, sequential: true, plan: { tasks: [{ id: 'a', run: 'true' }] } }),
    );
    expect(paired.status).toBe(400);
    expect(((await paired.json()) as { error: { message: string } }).error.message).toBe(
      '`sequential` runs one task at a time: it does not go with `workers`',
    );
    // `vars` are named as the request's field: it said "--set nope: …", a flag the caller never typed.
    const vars = await post(
      JSON.stringify({
        plan: { vars: { level: 1 }, tasks: [{ id: 'a', run: ['true'], when: 'vars.level > 0' }] },
        vars: { nope: 1, level: '0x10' },
      }),
    );
    expect(vars.status).toBe(400);
    expect(((await vars.json()) as { error: { issues: unknown[] } }).error.issues).toEqual([
      expect.objectContaining({ field: 'vars.nope', message: 'the plan has no variable "nope"' }),
      expect.objectContaining({
        field: 'vars.level',
        message: '"0x10": expected a decimal number',
        fix: 'e.g. vars: {"level": 1}',
      }),
    ]);
    const missing = await post(JSON.stringify({ planFile: 'nope.yaml' }));
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('WEFT_PLAN_NOT_FOUND');
  });

  it('POST /api/estimate: what `weft estimate --json` prints (seconds), for an inline plan', async () => {
    const plan = {
      workers: 2,
      tasks: [
        { id: 'a', run: ['true'], estimate: '10s' },
        { id: 'b', run: ['true'], estimate: '10s' },
        { id: 'c', needs: ['a', 'b'], run: ['true'], estimate: '5s' },
      ],
    };
    const res = await app.request('/api/estimate', { method: 'POST', body: JSON.stringify({ plan }), headers: auth });
    expect(await res.json()).toMatchObject({
      tasks: 3,
      workers: 2,
      makespan: 15,
      sequential: 25,
      criticalPath: 15,
      criticalPathTasks: ['a', 'c'],
      measured: false,
    });
  });

  it('approve and reject decide on a waiting task, in the journal, with who decided', async () => {
    const WAIT = '20261205-110000-cafe';
    await store.append(WAIT, [
      {
        type: 'run.created',
        at: T0,
        runId: WAIT,
        plan: 'gated',
        workers: 1,
        mode: 'parallel',
        tasks: ['deploy', 'ship'],
      },
      { type: 'task.ready', at: T0, task: 'deploy' },
      { type: 'approval.waiting', at: T0, task: 'deploy' },
      { type: 'task.ready', at: T0, task: 'ship' },
      { type: 'approval.waiting', at: T0, task: 'ship' },
    ]);
    const post = (path: string, body?: unknown) =>
      app.request(`/api/runs/${WAIT}/tasks/${path}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const ok = await post('deploy/approve');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ runId: WAIT, task: 'deploy', decision: 'approved', running: false });
    // A task that is not waiting any more, a typo, a rejection without a reason: refused, saying why.
    const againRes = await post('deploy/approve');
    expect(againRes.status).toBe(409); // a fine request the task's state refuses
    const again = (await againRes.json()) as { error: { code: string; message: string; hint: string } };
    expect(again.error.code).toBe('WEFT_RUN_STATE');
    expect(again.error.message).toContain('is not waiting for approval (a person already approved it)');
    expect(again.error.hint).toBe('waiting: ship');
    // An unknown task was 400 here but 404 for its log: not found, as an unknown run is.
    const typo = await post('shipp/approve');
    expect(typo.status).toBe(404);
    expect(((await typo.json()) as { error: { hint: string } }).error.hint).toBe('did you mean "ship"?');
    expect((await post('ghost/reject', { reason: 'x' })).status).toBe(404);
    expect((await post('ship/reject', {})).status).toBe(400);
    const no = await post('ship/reject', { reason: 'SQL built from input' });
    expect(no.status).toBe(200);
    const decided = (await store.read(WAIT)).map((e) => e.event).filter((e) => e.type === 'approval.decided');
    expect(decided).toEqual([
      expect.objectContaining({ task: 'deploy', decision: 'approved', by: expect.stringMatching(/\(weft serve\)$/) }),
      expect.objectContaining({ task: 'ship', decision: 'rejected', reason: 'SQL built from input' }),
    ]);
    expect(
      (await app.request(`/api/runs/${WAIT}/tasks/ship/approve`, { method: 'POST', headers: { host: auth.host } }))
        .status,
    ).toBe(401);
  });

  it('cancel and resume refuse with a reason when they cannot act', async () => {
    const cancel = await app.request(`/api/runs/${RUN}/cancel`, { method: 'POST', headers: auth });
    expect(cancel.status).toBe(409); // the request is fine; the run is not running
    expect(((await cancel.clone().json()) as { error: { code: string } }).error.code).toBe('WEFT_RUN_STATE');
    expect(((await cancel.json()) as { error: { message: string } }).error.message).toContain('not running');
    const resume = await app.request(`/api/runs/${RUN}/resume`, {
      method: 'POST',
      body: '{"retry":["../x"]}',
      headers: auth,
    });
    expect(resume.status).toBe(400);
    expect((await app.request(`/api/runs/nope/cancel`, { method: 'POST', headers: auth })).status).toBe(404);
  });

  it('resume refuses a retry task the run does not have with the did-you-mean weft resume gives, and one that succeeded', async () => {
    const retry = async (task: string) => {
      const res = await app.request(`/api/runs/${RUN}/resume`, {
        method: 'POST',
        body: JSON.stringify({ retry: [task] }),
        headers: auth,
      });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    // The hint was dropped: the launched `weft resume` refused, and only its first line came back.
    expect(await retry('tset')).toEqual({
      status: 400,
      body: {
        // The field sent, not `weft resume`'s flag.
        error: { code: 'WEFT_USAGE', message: `retry: no task "tset" in run ${RUN}`, hint: 'did you mean "test"?' },
      },
    });
    expect(await retry('build')).toEqual({
      status: 409,
      body: {
        error: {
          code: 'WEFT_RUN_STATE',
          message: `retry: task "build" already succeeded in run ${RUN}; there is nothing to retry`,
          hint: 'retry runs again a task with resume: never that was cut off; a new run with `cache: false` runs every task again',
        },
      },
    });
    // Nothing was started: the run is as it was.
    expect((await store.read(RUN, 0)).map((e) => e.event.type)).toEqual(events.map((e) => e.type));
  });

  it('a run this process drives (weft run --ui): progress notices on its bus reach the event stream, without an id', async () => {
    const bus = new RunBus();
    const detach = control.attach(RUN, bus);
    const res = await app.request(`/api/runs/${RUN}/events`, {
      headers: { ...auth, 'last-event-id': String(events.length) },
    });
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    const progress = {
      type: 'task.progress',
      at: T0,
      task: 'build',
      attempt: 1,
      progress: { kind: 'text', message: 'thinking' },
    } as const;
    const timer = setInterval(() => bus.publish(progress), 50);
    let text = '';
    while (!text.includes('event: task.progress')) text += (await reader.read()).value ?? '';
    clearInterval(timer);
    await reader.cancel();
    detach();
    const block = text.slice(text.indexOf('event: task.progress')).split('\n\n')[0] ?? '';
    expect(block).not.toMatch(/^id:/m);
    expect(JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '{}')).toEqual(progress);
  });

  it('a route mounted at /mcp later (MCP streamable HTTP) is behind the same token, Host check and body limit', async () => {
    const mounted = createServer({ control, token: TOKEN, maxBodyBytes: 64 });
    mounted.post('/mcp', async (c) => c.json({ got: await c.req.text() }));
    expect((await mounted.request('/mcp', { method: 'POST', body: '{}', headers: { host: '127.0.0.1' } })).status).toBe(
      401,
    );
    expect(
      (await mounted.request('/mcp', { method: 'POST', body: '{}', headers: { ...auth, host: 'evil.example' } }))
        .status,
    ).toBe(403);
    expect((await mounted.request('/mcp', { method: 'POST', body: 'x'.repeat(100), headers: auth })).status).toBe(413);
    const ok = await mounted.request('/mcp', { method: 'POST', body: '{}', headers: auth });
    expect(await ok.json()).toEqual({ got: '{}' });
  });
});

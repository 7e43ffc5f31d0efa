import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject } from '../support/weft-cli.js';
import { api, follow, http, serveChildren, startServe, waitFor, type Server } from '../support/serve.js';
import { openStore } from '../../src/store/open-store.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** `weft serve` over a real socket, driven as a client would: a token, runs started, followed, cancelled, resumed. */

const TIMEOUT = 180_000;

/** A task's log followed (`follow=1`, no attempt) to the stream's end, as its server-sent events. */
async function followedLog(
  s: { readonly base: string; readonly token: string },
  runId: string,
  task: string,
): Promise<{ event: string | undefined; attempt: number; text?: string }[]> {
  const res = await fetch(`${s.base}/api/runs/${runId}/tasks/${task}/log?follow=1`, {
    headers: { authorization: `Bearer ${s.token}` },
  });
  const body = await res.text(); // the stream ends with its `end` event
  return body
    .split('\n\n')
    .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: /^data: (.*)$/m.exec(block)?.[1] }))
    .filter((e) => e.event !== undefined && e.data !== undefined)
    .map((e) => ({ event: e.event, ...(JSON.parse(e.data as string) as { attempt: number; text?: string }) }));
}
const children = serveChildren;

/** A port nothing listens on right now. */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

let project: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  ensureBuilt();
  project = tempProject('weft-serve-');
  env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'weft-state-')), WEFT_TOKEN: '' };
}, TIMEOUT);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('weft serve over a real socket', () => {
  it(
    'prints the dashboard URL with the token in the fragment, keeps the token 0600, and guards the API',
    async () => {
      const s = await startServe(project, env);
      try {
        expect(s.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
        const file = join(env.XDG_STATE_HOME as string, 'weft', 'token');
        expect(readFileSync(file, 'utf8').trim()).toBe(s.token);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        expect((await http(s.base, '/api/runs')).status).toBe(401);
        const foreign = await http(s.base, '/api/runs', {
          headers: { authorization: `Bearer ${s.token}`, host: 'rebound.example' },
        });
        expect(foreign.status).toBe(403);
        const ok = await api(s, '/api/runs');
        expect(ok.status).toBe(200);
        expect(ok.json()).toEqual([]);
        expect(ok.headers['access-control-allow-origin']).toBeUndefined();
        const page = await http(s.base, '/');
        expect(page.status).toBe(200);
        expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
        expect(page.text).not.toContain(s.token);
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'POST /api/runs starts a run that the event stream follows to its end; WEFT_TOKEN never reaches a task',
    async () => {
      const s = await startServe(project, { ...env, WEFT_TOKEN: 'env-token-0123456789abcdef' });
      expect(s.token).toBe('env-token-0123456789abcdef');
      try {
        const plan = {
          name: 'api-run',
          workers: 2,
          tasks: [
            { id: 'one', run: ['sh', '-c', 'echo from-one; env'] },
            { id: 'two', run: ['sh', '-c', 'echo from-two'] },
            { id: 'last', needs: ['one', 'two'], run: ['sh', '-c', 'echo last'] },
          ],
        };
        const started = await api(s, '/api/runs', { plan, isolation: false });
        expect(started.status).toBe(201);
        const { runId } = started.json() as { runId: string };
        const seen = await follow(s, runId, (type) => type === 'run.finished');
        expect(seen[0]?.type).toBe('run.created');
        expect(seen.at(-1)?.data).toMatchObject({ type: 'run.finished', status: 'succeeded' });
        expect(seen.filter((e) => e.type === 'task.succeeded').map((e) => e.data.task)).toEqual(
          expect.arrayContaining(['one', 'two', 'last']),
        );
        const detail = (await api(s, `/api/runs/${runId}`)).json() as { run: { status: string } };
        expect(detail.run.status).toBe('succeeded');
        const log = (await api(s, `/api/runs/${runId}/tasks/one/log`)).json() as { text: string };
        expect(log.text).toContain('from-one');
        expect(log.text).not.toContain(s.token);
        for (const path of ['/api/runs', `/api/runs/${runId}`, `/api/runs/${runId}/report?format=html`])
          expect((await api(s, path)).text).not.toContain(s.token);
        // The plan sent inline is kept for its resume, with its env as given: this user's to read only.
        expect(statSync(join(project, '.weft', 'plans', `${runId}.json`)).mode & 0o777).toBe(0o600);
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'a run that cannot start comes back as one error with the hint the CLI gives',
    async () => {
      const s = await startServe(project, { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' });
      try {
        const plan = { name: 'no-start', tasks: [{ id: 'one', run: ['true'] }] };
        const refused = await api(s, '/api/runs', { plan, isolation: false });
        expect(refused.status).toBe(400);
        expect(refused.json()).toEqual({
          error: {
            code: 'WEFT_USAGE',
            message: 'the run did not start: OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an http(s) URL',
            hint: "set it to the collector's OTLP/HTTP address, e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318",
          },
        });
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'POST /api/runs/:id/cancel stops a running run as Ctrl-C does',
    async () => {
      const s = await startServe(project, env);
      try {
        const plan = { name: 'long', tasks: [{ id: 'wait', run: ['sleep', '120'] }] };
        const { runId } = (await api(s, '/api/runs', { plan, isolation: false })).json() as { runId: string };
        await follow(s, runId, (type) => type === 'task.started');
        const cancel = await api(s, `/api/runs/${runId}/cancel`, {});
        expect(cancel.json()).toEqual({ runId, cancelled: true });
        const end = await follow(s, runId, (type) => type === 'run.finished');
        // Recorded as what it was, not as a Ctrl-C.
        expect(end.at(-1)?.data).toMatchObject({
          status: 'cancelled',
          reason: 'cancelled through weft serve or weft mcp',
        });
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'a run started with a secret var resumes over the API when given it again (vars), and is refused without it',
    async () => {
      const s = await startServe(project, env);
      try {
        const secret = 'sk-resume-secret-7f3a9c';
        const go = join(project, 'go-secret-var');
        const plan = {
          name: 'secret-var',
          vars: { api_token: 'none' },
          tasks: [
            { id: 'wait', run: ['sh', '-c', `while [ ! -f ${go} ]; do sleep 0.1; done`] },
            { id: 'after', needs: ['wait'], when: `vars.api_token == "${secret}"`, run: ['true'] },
          ],
        };
        const started = await api(s, '/api/runs', { plan, isolation: false, vars: { api_token: secret } });
        const { runId } = started.json() as { runId: string };
        await follow(s, runId, (type) => type === 'task.started');
        await api(s, `/api/runs/${runId}/cancel`, {});
        await follow(s, runId, (type) => type === 'run.finished');
        // The cancelled process journals its end, then writes its report and exits: a resume asked in
        // that moment waits for it to let go instead of answering 409. The moment, made certain: a
        // process weft would take for itself holds the run, and lets go 600 ms later.
        const store = await openStore({ dir: join(project, '.weft') });
        await waitFor(async () => (await store.leaseOf(runId)) === undefined, 'the cancelled run to let go');
        const holder = spawn('sh', ['-c', 'sleep 30', 'weft-ending'], { stdio: 'ignore' });
        const owner = `${hostname()}:${holder.pid}`;
        expect(await store.acquireLease(runId, owner, 30_000)).toBe(true);
        setTimeout(() => {
          holder.kill('SIGKILL');
          void store.releaseLease(runId, owner).finally(() => store.close());
        }, 600);
        const refused = await api(s, `/api/runs/${runId}/resume`, {});
        expect(refused.status).toBe(400);
        // Its own stderr line, whole: the launch file before it held a `…`, and a count of bytes read
        // as characters had cut the line's start (`ft: run …`).
        expect((refused.json() as { error: { message: string } }).error.message).toMatch(
          new RegExp(`^the run did not start: run ${runId}: var api_token was given with --set`),
        );
        writeFileSync(go, '');
        const resumed = await api(s, `/api/runs/${runId}/resume`, { vars: { api_token: secret } });
        expect(resumed.status).toBe(200);
        let finishes = 0; // the cancel's, then the resume's
        const end = await follow(s, runId, (type) => type === 'run.finished' && ++finishes === 2);
        expect(end.at(-1)?.data).toMatchObject({ status: 'succeeded' });
        // The condition read the real value: `after` ran, not skipped.
        expect(end.some((e) => e.type === 'task.succeeded' && e.data.task === 'after')).toBe(true);
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    "following a task's log (follow=1, no attempt) goes on with its retry, to the attempt that ends it",
    async () => {
      const s = await startServe(project, env);
      try {
        const flaky = 'echo "attempt $WEFT_ATTEMPT"; sleep 1; test "$WEFT_ATTEMPT" -ge 2';
        const plan = {
          name: 'retried',
          tasks: [{ id: 'flaky', run: ['sh', '-c', flaky], retries: 1, backoff: { initial: '1s' } }],
        };
        const { runId } = (await api(s, '/api/runs', { plan, isolation: false })).json() as { runId: string };
        const events = await followedLog(s, runId, 'flaky');
        const logs = events.filter((e) => e.event === 'log');
        expect(logs.map((e) => [e.attempt, e.text])).toEqual([
          [1, 'attempt 1\n'],
          [2, 'attempt 2\n'],
        ]);
        expect(events.at(-1)).toMatchObject({ event: 'end', attempt: 2 });
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    "following the log of a task the plan's loop repeats goes on into each iteration's attempt, until the loop ends",
    async () => {
      const s = await startServe(project, env);
      try {
        const veto = `echo "{\\"veto\\": \\"$([ $WEFT_ITERATION -ge 3 ] || echo no)\\"}" > "$WEFT_OUTPUT"`;
        const plan = {
          name: 'looped',
          tasks: [
            { id: 'code', run: ['sh', '-c', 'echo "code $WEFT_ITERATION"; sleep 1'] },
            {
              id: 'review',
              needs: ['code'],
              outputSchema: { type: 'object' },
              run: ['sh', '-c', `sleep 0.5; ${veto}`],
            },
            { id: 'approve', gate: '!tasks.review.output.veto' },
          ],
          loop: { repeat: ['code', 'review', 'approve'], until: 'tasks.approve.passed', max: 4 },
        };
        const { runId } = (await api(s, '/api/runs', { plan, isolation: false })).json() as { runId: string };
        const events = await followedLog(s, runId, 'code');
        expect(events.filter((e) => e.event === 'log').map((e) => [e.attempt, e.text])).toEqual([
          [1, 'code 1\n'],
          [2, 'code 2\n'],
          [3, 'code 3\n'],
        ]);
        expect(events.at(-1)).toMatchObject({ event: 'end', attempt: 3 });
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    "a password the plan sets in env is *** in the live log, over the API and MCP's logs tool, while the attempt runs",
    async () => {
      const s = await startServe(project, env);
      const client = new Client({ name: 'weft-serve-test', version: '1.0.0' });
      const go = join(project, 'go-password');
      try {
        const password = 'hunter2-plan-password';
        const script = `echo "pw=$DB_PASSWORD"; while [ ! -e ${go} ]; do sleep 0.1; done`;
        const plan = {
          name: 'secret',
          tasks: [{ id: 't', env: { DB_PASSWORD: password }, run: ['sh', '-c', script] }],
        };
        const { runId } = (await api(s, '/api/runs', { plan, isolation: false })).json() as { runId: string };
        let log = { text: '', ended: true };
        await waitFor(async () => {
          log = (await api(s, `/api/runs/${runId}/tasks/t/log`)).json() as typeof log;
          return log.text !== '';
        }, 'the log');
        expect(log).toMatchObject({ text: 'pw=***\n', ended: false });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${s.base}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${s.token}` } },
          }),
        );
        const logs = (await client.callTool({ name: 'logs', arguments: { runId, task: 't' } })) as CallToolResult;
        expect(logs.structuredContent).toMatchObject({ text: 'pw=***\n' });
        const report = await api(s, `/api/runs/${runId}/report?format=md`);
        expect(report.text).not.toContain(password);
      } finally {
        writeFileSync(go, '');
        await client.close();
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'a run started over the API outlives the server; killed too, a new server resumes it from the journal',
    async () => {
      const go = join(project, 'go');
      const plan = {
        name: 'survivor',
        tasks: [
          { id: 'first', run: ['sh', '-c', 'echo first'] },
          { id: 'gate', needs: ['first'], run: ['sh', '-c', `while [ ! -f ${go} ]; do sleep 0.1; done; echo through`] },
        ],
      };
      const s1 = await startServe(project, env);
      const { runId } = (await api(s1, '/api/runs', { plan, isolation: false })).json() as { runId: string };
      await follow(s1, runId, (type, d) => type === 'task.started' && d.task === 'gate');
      await s1.stop('SIGKILL');

      const s2 = await startServe(project, env);
      try {
        const listed = (await api(s2, '/api/runs')).json() as { id: string; status: string; driven: boolean }[];
        expect(listed.find((r) => r.id === runId)).toMatchObject({ status: 'running', driven: true });
        // The run's own process dies too (a reboot): its coordinator is gone, the journal says running.
        const store = await openStore({ dir: join(project, '.weft') });
        const owner = (await store.leaseOf(runId))?.owner ?? '';
        await store.close();
        process.kill(Number(owner.split(':')[1]), 'SIGKILL');
        await waitFor(async () => {
          const runs = (await api(s2, '/api/runs')).json() as { id: string; driven: boolean }[];
          return runs.find((r) => r.id === runId)?.driven === false;
        }, 'the run to show as not driven');
        const resumed = await api(s2, `/api/runs/${runId}/resume`, {});
        expect(resumed.status).toBe(200);
        writeFileSync(go, '');
        const end = await follow(s2, runId, (type) => type === 'run.finished');
        expect(end.at(-1)?.data).toMatchObject({ status: 'succeeded' });
        expect(end.some((e) => e.type === 'run.resumed')).toBe(true);
        const detail = (await api(s2, `/api/runs/${runId}`)).json() as { run: { resumes: number } };
        expect(detail.run.resumes).toBe(1);
        // The request is fine; the run's state (succeeded) refuses it.
        const again = await api(s2, `/api/runs/${runId}/resume`, {});
        expect(again.status).toBe(409);
        expect(again.json()).toMatchObject({ error: { code: 'WEFT_RUN_STATE' } });
      } finally {
        await s2.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'weft run --ui serves the dashboard for the run it starts, while it runs',
    async () => {
      const dir = tempProject('weft-ui-');
      const go = join(dir, 'go');
      writeFileSync(
        join(dir, 'plan.yaml'),
        `name: ui\ntasks:\n  - id: gate\n    run: [sh, -c, 'while [ ! -f ${go} ]; do sleep 0.1; done']\n`,
      );
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [CLI, 'run', 'plan.yaml', '--ui', '--port', String(port), '--no-isolation'],
        {
          cwd: dir,
          env: { ...process.env, NO_COLOR: '1', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const done = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      await waitFor(() => /dashboard for run (\S+) at (\S+)/.test(err), 'the dashboard URL');
      const [, runId, url] = /dashboard for run (\S+) at (\S+)/.exec(err) ?? [];
      const u = new URL(url as string);
      expect(u.port).toBe(String(port));
      const params = new URLSearchParams(u.hash.slice(1));
      expect(params.get('run')).toBe(runId);
      const s = { base: u.origin, token: params.get('token') ?? '' } as Server;
      await waitFor(async () => (await api(s, `/api/runs/${runId}`)).status === 200, 'the run in the journal');
      const detail = (await api(s, `/api/runs/${runId}`)).json() as { run: { status: string }; driven: boolean };
      expect(detail).toMatchObject({ run: { status: 'running' }, driven: true });
      writeFileSync(go, '');
      expect(await done).toBe(0);
      expect(existsSync(join(dir, '.weft'))).toBe(true);
    },
    TIMEOUT,
  );

  it(
    '--json prints the address as one JSON line; a port in use is one line naming it, exit code 2',
    async () => {
      const s = await startServe(project, env);
      try {
        const port = new URL(s.base).port;
        const child = spawn(process.execPath, [CLI, 'serve', '--json', '-p', port], {
          cwd: project,
          env: { ...process.env, ...env },
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number | null>((r) => child.on('exit', r));
        expect(code).toBe(2);
        expect(JSON.parse(out)).toMatchObject({
          error: { code: 'WEFT_USAGE', message: expect.stringContaining('EADDRINUSE') },
        });
        const json = spawn(process.execPath, [CLI, 'serve', '--json', '-p', '0'], {
          cwd: project,
          env: { ...process.env, ...env },
        });
        children.push(json);
        const line = await new Promise<string>((r) => json.stdout.once('data', (d: Buffer) => r(d.toString())));
        expect(JSON.parse(line)).toMatchObject({
          type: 'serve.listening',
          url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          dashboard: expect.stringContaining('/#token='),
        });
        json.kill('SIGINT');
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    '--host 0.0.0.0 listens on every interface: it warns that the Host header is not checked, and the token still guards it',
    async () => {
      const s = await startServe(project, env, ['--host', '0.0.0.0']);
      try {
        expect(s.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=/);
        // 127.0.0.1 opens it on this machine only: it also printed a URL other machines can open,
        // at this machine's network address, with the token as the dashboard's URL has it.
        const address = Object.values(networkInterfaces())
          .flatMap((l) => l ?? [])
          .find((i) => !i.internal && i.family === 'IPv4')?.address;
        if (address !== undefined) {
          const port = new URL(s.base).port;
          const remote = `http://${address}:${port}/#token=${s.token}`;
          await waitFor(() => s.stdout().includes('API'), 'the API line');
          expect(s.stdout()).toContain(`\n  from other machines: ${remote}`);
          expect(s.stdout()).toContain(`\n  API http://127.0.0.1:${port}/api/ `);
          const there = await http(`http://${address}:${port}`, '/api/runs', {
            headers: { authorization: `Bearer ${s.token}`, host: `${address}:${port}` },
          });
          expect(there.status).toBe(200);
        }
        await waitFor(
          () => s.stderr().includes('listening on every interface (0.0.0.0): the Host header is not checked'),
          'the warning',
        );
        const other = await http(s.base, '/api/runs', {
          headers: { authorization: `Bearer ${s.token}`, host: 'my-box.lan:4873' },
        });
        expect(other.status).toBe(200);
        expect((await http(s.base, '/api/runs', { headers: { host: 'my-box.lan' } })).status).toBe(401);
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    "serves MCP's streamable HTTP at /mcp behind the same token: the SDK client lists weft's tools",
    async () => {
      const s = await startServe(project, env);
      try {
        const init = {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        };
        const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
        const bare = await http(s.base, '/mcp', { method: 'POST', headers, body: JSON.stringify(init) });
        expect(bare.status).toBe(401);
        const client = new Client({ name: 'weft-serve-test', version: '1.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`${s.base}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${s.token}` } },
          }),
        );
        try {
          const { tools } = await client.listTools();
          expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['run', 'status', 'approve', 'cancel']));
          const status = (await client.callTool({ name: 'status', arguments: { runId: 'nope' } })) as CallToolResult;
          expect(status.isError).toBe(true);
        } finally {
          await client.close();
        }
      } finally {
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'one run control behind /api and /mcp: a run started by the MCP tool is cancelled over the API, and no task sees the token',
    async () => {
      const token = 'serve-and-mcp-token-0123456789';
      const s = await startServe(project, { ...env, WEFT_TOKEN: token });
      const client = new Client({ name: 'weft-serve-test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${s.base}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      try {
        const plan = {
          name: 'from-mcp',
          tasks: [{ id: 'long', run: ['sh', '-c', 'echo "token=${WEFT_TOKEN:-none}"; sleep 120'] }],
        };
        const started = (await client.callTool({ name: 'run', arguments: { plan } })) as CallToolResult;
        expect(started.isError, JSON.stringify(started.content)).toBeFalsy();
        const { runId } = started.structuredContent as { runId: string };
        const runs = (await api(s, '/api/runs')).json() as { id: string }[];
        expect(runs.map((r) => r.id)).toContain(runId);
        await waitFor(
          async () => ((await api(s, `/api/runs/${runId}/tasks/long/log`)).json() as { text: string }).text !== '',
          'the task log',
        );
        expect(((await api(s, `/api/runs/${runId}/tasks/long/log`)).json() as { text: string }).text).toBe(
          'token=none\n',
        );
        const cancel = await api(s, `/api/runs/${runId}/cancel`, {});
        expect(cancel.json()).toEqual({ runId, cancelled: true });
        const end = await follow(s, runId, (type) => type === 'run.finished');
        expect(end.at(-1)?.data).toMatchObject({ status: 'cancelled' });
        const again = (await client.callTool({ name: 'cancel', arguments: { runId } })) as CallToolResult;
        expect(again.structuredContent).toMatchObject({ runId, status: 'cancelled', stopping: false });
      } finally {
        await client.close();
        await s.stop();
      }
    },
    TIMEOUT,
  );

  it('bad flags: a line naming the flag, then its fix, exit code 2', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', 'abc'], {
      cwd: project,
      env: { ...process.env, ...env },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toBe(
      'weft: --port expects a port number from 0 to 65535, got "abc"\n  e.g. --port 8080, or --port 0 for any free port\n',
    );
  });
});

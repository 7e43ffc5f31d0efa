/**
 * The MCP streamable HTTP endpoint (what `weft serve` mounts at /mcp) over a real socket on
 * 127.0.0.1, behind its bearer token: the SDK's HTTP client with the token drives a real run
 * (a detached `weft run` of the built CLI); requests without it, from a foreign Host, or too big
 * are refused before any tool runs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRunControl } from '../../src/cli/open-run-control.js';
import { mcpHttpHandler } from '../../src/mcp/http-handler.js';
import { CLI, ensureBuilt, tempProject } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const servers: Server[] = [];
const controls: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await Promise.all(controls.splice(0).map((c) => c.close()));
});

async function serve(token: string) {
  const repo = realpathSync(tempProject('weft-mcp-http-'));
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
  const control = await openRunControl(repo, CLI);
  controls.push(control);
  const server = createServer((req, res) => {
    void mcpHttpHandler({
      control,
      version: '0.0.0-test',
      token,
      allowedHosts: [`127.0.0.1:${(server.address() as AddressInfo).port}`],
      maxBodyBytes: 64 * 1024,
    })(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { repo, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp` };
}

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

describe('weft MCP over streamable HTTP', () => {
  it('refuses without the token (401), with a wrong one (401), from a foreign Host (403), a huge body (413)', async () => {
    const token = randomBytes(24).toString('hex');
    const { url } = await serve(token);
    const post = (headers: Record<string, string>, body = JSON.stringify(INIT)) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
      });
    const none = await post({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await none.text()).not.toContain(token);
    expect((await post({ authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await post({ authorization: token })).status).toBe(401);
    // fetch will not send another Host: a raw request does, as a DNS-rebinding page's would.
    const foreign = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, host: 'evil.example' } });
      req.on('response', (res) => resolve(res.resume().statusCode)).on('error', reject);
      req.end(JSON.stringify(INIT));
    });
    expect(foreign).toBe(403);
    const huge = JSON.stringify({ ...INIT, pad: 'x'.repeat(100 * 1024) });
    expect((await post({ authorization: `Bearer ${token}` }, huge)).status).toBe(413);
    expect((await post({ authorization: `Bearer ${token}` }, '{not json')).status).toBe(400);
    // With the token, the same request initializes.
    const ok = await post({ authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe('weft');
  }, 60_000);

  it('with the token, the SDK client lists the tools and drives a run to its result', async () => {
    const token = randomBytes(24).toString('hex');
    const { repo, url } = await serve(token);
    writeFileSync(
      join(repo, 'plan.yaml'),
      JSON.stringify({ name: 'http', tasks: [{ id: 'a', run: ['echo', 'over http'] }] }),
    );
    const client = new Client({ name: 'weft-http-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('build_and_deploy');
      const call = async (name: string, args: Record<string, unknown>) => {
        const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
        const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
        return { isError: r.isError === true, text };
      };
      const bad = await call('status', {});
      expect(bad).toMatchObject({ isError: true });
      expect(bad.text).toMatch(/runId is required/);
      const started = await call('run', { planFile: 'plan.yaml' });
      expect(started.isError, started.text).toBe(false);
      const { runId } = JSON.parse(started.text) as { runId: string };
      const end = Date.now() + 60_000;
      let status = '';
      while (Date.now() < end) {
        status = (JSON.parse((await call('status', { runId })).text) as { summary: { status: string } }).summary.status;
        if (status !== 'running') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe('succeeded');
      const logs = JSON.parse((await call('logs', { runId, task: 'a' })).text) as { text: string };
      expect(logs.text).toBe('over http\n');
    } finally {
      await client.close();
    }
  }, 90_000);
});

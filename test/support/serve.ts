import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, type FoundChromium } from './chromium.js';
import { CLI } from './weft-cli.js';

/** Helpers for tests of `weft serve` over a real socket (test/cli/serve.test.ts, the dashboard's browser test). */

/** Every `weft serve` started here, for afterAll to kill. */
export const serveChildren: ChildProcess[] = [];
const children = serveChildren;

export interface Server {
  readonly child: ChildProcess;
  readonly base: string;
  readonly token: string;
  readonly dashboard: string;
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** What it wrote on stdout so far. */
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `weft serve -p 0` in `project`, and resolves with the URL it prints. */
export async function startServe(
  project: string,
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '-p', '0', ...args], {
    cwd: project,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const dashboard = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /weft serve: (\S+)/.exec(out);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`weft serve exited ${code}: ${err}`)));
  });
  const url = new URL(dashboard);
  const token = new URLSearchParams(url.hash.slice(1)).get('token') ?? '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    child,
    base: url.origin,
    token,
    dashboard,
    stderr: () => err,
    stdout: () => out,
    stop: async (signal = 'SIGINT') => {
      child.kill(signal);
      await exited;
    },
  };
}

/** An HTTP request with any headers (fetch does not let a client choose `Host`). */
export function http(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string; json: () => unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const api = (s: Server, path: string, body?: unknown) =>
  http(s.base, path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** Follows the run's event stream until `until` says stop; returns the events seen. */
export async function follow(
  s: Server,
  runId: string,
  until: (type: string, data: Record<string, unknown>) => boolean,
) {
  const controller = new AbortController();
  const res = await fetch(`${s.base}/api/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${s.token}` },
    signal: controller.signal,
  });
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const seen: { type: string; data: Record<string, unknown> }[] = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (type === undefined || data === undefined) continue;
      const parsed = JSON.parse(data) as Record<string, unknown>;
      seen.push({ type, data: parsed });
      if (until(type, parsed)) {
        controller.abort();
        return seen;
      }
    }
  }
  return seen;
}

export const waitFor = async (ok: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/**
 * `weft serve` on `project` (no token, a state folder of its own) and a headless Chromium page;
 * console and page errors go to `errors`. Close it all with {@link closeServedPage}.
 */
export async function servedPage(
  project: string,
  found: FoundChromium,
  errors: string[],
): Promise<{ server: Server; browser: Browser; page: Page }> {
  const server = await startServe(project, {
    XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'weft-state-')),
    WEFT_TOKEN: '',
  });
  const browser = await launchChromium(found);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { server, browser, page };
}

/** Closes what {@link servedPage} opened, and SIGKILLs any `weft serve` of the file still running. */
export async function closeServedPage(s: { server?: Server; browser?: Browser }): Promise<void> {
  await s.browser?.close();
  await s.server?.stop();
  for (const c of serveChildren) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

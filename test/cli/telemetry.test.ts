import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject, weft, type CliResult } from '../support/weft-cli.js';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { FakeLlmServer, step } from '../support/fake-llm/fake-llm-server.js';

beforeAll(ensureBuilt);

const SECRET = 'sk-test-otel-9f8e7d6c5b';
const HEADER_SECRET = 'collector-key-4a3b2c1d';
let receivers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver() {
  const r = await startOtlpReceiver();
  receivers.push(r);
  return r;
}

/** The environment of a run without any OTEL_* variable of the machine running the tests. */
const clean = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  WEFT_DATABASE_URL: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
  OTEL_EXPORTER_OTLP_HEADERS: undefined,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: undefined,
  OTEL_SERVICE_NAME: undefined,
  OTEL_SDK_DISABLED: undefined,
  OTEL_TRACES_EXPORTER: undefined,
  ...env,
});

/** A plan: `build` → `test` (fails once, then passes on its retry) and `lint` (skipped by its condition). */
function project(): string {
  const dir = tempProject('weft-otel-');
  const plan = {
    name: 'traced',
    vars: { lint: false },
    tasks: [
      { id: 'build', title: `build with ${SECRET}`, run: ['sh', '-c', 'echo built'] },
      {
        id: 'test',
        needs: ['build'],
        retries: 1,
        backoff: { initial: '10ms', jitter: false },
        run: ['sh', '-c', `if [ -f once ]; then echo ok; else touch once; echo "bad key $MY_API_KEY" >&2; exit 3; fi`],
      },
      { id: 'lint', needs: ['build'], when: 'vars.lint', run: ['true'] },
    ],
  };
  writeFileSync(join(dir, 'plan.yaml'), JSON.stringify(plan));
  return dir;
}

const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
const task = (spans: ReceivedSpan[], id: string) =>
  byName(spans, 'weft.task').find((s) => s.attributes['weft.task.id'] === id) as ReceivedSpan;

describe('weft run with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('an API task: gen_ai.request.model is the model asked for, gen_ai.response.model the one the API says answered', async (ctx) => {
    const otlp = await receiver();
    const llm = await FakeLlmServer.start();
    ctx.onTestFinished(() => llm.close());
    llm.enqueue('anthropic', step.text('hi', { model: 'claude-sonnet-4-6-20270101', usage: { input: 10, output: 2 } }));
    llm.enqueue('openai', step.text('hello', { model: 'q4/served', usage: { input: 1000, output: 500 } }));
    const dir = tempProject('weft-otel-llm-');
    const plan = {
      name: 'asked',
      tasks: [
        { id: 'claude', executor: 'anthropic', model: 'claude-sonnet-4-6', prompt: 'Say hi' },
        { id: 'local', executor: 'openai', model: 'local-model-7b', prompt: 'Say hello' },
      ],
    };
    writeFileSync(join(dir, 'plan.yaml'), JSON.stringify(plan));
    writeFileSync(
      join(dir, 'weft.config.yaml'),
      `executors:\n  anthropic: { baseUrl: "${llm.url}" }\n  openai: { baseUrl: "${llm.url}/v1" }\npricing:\n  local-model-7b: { input: 2, output: 10 }\n`,
    );
    const env = clean({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, ANTHROPIC_API_KEY: 'k-test', OPENAI_API_KEY: 'k-test' });
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(llm.verify()).toEqual([]);
    const attempt = (id: string) =>
      byName(otlp.spans, 'weft.attempt').find((s) => s.attributes['weft.task.id'] === id)?.attributes;
    expect(task(otlp.spans, 'claude').attributes['gen_ai.request.model']).toBe('claude-sonnet-4-6');
    expect(attempt('claude')).toMatchObject({
      'gen_ai.response.model': 'claude-sonnet-4-6-20270101',
      'gen_ai.usage.input_tokens': 10,
    });
    expect(task(otlp.spans, 'local').attributes['gen_ai.request.model']).toBe('local-model-7b');
    expect(attempt('local')).toMatchObject({ 'gen_ai.response.model': 'q4/served' });
    // The price of the model asked for still prices an answer from a model it has no price for.
    const md = await weft(['report', '--format', 'md'], { cwd: dir });
    expect(md.stdout).not.toContain('q4/served unpriced');
    const local = (
      JSON.parse((await weft(['status', '--json'], { cwd: dir })).stdout) as {
        tasks: { id: string; usage?: { costUsd: number } }[];
      }
    ).tasks.find((t) => t.id === 'local');
    expect(local?.usage?.costUsd).toBeCloseTo(0.007, 9); // 1000 × $2/M + 500 × $10/M
  }, 60_000);

  it('sends one trace: run → task → attempt, with the attributes, and no secret', async () => {
    const otlp = await receiver();
    const dir = project();
    const env = clean({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${HEADER_SECRET}`,
      OTEL_SERVICE_NAME: 'weft-ci',
      MY_API_KEY: SECRET,
    });
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    // Flushed before the CLI exited: every span is here when it has.
    const { spans } = otlp;
    expect(otlp.requests.every((r) => r.path === '/v1/traces')).toBe(true);
    expect(otlp.requests[0]?.headers['x-api-key']).toBe(HEADER_SECRET);
    expect(otlp.requests[0]?.headers['content-type']).toContain('application/json');
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const [runSpan, ...more] = byName(spans, 'weft.run');
    expect(more).toEqual([]);
    expect(runSpan?.parentSpanId ?? '').toBe('');
    expect(runSpan?.attributes).toMatchObject({
      'weft.plan.name': 'traced',
      'weft.run.status': 'succeeded',
      'weft.run.tasks': 3,
    });
    expect(runSpan?.resource['service.name']).toBe('weft-ci');
    const tasks = byName(spans, 'weft.task');
    expect(tasks.map((t) => t.attributes['weft.task.id']).sort()).toEqual(['build', 'lint', 'test']);
    for (const t of tasks) expect(t.parentSpanId).toBe(runSpan?.spanId);
    expect(task(spans, 'build').attributes).toMatchObject({
      'weft.executor': 'shell',
      'weft.task.outcome': 'succeeded',
    });
    expect(task(spans, 'lint').attributes).toMatchObject({
      'weft.task.outcome': 'skipped',
      'weft.skip.cause': 'condition',
    });
    const attempts = byName(spans, 'weft.attempt');
    expect(attempts).toHaveLength(3); // build 1, test 1 and 2
    for (const a of attempts) expect(a.parentSpanId).toBe(task(spans, String(a.attributes['weft.task.id'])).spanId);
    const testAttempts = attempts
      .filter((a) => a.attributes['weft.task.id'] === 'test')
      .sort((x, y) => Number(x.attributes['weft.attempt']) - Number(y.attributes['weft.attempt']));
    expect(testAttempts[0]?.attributes).toMatchObject({
      'weft.attempt.outcome': 'retrying',
      'process.exit.code': 3,
      'weft.executor': 'shell',
    });
    expect(String(testAttempts[0]?.attributes['weft.retry.reason'])).toMatch(/3/);
    expect(testAttempts[1]?.attributes).toMatchObject({ 'weft.attempt.outcome': 'succeeded', 'process.exit.code': 0 });
    for (const a of attempts) expect(typeof a.attributes['weft.worker.slot']).toBe('number');
    expect(task(spans, 'test').events.map((e) => e.name)).toEqual(['weft.retry']);
    // Times: each attempt inside its task, each task inside the run.
    const t = (s: ReceivedSpan | undefined, k: 'startTimeUnixNano' | 'endTimeUnixNano') => BigInt(s?.[k] ?? 0);
    for (const a of attempts) {
      const parent = task(spans, String(a.attributes['weft.task.id']));
      expect(t(a, 'startTimeUnixNano') >= t(parent, 'startTimeUnixNano')).toBe(true);
      expect(t(a, 'endTimeUnixNano') <= t(parent, 'endTimeUnixNano')).toBe(true);
    }
    const everything = otlp.requests.map((r) => r.body).join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(HEADER_SECRET);
    expect(task(spans, 'build').attributes['weft.task.title']).toBe('build with ***');
  }, 60_000);

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given, over the generic endpoint', async () => {
    const otlp = await receiver();
    const dir = project();
    const env = clean({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/never',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/custom/traces`,
    });
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(otlp.requests.map((r) => r.path)).toContain('/custom/traces');
    expect(otlp.spans.length).toBeGreaterThanOrEqual(7);
    expect(otlp.spans[0]?.resource['service.name']).toBe('weft');
  }, 60_000);

  it('flushes the spans of a run stopped by Ctrl-C', async () => {
    const otlp = await receiver();
    const dir = tempProject('weft-otel-int-');
    writeFileSync(
      join(dir, 'plan.yaml'),
      JSON.stringify({ name: 'long', tasks: [{ id: 'sleepy', run: ['sh', '-c', 'echo started; sleep 60'] }] }),
    );
    const child = spawn(process.execPath, [CLI, 'run', 'plan.yaml', '--no-progress', '--no-isolation'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...clean({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const done = new Promise<CliResult>((r) =>
      child.on('close', (code, signal) => r({ code, signal, stdout, stderr: '' })),
    );
    // Started: the plain progress line names the task (polled, no fixed sleep).
    for (let i = 0; i < 600 && !/sleepy/.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    const result = await done;
    expect(result.code).not.toBe(0);
    const runSpan = byName(otlp.spans, 'weft.run')[0];
    expect(runSpan?.attributes['weft.run.status']).toBe('cancelled');
    expect(runSpan?.status.code).toBe(2);
    const attempt = byName(otlp.spans, 'weft.attempt')[0];
    expect(attempt?.attributes['weft.attempt.outcome']).toBe('cancelled');
    expect(attempt?.parentSpanId).toBe(task(otlp.spans, 'sleepy').spanId);
  }, 90_000);

  it('a malformed endpoint is one line and exit code 2, before anything runs', async () => {
    const dir = project();
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], {
      cwd: dir,
      env: clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an http(s) URL');
    expect(run.stderr).toContain('http://localhost:4318');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a collector that is down costs one warning, not the run, and is not waited out', async () => {
    const dir = project();
    const started = Date.now();
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], {
      cwd: dir,
      env: clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/weft: telemetry: could not send spans/g) ?? []).toHaveLength(1);
    expect(run.stderr).toContain('gave up waiting at exit');
    expect(run.stdout).toContain('3 tasks');
    // The exporter retries a refused connection for ~10 s; the run used to end only then (9 s).
    expect(Date.now() - started).toBeLessThan(7000);
    // A failed run keeps its exit code when weft ends the process itself.
    writeFileSync(join(dir, 'fail.yaml'), JSON.stringify({ tasks: [{ id: 'bad', run: ['false'] }] }));
    const failed = await weft(['run', 'fail.yaml', '--no-progress', '--no-isolation'], {
      cwd: dir,
      env: clean({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
    });
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toContain('gave up waiting at exit');
  }, 60_000);

  it('OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none send nothing', async () => {
    const otlp = await receiver();
    for (const off of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }]) {
      const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], {
        cwd: project(),
        env: clean({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, ...off }),
      });
      expect(run.code, run.stderr).toBe(0);
    }
    expect(otlp.requests).toEqual([]);
  }, 60_000);

  it('without an endpoint, no OpenTelemetry module is loaded', async () => {
    // An ESM loader hook that names every @opentelemetry module the CLI resolves.
    const hook = join(tempProject('weft-otel-hook-'), 'hook.mjs');
    writeFileSync(
      hook,
      [
        "import { register } from 'node:module';",
        `register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(
          "import { writeSync } from 'node:fs'; export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('@opentelemetry')) writeSync(2, 'LOADED ' + r.url + '\\n'); return r; }",
        )}));`,
      ].join('\n'),
    );
    const dir = project();
    const opts = { cwd: dir, env: clean({ NODE_OPTIONS: `--import ${hook}` }) };
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], opts);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('LOADED');
    // The probe works: with an endpoint the same run loads the SDK.
    const otlp = await receiver();
    const traced = await weft(['run', 'plan.yaml', '--no-progress', '--no-isolation'], {
      ...opts,
      cwd: project(),
      env: { ...opts.env, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url },
    });
    expect(traced.stderr).toContain('LOADED');
  }, 60_000);
});

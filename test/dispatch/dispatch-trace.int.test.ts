import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { needService } from '../support/need-service.js';
import { startOtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { REDIS, startWorker, stopAll, uniquePrefix, until, type Proc } from './dispatch-kit.js';

/**
 * `weft run --dispatch` and a real `weft worker` process, both exporting to one local OTLP/HTTP
 * receiver: the worker continues the trace its job carries, so the run is one trace.
 */
const procs: (Proc | undefined)[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopAll(procs.splice(0));
  await Promise.all(closers.splice(0).map((c) => c()));
});
beforeAll(() => {
  needService('redis');
  ensureBuilt();
}, 300_000);

/** The OTEL_* variables of the machine running the tests must not send spans elsewhere. */
const otel = (url: string): NodeJS.ProcessEnv => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
  OTEL_EXPORTER_OTLP_HEADERS: '',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: '',
  OTEL_SDK_DISABLED: '',
  OTEL_TRACES_EXPORTER: '',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

const attempt = (s: ReceivedSpan): string =>
  `${String(s.attributes['weft.task.id'])}#${String(s.attributes['weft.attempt'])}`;

describe('one trace across the coordinator and its workers', () => {
  it("each worker span is a child of the coordinator's attempt span, in the run's one trace", async () => {
    const receiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const project = tempProject('weft-dispatch-trace-');
    const prefix = uniquePrefix();
    const plan = {
      name: 'traced-remote',
      tasks: [
        { id: 'build', run: ['sh', '-c', 'echo built'] },
        {
          id: 'test',
          needs: ['build'],
          retries: 1,
          backoff: { initial: '10ms', jitter: false },
          run: ['sh', '-c', 'if [ -f once ]; then echo ok; else touch once; exit 3; fi'],
        },
      ],
    };
    writeFileSync(join(project, 'plan.json'), JSON.stringify(plan));
    const env = { ...otel(receiver.url), OTEL_SERVICE_NAME: 'weft-coordinator' };
    const worker = await startWorker(project, 'w1', prefix, [], {
      ...otel(receiver.url),
      OTEL_SERVICE_NAME: 'weft-worker',
    });
    procs.push(worker);
    const run = await weft(['run', 'plan.json', '--dispatch', REDIS, '--queue-prefix', prefix, '--json'], {
      cwd: project,
      env,
      timeoutMs: 300_000,
    });
    expect(run.code, run.stderr).toBe(0);
    // The worker sends its spans in batches; stopping it (SIGTERM) flushes what is left.
    await stopAll(procs.splice(0));
    await until(
      () => receiver.spans.filter((s) => s.name === 'weft.worker.attempt').length >= 3,
      'the worker spans',
      30_000,
    );

    const spans = receiver.spans;
    const coordinator = spans.filter((s) => s.resource['service.name'] === 'weft-coordinator');
    const remote = spans.filter((s) => s.resource['service.name'] === 'weft-worker');
    expect(coordinator.map((s) => s.name).sort()).toEqual([
      'weft.attempt',
      'weft.attempt',
      'weft.attempt',
      'weft.run',
      'weft.task',
      'weft.task',
    ]);
    expect(remote.map((s) => s.name)).toEqual(['weft.worker.attempt', 'weft.worker.attempt', 'weft.worker.attempt']);
    // One trace for the whole run, coordinator and worker alike.
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    // build#1, test#1 (exit 3), test#2: each worker span's parent is the coordinator's span of that attempt.
    const attempts = new Map(coordinator.filter((s) => s.name === 'weft.attempt').map((s) => [attempt(s), s]));
    expect([...attempts.keys()].sort()).toEqual(['build#1', 'test#1', 'test#2']);
    for (const s of remote) {
      const parent = attempts.get(attempt(s));
      expect(parent, attempt(s)).toBeDefined();
      expect(s.parentSpanId, attempt(s)).toBe(parent?.spanId);
      expect(s.attributes).toMatchObject({
        'weft.executor': 'shell',
        'messaging.system': 'bullmq',
        'messaging.destination.name': 'shell',
      });
      expect(String(s.attributes['weft.worker.id'])).toMatch(/-\d+-[0-9a-f]{4}$/);
    }
    const failed = remote.find((s) => attempt(s) === 'test#1');
    expect(failed?.attributes).toMatchObject({ 'weft.attempt.outcome': 'failed', 'process.exit.code': 3 });
    expect(failed?.status.code).toBe(2); // ERROR
    expect(remote.find((s) => attempt(s) === 'test#2')?.attributes['weft.attempt.outcome']).toBe('succeeded');
    // The worker's span lies within its parent's time. The coordinator's attempt spans take the
    // journal's times, whole milliseconds (floored), the worker's are finer: its end may fall within
    // the millisecond after its parent's recorded end.
    const MS = 1_000_000n;
    for (const s of remote) {
      const parent = attempts.get(attempt(s)) as ReceivedSpan;
      expect(BigInt(s.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(parent.startTimeUnixNano));
      expect(BigInt(s.endTimeUnixNano)).toBeLessThan(BigInt(parent.endTimeUnixNano) + MS);
    }
  }, 400_000);

  it('a worker without an endpoint still runs traced jobs (and sends nothing)', async () => {
    const receiver = await startOtlpReceiver();
    closers.push(() => receiver.close());
    const project = tempProject('weft-dispatch-trace-off-');
    const prefix = uniquePrefix();
    writeFileSync(join(project, 'plan.json'), JSON.stringify({ name: 'half', tasks: [{ id: 'a', run: ['true'] }] }));
    procs.push(await startWorker(project, 'plain', prefix, [], { ...otel(''), OTEL_EXPORTER_OTLP_ENDPOINT: '' }));
    const run = await weft(['run', 'plan.json', '--dispatch', REDIS, '--queue-prefix', prefix], {
      cwd: project,
      env: otel(receiver.url),
      timeoutMs: 300_000,
    });
    expect(run.code, run.stderr).toBe(0);
    await stopAll(procs.splice(0));
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(['weft.attempt', 'weft.run', 'weft.task']);
  }, 400_000);

  it('a worker with a malformed endpoint stops at once with one line naming the variable (exit 2)', async () => {
    const r = await weft(['worker', '--redis', REDIS, '--prefix', uniquePrefix()], {
      cwd: tempProject('weft-dispatch-trace-bad-'),
      env: { ...otel('localhost:4318') },
    });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('weft: OTEL_EXPORTER_OTLP_ENDPOINT: "localhost:4318" is not an http(s) URL');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

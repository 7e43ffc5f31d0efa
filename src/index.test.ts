import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlan,
  estimatePlan,
  PlanValidationError,
  redactorOf,
  replayEvents,
  runWeft,
  startWeft,
  type RunEvent,
} from './index.js';

describe('library API', () => {
  it('builds a plan in TypeScript with shell and function tasks and runs it', async () => {
    const order: string[] = [];
    const plan = definePlan({
      name: 'lib',
      workers: 2,
      tasks: [
        { id: 'make', run: ['sh', '-c', 'exit 0'], estimate: '1s' },
        {
          id: 'count',
          needs: ['make'],
          fn: (ctx) => (order.push(`count after ${Object.keys(ctx.inputs).join()}`), { files: 3 }),
        },
        { id: 'report', needs: ['count'], fn: (ctx) => (order.push('report'), ctx.inputs.count?.output) },
      ],
    });
    const { status, summary, state } = await runWeft(plan);
    expect(status).toBe('succeeded');
    expect(order).toEqual(['count after make', 'report']);
    expect(state.tasks.get('report')?.result?.output).toEqual({ files: 3 });
    expect(summary.counts).toMatchObject({ succeeded: 3, total: 3 });
    expect(summary.criticalPath).toEqual(['make', 'count', 'report']);
  });

  it('masks the secrets it is given in the journal and in the log files a shell task leaves', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-lib-'));
    const events: RunEvent[] = [];
    const plan = definePlan({
      tasks: [{ id: 'leak', run: ['sh', '-c', 'echo token=tok-123456789; echo token=tok-123456789 >&2; exit 2'] }],
    });
    const { status } = await runWeft(plan, {
      runDir,
      redact: redactorOf(['tok-123456789']),
      journal: (batch) => void events.push(...batch),
    });
    expect(status).toBe('failed');
    expect(JSON.stringify(events)).not.toContain('tok-123456789');
    expect(events.find((e) => e.type === 'task.failed')).toMatchObject({ error: { stderrTail: 'token=***' } });
    expect(['stdout', 'stderr'].map((s) => readFileSync(join(runDir, 'tasks', 'leak', `1.${s}.log`), 'utf8'))).toEqual([
      'token=***\n',
      'token=***\n',
    ]);
  });

  it('enforces `outputs:` as weft run does: a task ending without a declared output fails naming it', async () => {
    const baseDir = mkdtempSync(join(tmpdir(), 'weft-lib-'));
    mkdirSync(join(baseDir, 'out'));
    const write = (files: string) => ['sh', '-c', `touch ${files}`];
    const plan = definePlan({
      workers: 1,
      tasks: [
        { id: 'gen', run: write('notes.txt'), outputs: ['notes.txt', 'report.md'], fixAttempts: 1 },
        { id: 'after', needs: ['gen'], fn: () => 1 },
        // In its cwd, as in the CLI: the output is looked for (and made) in out/.
        { id: 'docs', cwd: 'out', run: write('api.md'), outputs: ['api.md'] },
      ],
    });
    const events: RunEvent[] = [];
    const { status, summary } = await runWeft(plan, { baseDir, journal: (batch) => void events.push(...batch) });
    expect(status).toBe('failed');
    const failed = events.find((e) => e.type === 'task.failed');
    const message = 'finished but its declared outputs are missing: report.md (after 1 fix attempt)';
    expect(failed).toMatchObject({ task: 'gen', attempt: 2, error: { code: 'WEFT_OUTPUT_MISSING', message } });
    const states = summary.tasks.map((t) => `${t.id}:${t.state}`);
    expect(states).toEqual(['gen:failed', 'after:skipped', 'docs:succeeded']);
    expect(existsSync(join(baseDir, 'out', 'api.md'))).toBe(true);
  });

  it('validates a built plan like a file', () => {
    const plan = definePlan({ tasks: [{ id: 'a', needs: ['b'], fn: () => 1 }] });
    expect(() => estimatePlan(plan)).toThrow(PlanValidationError);
    expect(() => estimatePlan(plan)).toThrow(
      '<plan> task "a" needs[0]: unknown task "b" — fix: use the id of a task in this plan',
    );
  });

  it('estimates on a virtual clock', () => {
    const plan = definePlan({
      tasks: [
        { id: 'a', run: 'true', estimate: '10m' },
        { id: 'b', run: 'true', estimate: '5m' },
        { id: 'c', needs: ['a', 'b'], run: 'true', estimate: '1m' },
      ],
    });
    expect(estimatePlan(plan, 2)).toMatchObject({ makespan: 660_000, sequential: 960_000, criticalPath: 660_000 });
    expect(estimatePlan(plan, 1).makespan).toBe(960_000);
    // A bad worker count is a usage error naming it, not a RangeError from the order search.
    expect(() => estimatePlan(plan, 0)).toThrow(
      expect.objectContaining({
        code: 'WEFT_USAGE',
        message: expect.stringContaining('`workers` to be a positive integer, got `0`'),
      }),
    );
  });

  it('refuses a bad runWeft/startWeft option with a WEFT_USAGE naming it, before anything runs', async () => {
    const plan = definePlan({ tasks: [{ id: 'a', fn: () => 1 }] });
    const usage = (field: string) =>
      expect.objectContaining({ code: 'WEFT_USAGE', message: expect.stringContaining(`\`${field}\``) });
    await expect(runWeft(plan, null as never)).rejects.toThrow(usage('options'));
    await expect(runWeft(plan, { signal: 'stop' as never })).rejects.toThrow(usage('signal'));
    await expect(runWeft(plan, { tracer: 'otel' as never })).rejects.toThrow(usage('tracer'));
    await expect(runWeft(plan, { on: { 'task.failed': 5 as never } })).rejects.toThrow(usage('on'));
    expect(() => startWeft(plan, { signal: 'stop' as never })).toThrow(usage('signal'));
  });

  it('refuses a misspelt event type (from JavaScript, where the types do not check it) instead of never calling it', async () => {
    const plan = definePlan({ tasks: [{ id: 'a', fn: () => 1 }] });
    const misspelt = expect.objectContaining({
      code: 'WEFT_USAGE',
      message: 'no run event is called "task.faild"',
      hint: expect.stringMatching(/^did you mean "task\.failed"\? the types: run\.created, /),
    });
    let ran = false;
    const fn = definePlan({ tasks: [{ id: 'a', fn: () => (ran = true) }] });
    await expect(runWeft(fn, { on: { 'task.faild': () => undefined } as never })).rejects.toThrow(misspelt);
    expect(() => startWeft(fn, { on: { 'task.faild': () => undefined } as never })).toThrow(misspelt);
    expect(ran).toBe(false);
    const run = startWeft(plan);
    expect(() => run.on('task.faild' as never, () => undefined)).toThrow(misspelt);
    expect(() => run.on('task.failed', 'log' as never)).toThrow(
      expect.objectContaining({
        code: 'WEFT_USAGE',
        message: 'the listener of "task.failed" is not a function (got `string`)',
      }),
    );
    await expect(run.done).resolves.toMatchObject({ status: 'succeeded' });
  });
});

describe('library event bus', () => {
  const plan = () =>
    definePlan({
      name: 'bus',
      workers: 2,
      tasks: [
        { id: 'one', fn: () => 1 },
        { id: 'two', needs: ['one'], fn: () => 2 },
      ],
    });

  it('runWeft `on`: typed listeners see the run from run.created to run.finished', async () => {
    const seen: string[] = [];
    const { status } = await runWeft(plan(), {
      on: {
        'task.succeeded': (e) => seen.push(`${e.task} ok`),
        'run.finished': (e) => seen.push(`finished ${e.status}`),
        '*': (e) => seen.push(e.type),
      },
    });
    expect(status).toBe('succeeded');
    expect(seen[0]).toBe('run.created');
    expect(seen).toContain('one ok');
    expect(seen.indexOf('one ok')).toBeLessThan(seen.indexOf('two ok'));
    expect(seen.slice(-2)).toEqual(['finished succeeded', 'run.finished']);
  });

  it('startWeft returns at once; run.on subscribes before the first event; cancel stops the run', async () => {
    const run = startWeft(plan());
    const done: string[] = [];
    run.on('task.succeeded', (e) => done.push(e.task));
    const { status } = await run.done;
    expect(status).toBe('succeeded');
    expect(done).toEqual(['one', 'two']);

    const slow = startWeft(definePlan({ tasks: [{ id: 'wait', run: ['sleep', '30'] }] }));
    slow.on('task.started', () => slow.cancel());
    const stopped = await slow.done;
    expect(stopped.status).toBe('cancelled');
    // The application stopped it, not a Ctrl-C.
    expect(stopped.state.reason).toBe('cancelled (run.cancel())');
  });

  it('replayEvents replays a journal through the same handlers', async () => {
    const journal: RunEvent[] = [];
    await runWeft(plan(), { journal: (batch) => void journal.push(...batch) });
    const replayed: string[] = [];
    replayEvents(journal, { 'task.succeeded': (e) => replayed.push(e.task) });
    expect(replayed).toEqual(['one', 'two']);
  });
});

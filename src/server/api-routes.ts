import { Hono, type Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { z } from 'zod';
import { WeftError } from '../core/errors.js';
import type { RunControl, StartRunInput } from '../core/ports/run-control.js';
import type { EngineNotice } from '../core/run/engine-options.js';
import { TASK_ID_PATTERN } from '../core/plan/plan-schema.js';

/**
 * What starts (or estimates) a run: the plan inline (`plan`, checked by the plan file's schema),
 * a plan file (`planFile`) or a goal to plan first (`goal`, with `planner` and `executor`), and
 * `weft run`'s flags. Unknown fields are refused.
 */
export const StartRunSchema = z
  .object({
    plan: z.unknown().optional(),
    planFile: z.string().min(1).optional(),
    goal: z.string().max(20_000).optional(),
    planner: z.string().min(1).max(100).optional(),
    executor: z.string().min(1).max(100).optional(),
    vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    workers: z.number().int().min(1).max(1024).optional(),
    sequential: z.boolean().optional(),
    failFast: z.boolean().optional(),
    isolation: z.boolean().optional(),
    cache: z.boolean().optional(),
  })
  .strict();

/**
 * `POST /api/runs/:id/resume`: tasks with `resume: never` to run again (`weft resume --retry`), and
 * the secret-named vars the run was started with, which the journal keeps masked (`--set`).
 */
export const ResumeSchema = z
  .object({
    retry: z.array(z.string().regex(TASK_ID_PATTERN)).optional(),
    vars: StartRunSchema.shape.vars,
  })
  .strict();
/** `POST /api/runs/:id/tasks/:task/reject`: why (it becomes the task's blocked reason). */
export const RejectSchema = z.object({ reason: z.string().trim().min(1).max(2000) }).strict();

const LogQuery = z.object({
  attempt: z.coerce.number().int().min(1).optional(),
  stream: z.enum(['stdout', 'stderr']).optional(),
  offset: z.coerce.number().int().min(0).optional(),
  follow: z.enum(['1', 'true', '0', 'false']).optional(),
});

/** The body as JSON, checked by `schema`; one `WEFT_USAGE` error naming each field that is wrong. */
async function body<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  let raw: unknown;
  const text = await c.req.text();
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new WeftError('WEFT_USAGE', 'the request body is not JSON', {
      cause: error,
      hint: 'send Content-Type: application/json and a JSON object',
    });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const what = parsed.error.issues
    .map((i) => `${i.path.length === 0 ? 'body' : i.path.join('.')}: ${i.message}`)
    .join('; ');
  throw new WeftError('WEFT_USAGE', `bad request body: ${what}`);
}

const query = <T>(c: Context, schema: z.ZodType<T>): T => {
  const parsed = schema.safeParse(c.req.query());
  if (parsed.success) return parsed.data;
  const what = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new WeftError('WEFT_USAGE', `bad query: ${what}`);
};

/** The `/api/` routes over a {@link RunControl}; auth, host and size checks are the caller's middleware. */
export function apiRoutes(control: RunControl, options: { readonly pollMs: number }): Hono {
  const api = new Hono();
  api.get('/runs', async (c) => c.json(await control.listRuns()));
  api.post('/runs', async (c) => c.json(await control.start(asInput(await body(c, StartRunSchema))), 201));
  api.post('/estimate', async (c) => c.json(await control.estimate(asInput(await body(c, StartRunSchema)))));
  api.get('/runs/:id', async (c) => c.json(await control.detail(c.req.param('id'))));
  api.get('/runs/:id/tasks', async (c) => c.json((await control.detail(c.req.param('id'))).tasks));
  api.get('/runs/:id/summary', async (c) => c.json((await control.status(c.req.param('id'))).summary));
  api.get('/runs/:id/report', async (c) => {
    const format = c.req.query('format') ?? 'json';
    if (format !== 'json' && format !== 'md' && format !== 'html')
      throw new WeftError('WEFT_USAGE', `format expects json, md or html, got "${format}"`);
    const text = await control.report(c.req.param('id'), format);
    const type = { json: 'application/json', md: 'text/markdown; charset=utf-8', html: 'text/html; charset=utf-8' }[
      format
    ];
    return c.body(text, 200, { 'content-type': type });
  });
  api.post('/runs/:id/cancel', async (c) => {
    const runId = c.req.param('id');
    // Exact ids only here, as on every route: a prefix is a 404.
    if ((await control.resolve(runId)) !== runId)
      throw new WeftError('WEFT_RUN_NOT_FOUND', `no run "${runId}" in the journal`, {
        hint: 'GET /api/runs lists them',
      });
    const done = await control.cancel(runId);
    if (!done.stopping)
      throw new WeftError('WEFT_RUN_STATE', done.note ?? `run ${runId} is not running`, {
        hint: 'nothing to cancel; resume continues an unfinished run',
      });
    return c.json({ runId, cancelled: true });
  });
  api.post('/runs/:id/tasks/:task/approve', async (c) =>
    c.json(await control.decide(c.req.param('id'), c.req.param('task'), 'approved', { via: 'weft serve' })),
  );
  api.post('/runs/:id/tasks/:task/reject', async (c) => {
    const { reason } = await body(c, RejectSchema);
    return c.json(
      await control.decide(c.req.param('id'), c.req.param('task'), 'rejected', { reason, via: 'weft serve' }),
    );
  });
  api.post('/runs/:id/resume', async (c) => {
    const { retry, vars } = await body(c, ResumeSchema);
    const options = { ...(retry === undefined ? {} : { retry }), ...(vars === undefined ? {} : { vars }) };
    return c.json(await control.resume(c.req.param('id'), options));
  });
  api.get('/runs/:id/tasks/:task/log', async (c) => {
    const { follow, ...q } = query(c, LogQuery);
    const runId = c.req.param('id');
    const task = c.req.param('task');
    const following = follow === '1' || follow === 'true';
    // A follower that reconnects (`Last-Event-ID`, `<attempt>:<offset>` of the last event it got) goes on
    // from there, rather than from the start of the log it already has.
    const last = following ? /^([1-9]\d{0,5}):(\d{1,15})$/.exec(c.req.header('last-event-id') ?? '') : null;
    const from = last === null ? q : { ...q, attempt: Number(last[1]), offset: Number(last[2]) };
    const first = await control.log(runId, task, from);
    if (!following) return c.json(first);
    return streamSSE(c, async (stream) => {
      let slice = first;
      for (;;) {
        if (slice.text !== '')
          await stream.writeSSE({
            event: 'log',
            data: JSON.stringify(slice),
            id: `${slice.attempt}:${slice.offset}`,
          });
        // Following the task (no attempt asked for): a retry's (or a loop iteration's) attempt goes on
        // where the one before it ended.
        if (slice.ended && q.attempt === undefined) {
          const latest = await control.log(runId, task, { ...q, offset: 0 });
          if (latest.attempt > slice.attempt) {
            slice = await control.log(runId, task, { ...q, attempt: slice.attempt + 1, offset: 0 });
            continue;
          }
        }
        if (slice.ended) {
          await stream.writeSSE({
            event: 'end',
            data: JSON.stringify({ attempt: slice.attempt, offset: slice.offset }),
          });
          return;
        }
        await stream.sleep(Math.max(options.pollMs, 200));
        if (stream.aborted) return;
        slice = await control.log(runId, task, { ...q, attempt: slice.attempt, offset: slice.offset });
      }
    });
  });
  api.get('/runs/:id/events', async (c) => {
    const runId = c.req.param('id');
    const from = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
    if (!/^\d{1,15}$/.test(from))
      throw new WeftError(
        'WEFT_USAGE',
        `Last-Event-ID (or ?after) expects an event number, got "${from.slice(0, 40)}"`,
      );
    const seq = Number(from);
    await control.events(runId, seq); // a run that does not exist is a 404, before the stream opens
    return streamSSE(c, (stream) => eventStream(stream, control, runId, seq, options.pollMs));
  });
  return api;
}

/**
 * Streams the run's journal from `seq` on — each event with its seq as the SSE `id`, so a client
 * that reconnects with `Last-Event-ID` gets exactly what it missed — and progress notices (no id)
 * as this process learns them. The journal is read every `pollMs` while the run is live, and at
 * once when a watched event arrives.
 */
async function eventStream(
  stream: SSEStreamingApi,
  control: RunControl,
  runId: string,
  from: number,
  pollMs: number,
): Promise<void> {
  let seq = from;
  let wake: (() => void) | undefined;
  const progress: EngineNotice[] = [];
  const unwatch = control.watch(runId, (notice) => {
    if (notice.type === 'task.progress') progress.push(notice);
    wake?.();
  });
  stream.onAbort(() => wake?.());
  let quiet = 0;
  let ended = false;
  try {
    while (!stream.aborted) {
      // Read first: reading the journal passes on the notices the run printed before these events.
      const entries = await control.events(runId, seq);
      for (const notice of progress.splice(0))
        await stream.writeSSE({ event: notice.type, data: JSON.stringify(notice) });
      for (const { seq: n, event } of entries) {
        await stream.writeSSE({ id: String(n), event: event.type, data: JSON.stringify(event) });
        seq = n;
      }
      const last = entries.at(-1)?.event.type;
      if (last !== undefined) ended = last === 'run.finished';
      quiet = entries.length > 0 ? 0 : quiet + 1;
      // A comment now and then keeps proxies from closing an idle stream.
      if (quiet > 0 && quiet % Math.ceil(15_000 / pollMs) === 0) await stream.write(': idle\n\n');
      if (stream.aborted) break;
      // A run that ended is read less often (a resume would bring it back).
      const wait = ended ? Math.max(pollMs, 1000) : pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    unwatch();
  }
}

function asInput(b: z.infer<typeof StartRunSchema>): StartRunInput {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as StartRunInput;
}

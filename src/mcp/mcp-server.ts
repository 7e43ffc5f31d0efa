import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { isWeftError, WeftError } from '../core/errors.js';
import { buildAndDeploy } from './build-and-deploy.js';
import type { RunControl } from '../core/ports/run-control.js';
import type { EngineNotice } from '../core/run/engine-options.js';
import { planRefOf, TOOL_INPUTS } from './tool-inputs.js';

/** What {@link createMcpServer} serves. */
export interface McpServerOptions {
  /** weft's version, as the server names itself. */
  readonly version: string;
  /**
   * Send each event of a run `run` started as a logging notification (`notifications/message`,
   * logger `weft`) until it ends. Off for a stateless transport, which has nowhere to send them
   * once the call is answered. @default true
   */
  readonly notifyRuns?: boolean;
}

/**
 * The weft MCP server: tools `plan`, `estimate`, `run`, `runs`, `status`, `logs`, `result`, `cancel`, `resume`, `approve` and
 * `build_and_deploy`, each driving weft through the injected {@link RunControl}. Connect it to a
 * transport (stdio for `weft mcp`, streamable HTTP on `weft serve`); {@link McpServer.close} stops
 * following runs (the runs go on).
 * @example
 * const server = createMcpServer(control, { version: '0.1.0' });
 * await server.connect(new StdioServerTransport());
 */
export function createMcpServer(control: RunControl, options: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: 'weft', version: options.version },
    {
      capabilities: { logging: {} },
      instructions:
        'weft runs plans of tasks (shell commands, coding agents) in parallel on M workers. `run` answers a runId at once; follow it with `status`, `logs` and `result`. `build_and_deploy` does it all in one call.',
    },
  );
  const closing = new AbortController();
  const previousOnClose = server.server.onclose;
  server.server.onclose = () => {
    closing.abort();
    previousOnClose?.();
  };

  /** Runs a tool body; an answer is JSON text plus the same value as structured content. */
  const answer = async (body: () => Promise<object>): Promise<CallToolResult> => {
    try {
      const value = await body();
      return {
        content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
        structuredContent: value as Record<string, unknown>,
      };
    } catch (error) {
      return toolError(error);
    }
  };
  const notify = (runId: string, event: EngineNotice): void => {
    server
      .sendLoggingMessage({ level: levelOf(event), logger: 'weft', data: { runId, ...event } })
      .catch(() => undefined); // the client went away; the run goes on
  };
  /** The control of the call's project folder (`working_directory`, inside the folder served). */
  const within = (dir: string | undefined) => control.within(dir);

  server.registerTool(
    'plan',
    {
      title: 'Plan a goal',
      description:
        "Turns a goal into a validated weft plan with the AI planner (an agent CLI or LLM API), saves it under .weft/plans/ and answers it with the planner's sizing. Run it with `run`.",
      inputSchema: TOOL_INPUTS.plan,
    },
    (a) =>
      answer(async () =>
        (await within(a.working_directory)).plan({
          goal: a.goal,
          ...(a.workers === undefined ? {} : { workers: a.workers }),
          ...(a.planner === undefined ? {} : { planner: a.planner }),
          ...(a.executor === undefined ? {} : { executor: a.executor }),
        }),
      ),
  );
  server.registerTool(
    'estimate',
    {
      title: 'Estimate a plan',
      description:
        "Predicts a plan's makespan on M workers from its estimates (and durations measured in earlier runs), with the speed-up, the critical path and the smallest M within 5% of the best.",
      inputSchema: TOOL_INPUTS.estimate,
      annotations: { readOnlyHint: true },
    },
    (a) =>
      answer(async () => {
        const ref = planRefOf(a);
        return (await within(a.working_directory)).estimate({
          ...ref,
          ...(a.workers === undefined ? {} : { workers: a.workers }),
        });
      }),
  );
  server.registerTool(
    'run',
    {
      title: 'Start a run',
      description:
        'Starts a plan in the background and answers {runId} at once; the run survives this server. Its events come as logging notifications (logger "weft"); `status`, `logs` and `result` take the runId.',
      inputSchema: TOOL_INPUTS.run,
    },
    (a) =>
      answer(async () => {
        const ref = planRefOf(a);
        const c = await within(a.working_directory);
        const started = await c.start({
          ...ref,
          ...(a.workers === undefined ? {} : { workers: a.workers }),
          ...(a.sequential === undefined ? {} : { sequential: a.sequential }),
          ...(a.failFast === undefined ? {} : { failFast: a.failFast }),
          ...(a.vars === undefined ? {} : { vars: varsOf(a.vars) }),
        });
        if (options.notifyRuns !== false)
          void c.follow(started.runId, (e) => notify(started.runId, e), closing.signal).catch(() => undefined);
        return { runId: started.runId };
      }),
  );
  server.registerTool(
    'runs',
    {
      title: 'The runs of the project',
      description:
        "The project's runs, newest first: `id`, `plan` (its name), `status`, `tasks`, `createdAt` and `lastEventAt` (ms since the epoch), and `driven` (false for a running run nobody drives any more: `resume` continues it).",
      inputSchema: TOOL_INPUTS.runs,
      annotations: { readOnlyHint: true },
    },
    (a) =>
      answer(async () => {
        const all = await (await within(a.working_directory)).listRuns();
        return { runs: all.slice(0, a.limit ?? 20), total: all.length };
      }),
  );
  server.registerTool(
    'status',
    {
      title: 'Where a run stands',
      description:
        'The summary of a run: status (running, succeeded, failed, cancelled), counts, each task with its state, attempts and time, the critical path. `driven: false` means nobody drives a running run any more.',
      inputSchema: TOOL_INPUTS.status,
      annotations: { readOnlyHint: true },
    },
    (a) =>
      answer(async () => {
        const c = await within(a.working_directory);
        return c.status(await c.resolve(a.runId));
      }),
  );
  server.registerTool(
    'logs',
    {
      title: "A task's log",
      description:
        "The end of a task's stdout (or stderr) for an attempt (default: the latest), secrets masked and terminal control sequences removed.",
      inputSchema: TOOL_INPUTS.logs,
      annotations: { readOnlyHint: true },
    },
    (a) =>
      answer(async () => {
        const c = await within(a.working_directory);
        return c.logTail(await c.resolve(a.runId), a.task, {
          ...(a.attempt === undefined ? {} : { attempt: a.attempt }),
          ...(a.stream === undefined ? {} : { stream: a.stream }),
          ...(a.maxBytes === undefined ? {} : { maxBytes: a.maxBytes }),
        });
      }),
  );
  server.registerTool(
    'result',
    {
      title: "A run's result",
      description: "A run's summary and its Markdown report (tasks, attempts, the critical path, log tails).",
      inputSchema: TOOL_INPUTS.result,
      annotations: { readOnlyHint: true },
    },
    (a) =>
      answer(async () => {
        const c = await within(a.working_directory);
        const runId = await c.resolve(a.runId);
        const { summary } = await c.status(runId);
        return { summary, report: await c.report(runId, 'md') };
      }),
  );
  server.registerTool(
    'cancel',
    {
      title: 'Cancel a run',
      description:
        'Stops a running run: its running tasks are cancelled and the run ends "cancelled" (`resume` continues it). A run that has ended is left as it is.',
      inputSchema: TOOL_INPUTS.cancel,
      annotations: { destructiveHint: true },
    },
    (a) => answer(async () => (await within(a.working_directory)).cancel(a.runId)),
  );
  server.registerTool(
    'resume',
    {
      title: 'Resume a run',
      description:
        'Continues an unfinished run (cancelled, failed, or `driven: false`) from its journal, as `weft resume`: what succeeded is kept, the rest runs. Answers {runId} once it goes on; its events come as notifications, as those of a run `run` started do.',
      inputSchema: TOOL_INPUTS.resume,
    },
    (a) =>
      answer(async () => {
        const c = await within(a.working_directory);
        const runId = await c.resolve(a.runId);
        // Its events from the resume on come as notifications, as a started run's do; not those before.
        const before = (await c.events(runId, 0)).at(-1)?.seq ?? 0;
        const resumed = await c.resume(runId, {
          ...(a.retry === undefined ? {} : { retry: a.retry }),
          ...(a.vars === undefined ? {} : { vars: varsOf(a.vars) }),
        });
        if (options.notifyRuns !== false)
          void c.follow(runId, (e) => notify(runId, e), closing.signal, before).catch(() => undefined);
        return resumed;
      }),
  );
  server.registerTool(
    'approve',
    {
      title: 'Approve or reject a waiting task',
      description:
        'Decides on a task that waits for a person (`approval: required`; `status` lists what waits): approve lets it start, reject (with a reason) ends it blocked and skips what needs it.',
      inputSchema: TOOL_INPUTS.approve,
      annotations: { destructiveHint: true },
    },
    (a) =>
      answer(async () => {
        // The field to fill in, rather than the CLI's `--reason` the run control's refusal names.
        if (a.decision === 'reject' && (a.reason ?? '').trim() === '')
          throw new WeftError(
            'WEFT_USAGE',
            'reason is required to reject: why, in words (it becomes the blocked reason)',
            {
              hint: 'call approve again with decision "reject" and a reason, e.g. {"reason": "the migration drops a column"}',
            },
          );
        const c = await within(a.working_directory);
        const decision = a.decision === 'reject' ? 'rejected' : 'approved';
        return c.decide(await c.resolve(a.runId), a.task, decision, { reason: a.reason, via: 'weft mcp' });
      }),
  );
  server.registerTool(
    'build_and_deploy',
    {
      title: 'Plan, build, test and deploy in one call',
      description:
        'Plans the task, builds it (in parallel unless use_parallel is false), runs unit ∥ e2e ∥ lint checks and names the slowest one, and holds the deploy step for approval. Answers when the run ends: which mode ran and why it stopped.',
      inputSchema: TOOL_INPUTS.build_and_deploy,
    },
    (a, extra) =>
      answer(async () => {
        const token = extra._meta?.progressToken;
        let progress = 0;
        const sent: Promise<void>[] = [];
        const done = await buildAndDeploy(
          await within(a.working_directory),
          {
            task: a.task,
            useParallel: a.use_parallel,
            ...(a.github_repo_name === undefined ? {} : { githubRepo: a.github_repo_name }),
          },
          (runId, event, total) => {
            notify(runId, event);
            if (token !== undefined && TASK_END_EVENTS.has(event.type))
              sent.push(
                extra
                  .sendNotification({
                    method: 'notifications/progress',
                    params: { progressToken: token, progress: ++progress, total, message: describe(event) },
                  })
                  .catch(() => undefined),
              );
          },
          AbortSignal.any([closing.signal, extra.signal]),
        );
        // The SDK's client handles a notification a microtask later than a response that came in the
        // same read, and by then has dropped the call's progress handler: the last tasks' progress
        // would be lost. A pause after they are written lets them arrive first.
        await Promise.all(sent);
        await new Promise((r) => setTimeout(r, 200));
        return done;
      }),
  );
  return server;
}

/** A tool error: the code, the message and the fix, one problem a line; never a stack trace. */
export function toolError(error: unknown): CallToolResult {
  let text: string;
  // A plan's message is already its problems, one a line.
  if (isWeftError(error))
    text = `${error.code}: ${error.message}${error.hint === undefined ? '' : `\n${toolHint(error.hint)}`}`;
  else
    text = `WEFT_INTERNAL: internal error — please report it: ${error instanceof Error ? error.message : String(error)}`;
  return { isError: true, content: [{ type: 'text', text }] };
}

/**
 * A hint in the tools' words: the run control's hints name the HTTP API's routes, which an MCP
 * client does not call (`GET /api/runs lists them` → the `runs` tool).
 */
function toolHint(hint: string): string {
  return hint
    .replace(/\bGET \/api\/runs\/[^\s/]+\/tasks\b/g, 'the `status` tool')
    .replace(/\bGET \/api\/runs\b/g, 'the `runs` tool');
}

/** Events that end a task's part in the run. */
export const TASK_END_EVENTS: ReadonlySet<string> = new Set([
  'task.succeeded',
  'task.failed',
  'task.skipped',
  'task.cancelled',
]);

/** Tool `vars` as `--set` gives them: typed by the plan's own `vars`, so a JSON true is "true". */
function varsOf(vars: Readonly<Record<string, string | number | boolean>>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
}

function levelOf(event: EngineNotice): LoggingLevel {
  if (event.type === 'task.failed' || event.type === 'task.retrying') return 'warning';
  if (event.type === 'run.finished' && event.status !== 'succeeded') return 'warning';
  return 'info';
}

function describe(event: EngineNotice): string {
  return `${'task' in event ? event.task : 'run'} ${event.type.replace(/^task\./, '')}`;
}

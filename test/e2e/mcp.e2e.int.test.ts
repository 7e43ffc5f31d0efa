/**
 * `weft mcp` with real clients and real agents: the real `claude` binary as the MCP client (its
 * `--mcp-config` starting `weft mcp`, the scripted API making it call weft's tools), and the SDK
 * client calling `plan` and `build_and_deploy`, whose planner and tasks are real executors
 * (the Anthropic SDK, the `claude` CLI) against a FakeLlmServer on 127.0.0.1. Every test ends
 * with `verify()` == [].
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BINS } from '../support/fake-llm/run-cli.js';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import { CLI } from '../support/weft-cli.js';
import { e2eProject, ensureBuilt, step, writesFile, type E2eProject } from './e2e-kit.js';

beforeAll(ensureBuilt);

const TIMEOUT = 180_000;
const PLANNER = 'You are the planner of weft';

/** A planner answer: an API, then a UI that needs it. */
const TODO_PLAN = {
  analysis: { complexity: 'simple', reasons: ['one API and one UI'], taskCount: 2 },
  tasks: [
    {
      id: 'api',
      title: 'REST API',
      prompt: 'Build the REST API in src/api. [task-api]',
      estimate: '20m',
      writes: ['src/api/**'],
      outputs: ['src/api/server.ts'],
    },
    {
      id: 'ui',
      title: 'Web UI',
      prompt: 'Build the web UI in src/ui. [task-ui]',
      needs: ['api'],
      estimate: '30m',
      writes: ['src/ui/**'],
    },
  ],
};

/** A tool's answer as the tests read it. */
type Answer = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The SDK client on `weft mcp` in the project, with the project's env (the fake server's). */
async function sdkClient(p: E2eProject, ctx: { onTestFinished(fn: () => Promise<void>): void }) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp'],
    cwd: p.repo,
    env: { ...p.env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'weft-e2e', version: '1.0.0' });
  await client.connect(transport);
  ctx.onTestFinished(() => client.close());
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>, onprogress?: (p: Answer) => void) {
  const r = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: TIMEOUT,
    resetTimeoutOnProgress: true,
    ...(onprogress === undefined ? {} : { onprogress }),
  })) as CallToolResult;
  const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  expect(r.isError, text).not.toBe(true);
  return JSON.parse(text) as Answer;
}

/** The tool results Claude sent back to the model, by the tool_use name it called. */
const resultsOf = (turn: RecordedRequest): string[] => turn.toolResults.map((t) => t.output);

describe.concurrent('weft mcp with real clients', () => {
  it(
    'the real claude as the MCP client: it calls run, then status with the runId it got; both answers reach the API',
    { timeout: TIMEOUT },
    async (ctx) => {
      const plan = { name: 'via-claude', tasks: [{ id: 'hi', run: ['sh', '-c', 'echo hi from the plan'] }] };
      const p = await e2eProject(ctx, { files: { 'plan.yaml': `${JSON.stringify(plan)}\n` } });
      const config = join(p.home, 'mcp.json');
      writeFileSync(
        config,
        JSON.stringify({ mcpServers: { weft: { type: 'stdio', command: process.execPath, args: [CLI, 'mcp'] } } }),
      );
      let runId = '';
      // Claude may ask the model before weft's server is connected (a loaded machine starts it
      // slowly): the model then waits for it with Claude's own WaitForMcpServers tool, as a model would.
      p.llm.script(
        {
          marker: '[mcp-client]',
          name: 'wait-for-weft',
          match: (r) => !r.offeredTools.includes('mcp__weft__run'),
        },
        step.tool('WaitForMcpServers', { servers: ['weft'] }, { times: Infinity }),
      );
      p.llm.script(
        { marker: '[mcp-client]' },
        step.tool('mcp__weft__run', { planFile: 'plan.yaml' }),
        (request) => {
          runId = (JSON.parse(resultsOf(request).at(-1) ?? '{}') as { runId?: string }).runId ?? '';
          return step.tool('mcp__weft__status', { runId });
        },
        step.text('The run is under way.'),
      );
      const claude = spawn(
        CLI_BINS.claude,
        [
          '-p',
          'Run plan.yaml with weft and tell me how it goes [mcp-client]',
          '--mcp-config',
          config,
          '--strict-mcp-config',
          '--allowedTools',
          'mcp__weft__run mcp__weft__status',
          '--output-format',
          'json',
        ],
        // Claude connects MCP servers in the background and may ask the model before weft's tools are
        // there; "false" makes it wait for them (as a user's first prompt, typed later, would).
        { cwd: p.repo, env: { ...p.env, MCP_CONNECTION_NONBLOCKING: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      claude.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      claude.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => claude.on('close', resolve));
      expect(code, stdout + stderr).toBe(0);
      const answer = JSON.parse(stdout) as { is_error: boolean; result: string; num_turns: number };
      expect(answer).toMatchObject({ is_error: false, result: 'The run is under way.' });

      const turns = p.llm.turns().filter((t) => t.script === '[mcp-client]');
      expect(turns).toHaveLength(3);
      expect(JSON.parse(stdout)).toMatchObject({ num_turns: turns.length + p.llm.turns().length - turns.length });
      // Claude offered weft's tools to the model, with their descriptions.
      expect(turns[0]?.offeredTools).toEqual(expect.arrayContaining(['mcp__weft__run', 'mcp__weft__status']));
      // weft's answers are what reached the API: the runId, then the run's status.
      expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
      expect(JSON.parse(resultsOf(turns[1] as RecordedRequest).at(-1) ?? '')).toEqual({ runId });
      const status = JSON.parse(resultsOf(turns[2] as RecordedRequest).at(-1) ?? '') as Answer;
      expect(status.summary).toMatchObject({ runId, plan: 'via-claude' });
      expect(['running', 'succeeded']).toContain(status.summary.status);
      // The run claude started is a real run: it ends, and its task printed its line.
      const r = await poll(async () => {
        const s = await p.weft(['status', runId, '--json']);
        const summary = JSON.parse(s.stdout) as { status: string };
        return summary.status === 'running' ? undefined : summary;
      });
      expect(r.status).toBe('succeeded');
      expect(readFileSync(join(p.repo, '.weft', 'runs', runId, 'tasks', 'hi', '1.stdout.log'), 'utf8')).toBe(
        'hi from the plan\n',
      );
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'plan: the AI planner (the anthropic executor) answers a checked plan, saved under .weft/plans/',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: PLANNER }, step.json(TODO_PLAN));
      const client = await sdkClient(p, ctx);
      const planned = await call(client, 'plan', {
        goal: 'Build a todo app',
        workers: 3,
        planner: 'anthropic',
        executor: 'claude',
      });
      expect(planned).toMatchObject({ complexity: 'simple', reasons: ['one API and one UI'] });
      expect(planned.planFile).toMatch(new RegExp(`^${p.repo}/\\.weft/plans/\\d{8}-\\d{6}-[0-9a-f]{4}\\.yaml$`));
      expect(existsSync(planned.planFile as string)).toBe(true);
      expect(planned.plan).toMatchObject({
        workers: 3,
        tasks: [
          { id: 'api', executor: 'claude' },
          { id: 'ui', executor: 'claude', needs: ['api'] },
        ],
      });
      const turn = p.llm.turns()[0] as RecordedRequest;
      expect(turn.userTexts.join('\n')).toContain('Goal: Build a todo app');
      // The plan it answered can be estimated (and run) as is.
      const est = await call(client, 'estimate', { plan: planned.plan });
      expect(est).toMatchObject({ tasks: 2, makespan: 3000, criticalPathTasks: ['api', 'ui'] });
      expect(p.llm.verify()).toEqual([]);
    },
  );

  for (const useParallel of [true, false])
    it(
      `build_and_deploy use_parallel=${useParallel}: plans, builds, runs unit ∥ e2e ∥ lint naming the bottleneck, holds the deploy`,
      { timeout: TIMEOUT },
      async (ctx) => {
        const p = await e2eProject(ctx, { config: { planner: 'anthropic' } });
        p.llm.script({ marker: PLANNER }, step.json({ ...TODO_PLAN }));
        p.llm.script({ marker: '[task-api]' }, ...writesFile(p.repo, 'api', 'src/api/server.ts', 'export {};\n'));
        p.llm.script({ marker: '[task-ui]' }, step.text('UI built'));
        p.llm.script({ marker: "project's unit tests" }, step.text('12 unit tests passed'));
        // e2e is the slowest check (by far: a claude start-up on a loaded machine takes seconds): the bottleneck.
        p.llm.script({ marker: "project's end-to-end tests" }, step.text('3 e2e tests passed', { delayMs: 15_000 }));
        p.llm.script({ marker: "project's linters" }, step.text('no lint problems'));
        const client = await sdkClient(p, ctx);
        const progress: Answer[] = [];
        const answer = await call(
          client,
          'build_and_deploy',
          { task: 'Build a todo app', use_parallel: useParallel, github_repo_name: 'me/todo' },
          (n) => progress.push(n),
        );
        expect(answer).toMatchObject({
          mode: useParallel ? 'parallel' : 'one task at a time',
          workers: useParallel ? 4 : 1,
          status: 'succeeded',
          bottleneck: 'e2e',
          checks: {
            unit: { state: 'succeeded' },
            e2e: { state: 'succeeded' },
            lint: { state: 'succeeded' },
          },
          deploy: { state: 'skipped' },
        });
        expect(answer.modeReason).toContain(`use_parallel was ${useParallel}`);
        expect(answer.stoppedBecause).toMatch(/the deploy waits for approval/);
        expect(answer.stoppedBecause).toContain('"deploy_approved": "true"');
        const checkTimes = Object.entries(answer.checks as Record<string, { durationMs: number }>);
        expect(Math.max(...checkTimes.map(([, c]) => c.durationMs))).toBe(answer.checks.e2e.durationMs);
        expect(answer.summary).toMatchObject({ workers: useParallel ? 4 : 1, counts: { total: 6, succeeded: 5 } });
        // The checks ran side by side only when parallel (and never with use_parallel false).
        const tasks = answer.summary.tasks as { id: string; startedAt: number; endedAt: number }[];
        const spans = ['unit', 'e2e', 'lint'].map((id) => tasks.find((t) => t.id === id));
        const overlap = spans.some((a, i) =>
          spans.some(
            (b, j) =>
              i !== j && a !== undefined && b !== undefined && a.startedAt < b.endedAt && b.startedAt < a.endedAt,
          ),
        );
        expect(overlap).toBe(useParallel);
        // The deploy step names the repository, and would run once approved.
        const saved = JSON.parse(readFileSync(answer.planFile as string, 'utf8')) as Answer;
        expect(saved.tasks.at(-1)).toMatchObject({ id: 'deploy', when: 'vars.deploy_approved' });
        expect(saved.tasks.at(-1).prompt).toContain('me/todo');
        // Progress notifications came as tasks ended, one for each.
        const ended = ['api', 'ui', 'unit', 'e2e', 'lint'].map((id) => `${id} succeeded`);
        expect(progress.map((n) => n.message).sort()).toEqual([...ended, 'deploy skipped'].sort());
        expect(progress.map((n) => n.progress)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(progress.every((n) => n.total === 6)).toBe(true);
        expect(p.llm.verify()).toEqual([]);
      },
    );
});

async function poll<T>(what: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await what();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

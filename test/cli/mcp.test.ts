/**
 * `weft mcp` as its clients use it: the MCP SDK's Client over a real stdio child
 * (`node dist/bin/main.js mcp`) in a temp git repository; runs are real `weft run` processes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test User',
  GIT_AUTHOR_EMAIL: 'user@example.test',
  GIT_COMMITTER_NAME: 'Test User',
  GIT_COMMITTER_EMAIL: 'user@example.test',
};

/** A git repository with one commit, `.weft/` ignored. */
function gitProject(files: Record<string, string> = {}): string {
  const repo = realpathSync(tempProject('weft-mcp-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: repo, env: { ...process.env, ...GIT_ENV }, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, '.gitignore'), '.weft/\n');
  writeFileSync(join(repo, 'README.md'), '# demo\n');
  for (const [file, text] of Object.entries(files)) writeFileSync(join(repo, file), text);
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  return repo;
}

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

/** `weft mcp` started in `cwd` with the SDK's stdio client connected to it; its stderr collected. */
async function connect(cwd: string, args: string[] = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', ...args],
    cwd,
    env: { ...(process.env as Record<string, string>), ...GIT_ENV, NO_COLOR: '1', WEFT_DATABASE_URL: '' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'weft-test', version: '1.0.0' });
  const logs: { runId?: string; type?: string; task?: string }[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params.data as { runId?: string; type?: string; task?: string });
  });
  await client.connect(transport);
  clients.push(client);
  return { client, logs, stderr: () => stderr };
}

/** A tool's answer, as the tests read it. */
type Answer = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A tool's answer: the JSON of its text (the same value as its structuredContent; `{}` for an error), and the text. */
async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; text: string; value: Answer }> {
  const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  if (r.isError === true) return { isError: true, text, value: {} };
  const value = JSON.parse(text) as Answer;
  expect(r.structuredContent).toEqual(value);
  return { isError: false, text, value };
}

async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await what();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls `status` until the run has ended. */
const ended = (client: Client, runId: string, extra: Record<string, unknown> = {}) =>
  until(async () => {
    const s = await call(client, 'status', { runId, ...extra });
    return s.value?.summary?.status !== undefined && s.value.summary.status !== 'running' ? s.value : undefined;
  });

const SMALL_PLAN = {
  name: 'small',
  workers: 2,
  tasks: [
    { id: 'hello', run: ['sh', '-c', 'echo hello from weft; echo oops >&2'], estimate: '1s' },
    { id: 'write', run: ['sh', '-c', 'echo made > made.txt'], writes: ['made.txt'], estimate: '1s' },
    { id: 'after', run: ['sh', '-c', 'echo after'], needs: ['hello', 'write'], estimate: '2s' },
  ],
};

describe('weft mcp over stdio', () => {
  it('lists its tools, each with an input schema naming its fields', { timeout: 60_000 }, async () => {
    const { client } = await connect(gitProject());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        'approve',
        'build_and_deploy',
        'cancel',
        'estimate',
        'logs',
        'plan',
        'result',
        'resume',
        'run',
        'runs',
        'status',
      ].sort(),
    );
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName.get('run')?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['plan', 'planFile', 'workers', 'sequential', 'working_directory']),
    );
    expect(byName.get('status')?.inputSchema.required).toEqual(['runId']);
    const bd = byName.get('build_and_deploy')?.inputSchema;
    expect(Object.keys(bd?.properties ?? {}).sort()).toEqual(
      ['github_repo_name', 'task', 'use_parallel', 'working_directory'].sort(),
    );
    expect((bd?.properties?.use_parallel as { default?: unknown }).default).toBe(true);
    expect(bd?.required).toEqual(['task']);
    expect(Object.keys(byName.get('resume')?.inputSchema.properties ?? {}).sort()).toEqual(
      ['retry', 'runId', 'vars', 'working_directory'].sort(),
    );
  });

  it(
    'runs an inline plan: run answers {runId} at once; status, logs, result; events as notifications',
    { timeout: 150_000 },
    async () => {
      const repo = gitProject();
      const { client, logs } = await connect(repo);
      const started = await call(client, 'run', { plan: SMALL_PLAN });
      expect(started.isError, started.text).toBe(false);
      expect(Object.keys(started.value)).toEqual(['runId']);
      const { runId } = started.value as { runId: string };
      expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{4}$/);
      // The run is in the journal by the time `run` answers: `status` right after finds it.
      const first = await call(client, 'status', { runId });
      expect(first.isError, first.text).toBe(false);
      expect(first.value.summary.runId).toBe(runId);

      const status = await ended(client, runId);
      expect(status.summary.status).toBe('succeeded');
      expect(status.summary.tasks.map((t: { id: string; state: string }) => [t.id, t.state])).toEqual([
        ['hello', 'succeeded'],
        ['write', 'succeeded'],
        ['after', 'succeeded'],
      ]);
      // Tasks ran in the project (a worktree of it), and the result branch holds what they wrote.
      expect(execFileSync('git', ['show', `weft/${runId}:made.txt`], { cwd: repo, encoding: 'utf8' })).toBe('made\n');

      const out = await call(client, 'logs', { runId, task: 'hello' });
      expect(out.value).toMatchObject({ attempt: 1, text: 'hello from weft\n', truncated: false, exists: true });
      // Shorter than its one line: the line's end, not nothing.
      const end = await call(client, 'logs', { runId, task: 'hello', maxBytes: 8 });
      expect(end.value).toMatchObject({ text: 'om weft\n', bytes: 16, truncated: true });
      const err = await call(client, 'logs', { runId, task: 'hello', stream: 'stderr' });
      expect(err.value.text).toBe('oops\n');

      const result = await call(client, 'result', { runId });
      expect(result.value.summary).toMatchObject({ runId, status: 'succeeded', counts: { total: 3, succeeded: 3 } });
      // `runs` lists it (an MCP client has no `weft runs`); `limit` bounds the answer.
      const runs = await call(client, 'runs', {});
      expect(runs.value).toMatchObject({
        total: 1,
        runs: [{ id: runId, plan: 'small', status: 'succeeded', tasks: 3, driven: false }],
      });
      expect((await call(client, 'runs', { limit: 0 })).text).toMatch(/limit/);
      expect(result.value.report).toContain(`# weft run ${runId} — small`);
      expect(result.value.report).toMatch(/\| \*\*after\*\* \| after \| shell \| ✓ succeeded \|/);

      // The run's events reached the client as logging notifications, in order, up to the run's end.
      await until(async () => (logs.some((l) => l.type === 'run.finished') ? true : undefined), 30_000);
      const mine = logs.filter((l) => l.runId === runId);
      expect(mine.map((l) => l.type)).toContain('task.started');
      expect(
        mine
          .filter((l) => l.type === 'task.succeeded')
          .map((l) => l.task)
          .sort(),
      ).toEqual(['after', 'hello', 'write']);
      expect(mine.at(-1)?.type).toBe('run.finished');
    },
  );

  it(
    'runs a plan file; estimate reads the same plan; use_parallel-like sequential runs one at a time',
    { timeout: 150_000 },
    async () => {
      const repo = gitProject({ 'plan.yaml': JSON.stringify(SMALL_PLAN) });
      const { client } = await connect(repo);
      const est = await call(client, 'estimate', { planFile: 'plan.yaml', workers: 2 });
      expect(est.value).toMatchObject({ plan: 'small', tasks: 3, workers: 2, makespan: 3, sequential: 4 });
      expect(est.value.criticalPathTasks).toEqual(['hello', 'after']);

      const { runId } = (await call(client, 'run', { planFile: 'plan.yaml', sequential: true })).value as {
        runId: string;
      };
      const status = await ended(client, runId);
      expect(status.summary).toMatchObject({ status: 'succeeded', mode: 'sequential', workers: 1 });
    },
  );

  it('cancels a long run: its task is stopped and the run ends cancelled', { timeout: 150_000 }, async () => {
    const repo = gitProject();
    const { client } = await connect(repo);
    const plan = { name: 'long', tasks: [{ id: 'sleepy', run: ['sh', '-c', 'echo started; sleep 600'] }] };
    const { runId } = (await call(client, 'run', { plan })).value as { runId: string };
    // Wait until the task is running, then cancel.
    await until(async () => {
      const s = await call(client, 'logs', { runId, task: 'sleepy' });
      return s.value?.text === 'started\n' ? true : undefined;
    });
    const cancel = await call(client, 'cancel', { runId });
    expect(cancel.value).toMatchObject({ runId, status: 'running', stopping: true });
    const status = await ended(client, runId, {});
    expect(status.summary.status).toBe('cancelled');
    expect(status.summary.tasks[0]).toMatchObject({ id: 'sleepy', state: 'cancelled' });
    // Cancelling an ended run changes nothing.
    expect((await call(client, 'cancel', { runId })).value).toMatchObject({ status: 'cancelled', stopping: false });
  });

  it('approve: a task that waits for a person starts once approved over MCP', { timeout: 150_000 }, async () => {
    const repo = gitProject();
    const { client } = await connect(repo);
    const plan = {
      name: 'gated',
      tasks: [
        { id: 'build', run: ['true'] },
        { id: 'deploy', needs: ['build'], approval: 'required', run: ['sh', '-c', 'echo deployed'] },
      ],
    };
    const { runId } = (await call(client, 'run', { plan })).value as { runId: string };
    const typo = await call(client, 'approve', { runId, task: 'deplyo' });
    expect(typo.isError).toBe(true);
    // The hint names the tool that lists the tasks, not the HTTP API's route.
    expect(typo.text).toBe(`WEFT_RUN_NOT_FOUND: run ${runId} has no task "deplyo"\ndid you mean "deploy"?`);
    // Without a near name, the hint names the tool that lists the tasks, not the HTTP API's route.
    const none = await call(client, 'approve', { runId, task: 'zzz' });
    expect(none.text).toBe(`WEFT_RUN_NOT_FOUND: run ${runId} has no task "zzz"\nthe \`status\` tool lists them`);
    // Once deploy waits (build done), the approval goes through; before, it says what is waiting.
    const approved = await until(async () => {
      const a = await call(client, 'approve', { runId, task: 'deploy' });
      if (a.isError) expect(a.text).toMatch(/not waiting for approval|no run/);
      return a.isError ? undefined : a.value;
    });
    expect(approved).toMatchObject({ runId, task: 'deploy', decision: 'approved' });
    const status = await ended(client, runId);
    expect(status.summary.status).toBe('succeeded');
    expect((await call(client, 'logs', { runId, task: 'deploy' })).value?.text).toBe('deployed\n');
    const never = await call(client, 'logs', { runId, task: 'deploy', attempt: 2 });
    expect(never).toMatchObject({ isError: true });
    expect(never.text).toBe(
      `WEFT_USAGE: task "deploy" of run ${runId} made 1 attempt(s), not 2\nleave out attempt for the latest`,
    );
  });

  it(
    'resume: a cancelled run goes on from its journal, given again the secret var it was started with',
    { timeout: 150_000 },
    async () => {
      const repo = gitProject();
      const { client, logs } = await connect(repo);
      const secret = 'sk-mcp-resume-5d1e';
      const go = join(repo, 'go');
      const plan = {
        name: 'resumable',
        vars: { api_token: 'none' },
        tasks: [
          { id: 'wait', run: ['sh', '-c', `echo started; while [ ! -f ${go} ]; do sleep 0.1; done`] },
          { id: 'after', needs: ['wait'], when: `vars.api_token == "${secret}"`, run: ['sh', '-c', 'echo after'] },
        ],
      };
      const { runId } = (await call(client, 'run', { plan, vars: { api_token: secret } })).value as { runId: string };
      await until(async () => ((await call(client, 'logs', { runId, task: 'wait' })).value?.text ? true : undefined));
      await call(client, 'cancel', { runId });
      expect((await ended(client, runId)).summary.status).toBe('cancelled');
      writeFileSync(go, '');

      // As `POST /api/runs/:id/resume` answers: the task to retry named as the field, with a did-you-mean.
      const typo = await call(client, 'resume', { runId, retry: ['wiat'] });
      expect(typo.isError).toBe(true);
      expect(typo.text).toBe(`WEFT_USAGE: retry: no task "wiat" in run ${runId}\ndid you mean "wait"?`);
      // Without the secret the journal keeps masked, the resume is refused and says which var.
      const refused = await call(client, 'resume', { runId: runId.slice(0, 17) });
      expect(refused.isError).toBe(true);
      expect(refused.text).toContain('var api_token was given with --set');

      await until(async () => (logs.some((l) => l.type === 'run.finished') ? true : undefined), 30_000);
      const beforeResume = logs.length;
      const resumed = await call(client, 'resume', { runId: runId.slice(0, 17), vars: { api_token: secret } });
      expect(resumed.isError, resumed.text).toBe(false);
      expect(resumed.value).toEqual({ runId });
      const status = await ended(client, runId);
      expect(status.summary.status).toBe('succeeded');
      // The resumed run's events come as notifications too, from the resume on (none of the first run's again).
      await until(async () => (logs.filter((l) => l.type === 'run.finished').length === 2 ? true : undefined), 30_000);
      const after = logs.slice(beforeResume).filter((l) => l.runId === runId);
      expect(after[0]?.type).toBe('run.resumed');
      expect(after.filter((l) => l.type === 'task.succeeded').map((l) => l.task)).toEqual(['wait', 'after']);
      expect(after.at(-1)?.type).toBe('run.finished');
      // The condition read the real value: `after` ran, not skipped.
      expect((await call(client, 'logs', { runId, task: 'after' })).value.text).toBe('after\n');
      const again = await call(client, 'resume', { runId });
      expect(again.text).toBe(`WEFT_RUN_STATE: run ${runId} already succeeded; nothing to resume`);
    },
  );

  it("run: vars set the plan's variables, given as JSON values or as strings", { timeout: 150_000 }, async () => {
    const repo = gitProject();
    const { client } = await connect(repo);
    const plan = {
      name: 'typed',
      vars: { deploy: false, replicas: 1 },
      tasks: [{ id: 'ship', when: 'vars.deploy && vars.replicas > 2', run: ['sh', '-c', 'echo shipped'] }],
    };
    for (const vars of [
      { deploy: true, replicas: 3 },
      { deploy: 'true', replicas: '3' },
    ]) {
      const started = await call(client, 'run', { plan, vars });
      expect(started.isError, started.text).toBe(false);
      const status = await ended(client, started.value.runId as string);
      expect(status.summary.tasks).toEqual([expect.objectContaining({ id: 'ship', state: 'succeeded' })]);
    }
  });

  it('-C names the folder served, whatever the cwd; paths resolve there', { timeout: 60_000 }, async () => {
    const repo = gitProject({ 'plan.yaml': JSON.stringify(SMALL_PLAN) });
    const { client } = await connect(tempProject('weft-mcp-elsewhere-'), ['-C', repo]);
    const est = await call(client, 'estimate', { planFile: 'plan.yaml' });
    expect(est.isError, est.text).toBe(false);
    expect(est.value).toMatchObject({ plan: 'small', workers: 2 });
    expect((await call(client, 'estimate', { planFile: join(repo, 'plan.yaml') })).value.plan).toBe('small');
    // An inline plan is only estimated: nothing is saved.
    expect((await call(client, 'estimate', { plan: SMALL_PLAN })).value.tasks).toBe(3);
    expect(existsSync(join(repo, '.weft', 'plans'))).toBe(false);
  });

  it('weft run --run-id (what weft mcp passes) refuses an id that exists', { timeout: 60_000 }, async () => {
    const repo = gitProject({ 'plan.yaml': JSON.stringify(SMALL_PLAN) });
    const first = await weft(['run', 'plan.yaml', '--run-id', 'my-run-1', '--json'], { cwd: repo });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('"runId":"my-run-1"');
    const again = await weft(['run', 'plan.yaml', '--run-id', 'my-run-1'], { cwd: repo });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('weft: --run-id: run my-run-1 exists already');
    const bad = await weft(['run', 'plan.yaml', '--run-id', '../escape'], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`weft: --run-id expects letters, digits, '-', '_' or '.', got "../escape"`);
  });

  it('bad input: a tool error naming the field and the fix, never a stack trace', { timeout: 90_000 }, async () => {
    const repo = gitProject();
    mkdirSync(join(repo, 'sub'));
    const { client } = await connect(join(repo, 'sub'));
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['status', {}, /runId is required/],
      ['status', { runId: '../../etc' }, /runId: letters, digits/],
      ['logs', { runId: 'x' }, /task is required/],
      ['run', {}, /plan or planFile is required[\s\S]*give `plan`/],
      ['run', { plan: SMALL_PLAN, planFile: 'plan.yaml' }, /plan and planFile were both given/],
      ['run', { planFile: 'nope.yaml' }, /planFile: nope\.yaml: no such file/],
      ['run', { planFile: '../README.md' }, /planFile: \.\.\/README\.md is outside the folder this server serves/],
      ['run', { planFile: '/etc/passwd' }, /planFile: \/etc\/passwd is outside/],
      ['run', { plan: SMALL_PLAN, working_directory: '..' }, /working_directory: \.\. is outside/],
      [
        'run',
        { plan: { tasks: [{ id: 'a', rnu: ['true'] }] } },
        /WEFT_PLAN_INVALID[\s\S]*plan task "a" rnu: unknown field "rnu" — fix: did you mean "run"\?/,
      ],
      ['run', { plan: { tasks: [{ id: 'a', run: ['true'], needs: ['b'] }] } }, /needs[\s\S]*"b"/],
      ['run', { plan: SMALL_PLAN, workers: 0 }, /workers/],
      ['status', { runId: 'nosuchrun' }, /^WEFT_RUN_NOT_FOUND: no run "nosuchrun".*\nthe `runs` tool lists them$/],
      ['build_and_deploy', { task: 'x', github_repo_name: 'a b' }, /github_repo_name: a repository name/],
      ['estimate', { plan: { tasks: [] } }, /WEFT_PLAN_INVALID/],
      [
        'approve',
        { runId: 'x', task: 'deploy', decision: 'reject' },
        /^WEFT_USAGE: reason is required to reject[^]*a reason/,
      ],
      ['approve', { runId: 'x', task: 'deploy', decision: 'reject', reason: '  ' }, /reason is required to reject/],
    ];
    for (const [tool, args, expected] of cases) {
      const r = await call(client, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)} → ${r.text}`).toBe(true);
      expect(r.text, `${tool} ${JSON.stringify(args)}`).toMatch(expected);
      expect(r.text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack
      const lines = r.text.split('\n');
      expect(new Set(lines).size, `each problem once: ${r.text}`).toBe(lines.length);
    }
    // Nothing was started by any of them.
    expect(existsSync(join(repo, 'sub', '.weft', 'launched'))).toBe(false);
  });

  it(
    'a run survives the server: the client goes, the run ends, a new server reports it',
    { timeout: 150_000 },
    async () => {
      const repo = gitProject();
      const first = await connect(repo);
      const plan = { name: 'outlive', tasks: [{ id: 'slow', run: ['sh', '-c', 'sleep 2; echo done'] }] };
      const { runId } = (await call(first.client, 'run', { plan })).value as { runId: string };
      await first.client.close();
      const second = await connect(repo);
      const status = await ended(second.client, runId);
      expect(status.summary.status).toBe('succeeded');
      expect((await call(second.client, 'logs', { runId, task: 'slow' })).value.text).toBe('done\n');
      // The inline plan was saved where `weft resume` finds it.
      expect(JSON.parse(readFileSync(join(repo, '.weft', 'runs', runId, 'plan.json'), 'utf8')).plan.name).toBe(
        'outlive',
      );
    },
  );
});

/**
 * Real agents, end to end: the `weft` CLI runs the real `claude`, `codex` and `gemini` binaries in
 * git worktrees, against a FakeLlmServer on 127.0.0.1 (each test its own server, HOME, repository
 * and `weft.config.yaml`). Every test ends with `verify()` == []: nothing left 127.0.0.1 and every
 * scripted step was played.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { priceUsage } from '../../src/core/run/pricing.js';
import { taskProcesses } from '../../src/executors/process/task-processes.js';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import {
  e2eProject,
  ensureBuilt,
  inCheckout,
  jsonLines,
  runFile,
  runIdOf,
  sessionsOf,
  step,
  turnsOf,
  waitFor,
  worktreeIn,
  writeInWorktree,
  writesFile,
  type E2eProject,
} from './e2e-kit.js';

beforeAll(ensureBuilt);

const TIMEOUT = 120_000;

/** A plan file committed with the project, so the checkout is clean before the run. */
const planFile = (plan: unknown): Record<string, string> => ({ 'plan.yaml': `${JSON.stringify(plan, null, 2)}\n` });

interface TaskSummary {
  readonly id: string;
  readonly state: string;
  readonly attempts: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly reason?: string;
}
interface Summary {
  readonly runId: string;
  readonly status: string;
  readonly reason?: string;
  readonly counts: Record<string, number>;
  readonly tasks: readonly TaskSummary[];
}

const summaryOf = (p: E2eProject, runId: string): Summary =>
  JSON.parse(runFile(p.repo, runId, 'summary.json')) as Summary;
const taskIn = (s: Summary, id: string): TaskSummary | undefined => s.tasks.find((t) => t.id === id);
const show = (p: E2eProject, runId: string, file: string): string => p.git('show', `weft/${runId}:${file}`);
/** Where the agent executors keep a run's per-task CLI state ($XDG_STATE_HOME of the test's home). */
const agentStateOf = (p: E2eProject, runId: string): string => join(p.home, '.local', 'state', 'weft', 'agents', runId);

describe.concurrent('Real agents', () => {
  it(
    'runs claude, codex and gemini in parallel worktrees; the integration branch holds all three files; weft apply fast-forwards',
    { timeout: TIMEOUT },
    async (ctx) => {
      const plan = {
        name: 'three-clis',
        workers: 3,
        tasks: [
          { id: 'api', executor: 'claude', prompt: 'Write api.txt [task-api]', writes: ['api.txt'] },
          { id: 'cli', executor: 'codex', prompt: 'Write cli.txt [task-cli]', writes: ['cli.txt'] },
          { id: 'docs', executor: 'gemini', prompt: 'Write docs.txt [task-docs]', writes: ['docs.txt'] },
        ],
      };
      const p = await e2eProject(ctx, { files: planFile(plan) });
      for (const t of plan.tasks)
        p.llm.script(
          { marker: `[task-${t.id}]` },
          ...writesFile(p.repo, t.id, `${t.id}.txt`, `${t.id} by ${t.executor}\n`),
        );
      const head = p.git('rev-parse', 'HEAD').trim();

      const r = await p.weft(['run', 'plan.yaml']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runId = runIdOf(r.stdout);
      expect(r.stdout).toContain(`  result       branch weft/${runId} · \`weft apply\` brings it into your branch\n`);
      for (const t of plan.tasks) expect(show(p, runId, `${t.id}.txt`)).toBe(`${t.id} by ${t.executor}\n`);
      // All three ran at once, each in its own worktree of this run.
      const s = summaryOf(p, runId);
      expect(new Set(s.tasks.map((t) => t.state))).toEqual(new Set(['succeeded']));
      const worktrees = plan.tasks.map((t) =>
        worktreeIn(turnsOf(p.llm, `[task-${t.id}]`)[0] as RecordedRequest, p.repo, t.id),
      );
      expect(worktrees).toEqual(plan.tasks.map((t) => join(p.repo, '.weft', 'worktrees', runId, t.id)));
      // Started together: each began before any of them ended.
      expect(Math.max(...s.tasks.map((t) => t.startedAt))).toBeLessThan(Math.min(...s.tasks.map((t) => t.endedAt)));
      // The user's checkout is untouched: same commit, nothing changed, none of the files.
      expect(p.git('rev-parse', 'HEAD').trim()).toBe(head);
      expect(p.git('status', '--porcelain')).toBe('');
      for (const t of plan.tasks) expect(inCheckout(p.repo, `${t.id}.txt`)).toBe(false);
      // The run succeeded, so no session will be resumed: the per-task CLI state is gone.
      expect(existsSync(agentStateOf(p, runId))).toBe(false);

      const applied = await p.weft(['apply', runId]);

      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(
        new RegExp(`^applied weft/${runId} to main \\(fast-forward\\): ${head.slice(0, 10)} → `),
      );
      expect(p.git('rev-parse', 'HEAD').trim()).toBe(p.git('rev-parse', `weft/${runId}`).trim());
      for (const t of plan.tasks) expect(inCheckout(p.repo, `${t.id}.txt`)).toBe(true);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it('routes a merge conflict back to the same agent session, which resolves it', { timeout: TIMEOUT }, async (ctx) => {
    // Both change the same line of greeting.txt and nothing orders them: whichever merges second conflicts.
    const plan = {
      name: 'conflict',
      workers: 2,
      tasks: [
        { id: 'a', executor: 'claude', prompt: 'Greet from a [task-a]' },
        { id: 'b', executor: 'claude', prompt: 'Greet from b [task-b]' },
      ],
    };
    const p = await e2eProject(ctx, { files: { 'greeting.txt': 'hello\n', ...planFile(plan) } });
    const taskOf = (r: RecordedRequest): 'a' | 'b' => (r.userTexts.some((u) => u.includes('[task-a]')) ? 'a' : 'b');
    const greeting = (r: RecordedRequest): string => join(worktreeIn(r, p.repo, taskOf(r)), 'greeting.txt');
    const conflictTold = (r: RecordedRequest): boolean => r.userTexts.some((u) => u.includes('could not be merged'));
    // Claude's Write refuses a file it has not read, so each edit reads first.
    const fix = p.llm.script(
      { name: 'fix', match: conflictTold },
      (r) => step.tool('Read', { file_path: greeting(r) }),
      (r) => step.writeFile(greeting(r), 'hello from a\nhello from b\n'),
      step.text('Kept both greetings'),
    );
    for (const id of ['a', 'b'])
      p.llm.script(
        { marker: `[task-${id}]` },
        (r) => step.tool('Read', { file_path: greeting(r) }),
        (r) => step.writeFile(greeting(r), `hello from ${id}\n`),
        step.text(`${id} greeted`),
      );

    const r = await p.weft(['run', 'plan.yaml', '--json']);

    expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    const runId = String(events.find((e) => e.type === 'run.created')?.['runId']);
    expect(show(p, runId, 'greeting.txt')).toBe('hello from a\nhello from b\n');
    // One task conflicted; its conflict went back to it as a fix, not a counted failure.
    const conflicted = events.filter((e) => e.type === 'task.retrying');
    expect(conflicted).toEqual([
      expect.objectContaining({
        attempt: 1,
        error: expect.objectContaining({
          code: 'WEFT_MERGE_CONFLICT',
          message: expect.stringContaining('conflicts in greeting.txt'),
        }),
      }),
    ]);
    const loser = String(conflicted[0]?.['task']);
    const winner = loser === 'a' ? 'b' : 'a';
    // The fix ran in the session the task started, and the prompt carried the conflict.
    const first = fix.requests[0] as RecordedRequest;
    expect(taskOf(first)).toBe(loser);
    expect(sessionsOf(p.llm, `[task-${loser}]`)).toEqual(new Set([first.headers['x-claude-code-session-id']]));
    const told = first.userTexts.at(-1) as string;
    expect(told).toContain(
      `Your work on task "${loser}" could not be merged into the run's integration branch weft/${runId}`,
    );
    expect(told).toContain('greeting.txt (both changed it)');
    expect(told).toContain(`| hello from ${winner}`);
    expect(told).toContain(`| hello from ${loser}`);
    expect(fix.requests).toHaveLength(3);
    expect(summaryOf(p, runId)).toMatchObject({ status: 'succeeded', counts: { succeeded: 2, failed: 0 } });
    expect(p.llm.verify()).toEqual([]);
  });

  it(
    'backs off from a 429 (honouring retry-after) and succeeds without counting a failure',
    { timeout: TIMEOUT },
    async (ctx) => {
      // retries: 0 — a counted failure would fail the task. Claude retries once itself (weft's cap), so two 429s reach weft.
      const plan = {
        name: 'limited',
        workers: 1,
        tasks: [{ id: 'hello', executor: 'claude', prompt: 'Say hello [task-hello]', retries: 0 }],
      };
      const p = await e2eProject(ctx, { files: planFile(plan) });
      p.llm.script({ marker: '[task-hello]' }, step.rateLimited(2, { times: 2 }), step.text('Hello'));

      const r = await p.weft(['run', 'plan.yaml', '--json']);

      expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      const retrying = events.filter((e) => e.type === 'task.retrying');
      expect(retrying).toEqual([
        expect.objectContaining({
          task: 'hello',
          attempt: 1,
          error: expect.objectContaining({
            code: 'WEFT_RATE_LIMITED',
            transient: true,
            retryAfterMs: 2000,
            message: expect.stringMatching(/^claude: rate limited \(HTTP 429\)/),
          }),
        }),
      ]);
      const retry = retrying[0] as unknown as { at: number; retryAt: number };
      expect(retry.retryAt - retry.at).toBeGreaterThanOrEqual(2000);
      expect(events.filter((e) => e.type === 'task.failed')).toEqual([]);
      expect(events.find((e) => e.type === 'task.succeeded')).toMatchObject({
        task: 'hello',
        attempt: 2,
        result: { text: 'Hello' },
      });
      // Three calls: the 429, Claude's own retry (429 again), then weft's retry after the back-off — in the same session.
      const turns = turnsOf(p.llm, '[task-hello]');
      expect(turns.map((t) => t.reply)).toEqual(['error 429', 'error 429', 'text']);
      expect(
        (turns[2] as RecordedRequest).receivedAt - (turns[1] as RecordedRequest).receivedAt,
      ).toBeGreaterThanOrEqual(2000);
      expect(sessionsOf(p.llm, '[task-hello]').size).toBe(1);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'stops cleanly once the run budget is spent: no new agent starts, the reason is in the summary, exit 1',
    { timeout: TIMEOUT },
    async (ctx) => {
      // Two agents start (workers: 2); each costs Claude's price of 100k in / 10k out tokens — more than the whole budget.
      const ids = ['a', 'b', 'c', 'd'];
      const plan = {
        name: 'budget',
        workers: 2,
        budget: { usd: 0.5 },
        tasks: ids.map((id) => ({ id, executor: 'claude', prompt: `Say hi [task-${id}]` })),
      };
      const p = await e2eProject(ctx, { files: planFile(plan) });
      p.llm.enqueue('anthropic', step.text('hi', { usage: { input: 100_000, output: 10_000 }, times: 2 }));

      const r = await p.weft(['run', 'plan.yaml']);

      expect(r.code, r.stdout + r.stderr).toBe(1);
      const runId = runIdOf(r.stdout);
      const line = new RegExp(
        `^Run ${runId} failed — budget exceeded: spent \\$(\\d+\\.\\d{4}) of \\$0\\.5$`,
        'm',
      ).exec(r.stdout);
      expect(line, r.stdout).not.toBeNull();
      expect(Number(line?.[1])).toBeGreaterThanOrEqual(0.5);
      // The two that were running finished; the two that had not started never did.
      const s = summaryOf(p, runId);
      expect(s).toMatchObject({ status: 'failed', counts: { succeeded: 2, cancelled: 2, failed: 0 } });
      const ran = ids.filter((id) => taskIn(s, id)?.state === 'succeeded');
      for (const id of ids.filter((i) => !ran.includes(i))) {
        expect(taskIn(s, id)).toMatchObject({
          state: 'cancelled',
          attempts: 0,
          reason: expect.stringContaining('budget exceeded'),
        });
        expect(turnsOf(p.llm, `[task-${id}]`)).toEqual([]);
      }
      expect(p.llm.turns()).toHaveLength(2);
      expect(p.llm.verify()).toEqual([]);
      // A failed run can be resumed or retried: the sessions' state stays.
      expect(readdirSync(join(agentStateOf(p, runId), 'claude')).sort()).toEqual(ran.sort());
    },
  );

  it(
    'sums usage and cost in the report: tokens as the server reported them, cost as Claude reported it (and priced for Codex and Gemini)',
    { timeout: TIMEOUT },
    async (ctx) => {
      const plan = {
        name: 'usage',
        workers: 3,
        tasks: [
          { id: 'api', executor: 'claude', prompt: 'Write api.txt [task-api]' },
          { id: 'cli', executor: 'codex', prompt: 'Write cli.txt [task-cli]' },
          { id: 'docs', executor: 'gemini', prompt: 'Write docs.txt [task-docs]' },
        ],
      };
      const p = await e2eProject(ctx, { files: planFile(plan) });
      const usage = {
        api: [
          { input: 1000, output: 50, cached: 200 },
          { input: 1100, output: 70 },
        ],
        cli: [
          { input: 3000, output: 100, cached: 500 },
          { input: 3200, output: 40 },
        ],
        docs: [
          { input: 500, output: 20 },
          { input: 600, output: 30, cached: 100 },
        ],
      } as const;
      for (const t of plan.tasks) {
        const [write, done] = usage[t.id as keyof typeof usage];
        p.llm.script(
          { marker: `[task-${t.id}]` },
          writeInWorktree(p.repo, t.id, `${t.id}.txt`, `${t.id}\n`, { usage: write }),
          step.text(`${t.id} done`, { usage: done }),
        );
      }

      const r = await p.weft(['run', 'plan.yaml']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const runId = runIdOf(r.stdout);
      const report = await p.weft(['report', runId, '--format', 'json']);

      expect(report.code, report.stderr).toBe(0);
      const json = JSON.parse(report.stdout) as {
        summary: { usage: Record<string, number> };
        tasks: { id: string; usage: Record<string, number> | null }[];
      };
      const taskUsage = (id: string): Record<string, number> | null | undefined =>
        json.tasks.find((t) => t.id === id)?.usage;
      // Prompt tokens as each API counts them: Anthropic's input_tokens leaves out cache reads, OpenAI's and Gemini's include them.
      const sum = (
        id: keyof typeof usage,
        f: (u: { input: number; output: number; cached?: number }) => number,
      ): number => usage[id].reduce((n, u) => n + f(u), 0);
      const expected = {
        api: {
          inputTokens: sum('api', (u) => u.input + (u.cached ?? 0)),
          outputTokens: sum('api', (u) => u.output),
          cacheReadTokens: sum('api', (u) => u.cached ?? 0),
        },
        cli: {
          inputTokens: sum('cli', (u) => u.input),
          outputTokens: sum('cli', (u) => u.output),
          cacheReadTokens: sum('cli', (u) => u.cached ?? 0),
        },
        docs: {
          inputTokens: sum('docs', (u) => u.input),
          outputTokens: sum('docs', (u) => u.output),
          cacheReadTokens: sum('docs', (u) => u.cached ?? 0),
        },
      };
      for (const [id, e] of Object.entries(expected)) expect(taskUsage(id), id).toMatchObject(e);
      // Cost: what Claude reported in its result record; Codex and Gemini report tokens only, so weft prices them.
      const claudeResult = runFile(p.repo, runId, 'tasks', 'api', '1.stdout.log')
        .split('\n')
        .filter((l) => l.includes('"type":"result"'))
        .map((l) => JSON.parse(l) as { total_cost_usd: number })[0];
      const claudeCost = claudeResult?.total_cost_usd ?? NaN;
      expect(claudeCost).toBeGreaterThan(0);
      expect(taskUsage('api')?.['costUsd']).toBe(claudeCost);
      const priced = (model: string, e: (typeof expected)['cli']): number => priceUsage({ model, ...e }).costUsd ?? NaN;
      expect(taskUsage('cli')?.['costUsd']).toBeCloseTo(priced('gpt-5.5', expected.cli), 9);
      expect(taskUsage('docs')?.['costUsd']).toBeCloseTo(priced('gemini-2.5-flash', expected.docs), 9);
      const total = Object.values(expected).reduce((t, e) => ({
        inputTokens: t.inputTokens + e.inputTokens,
        outputTokens: t.outputTokens + e.outputTokens,
        cacheReadTokens: t.cacheReadTokens + e.cacheReadTokens,
      }));
      expect(json.summary.usage).toMatchObject({ ...total, cacheWriteTokens: 0 });
      expect(json.summary.usage['costUsd']).toBeCloseTo(
        claudeCost + priced('gpt-5.5', expected.cli) + priced('gemini-2.5-flash', expected.docs),
        9,
      );
      // The printed summary says the same.
      expect(r.stdout).toContain(
        `usage        ${total.inputTokens} in / ${total.outputTokens} out tokens, $${(json.summary.usage['costUsd'] as number).toFixed(4)}`,
      );
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'resumes a run whose coordinator was SIGKILLed after the first agent merged, without running that agent again',
    { timeout: TIMEOUT },
    async (ctx) => {
      const plan = {
        name: 'crash',
        workers: 1,
        tasks: [
          { id: 'first', executor: 'claude', prompt: 'Write first.txt [task-first]' },
          { id: 'second', executor: 'claude', needs: ['first'], prompt: 'Write second.txt [task-second]' },
        ],
      };
      const p = await e2eProject(ctx, { files: planFile(plan) });
      p.llm.script({ marker: '[task-first]' }, ...writesFile(p.repo, 'first', 'first.txt', 'first\n'));
      // The second agent's first call never answers: the coordinator dies while it waits.
      p.llm.script({ marker: '[task-second]' }, step.hang(), ...writesFile(p.repo, 'second', 'second.txt', 'second\n'));

      const run = p.start(['run', 'plan.yaml', '--json']);
      // `second` starts only once `first` is merged and its success journaled.
      await waitFor(
        'the second agent to call the model',
        () => turnsOf(p.llm, '[task-second]').length > 0 || run.child.exitCode !== null,
      );
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal, killed.stdout.slice(-2000) + killed.stderr).toBe('SIGKILL');
      const runId = String(jsonLines(killed.stdout).find((e) => e.type === 'run.created')?.['runId']);
      expect(show(p, runId, 'first.txt')).toBe('first\n');
      const status = await p.weft(['status', runId, '--json']);
      expect(JSON.parse(status.stdout)).toMatchObject({
        status: 'running',
        tasks: [
          { id: 'first', state: 'succeeded' },
          { id: 'second', state: 'running' },
        ],
      });
      const firstTurns = turnsOf(p.llm, '[task-first]').length;
      // The agent left waiting by the dead coordinator is stopped by its orphan reaper, not left to run on.
      await waitFor('the orphaned agent to be stopped', () => taskProcesses(runId).length === 0);

      const resumed = await p.weft(['resume', runId]);

      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      expect(resumed.stderr).not.toMatch(/left running by the coordinator that died/); // nothing left to stop
      expect(resumed.stdout).toMatch(new RegExp(`^Run ${runId} succeeded`, 'm'));
      expect(turnsOf(p.llm, '[task-first]')).toHaveLength(firstTurns);
      expect(sessionsOf(p.llm, '[task-first]').size).toBe(1);
      expect(show(p, runId, 'first.txt')).toBe('first\n');
      expect(show(p, runId, 'second.txt')).toBe('second\n');
      expect(summaryOf(p, runId)).toMatchObject({
        status: 'succeeded',
        tasks: [
          { id: 'first', attempts: 1 },
          { id: 'second', attempts: 2 },
        ],
      });
      expect(p.llm.verify()).toEqual([]);
    },
  );
});

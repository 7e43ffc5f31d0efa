/**
 * The watchdog on tasks that call a model: a real claude and an API task against FakeLlmServer,
 * whose first answer never comes. Each is stopped after its `stallAfter`, retried (claude resumes its
 * session, told it stalled), and the summary says so.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { FakeLlmServer, step } from '../support/fake-llm/fake-llm-server.js';
import { claudeEnv, makeAgentDirs } from '../support/fake-llm/agent-env.js';
import { CLI_BINS } from '../support/fake-llm/run-cli.js';

beforeAll(ensureBuilt);

describe('stallAfter on agent and API tasks', () => {
  it('stops a hung claude and a hung API call, retries both, and the summary says claude’s session was resumed', async (ctx) => {
    const llm = await FakeLlmServer.start();
    const dirs = await makeAgentDirs();
    ctx.onTestFinished(async () => {
      await llm.close();
      await dirs.cleanup();
    });
    // claude's own start-up counts against stallAfter: on a loaded machine its retry took over 3 s.
    llm.script({ marker: '[agent]' }, step.hang(), step.text('agent done'));
    llm.script({ marker: '[api]' }, step.hang(), step.text('api done'));
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      `workers: 2
tasks:
  - id: agent
    executor: claude
    prompt: "Say done [agent]"
    stallAfter: 8s
    retries: 1
    backoff: { initial: 10ms, jitter: false }
  - id: api
    executor: anthropic
    prompt: "Say done [api]"
    stallAfter: 1s
    retries: 1
    backoff: { initial: 10ms, jitter: false }
`,
    );
    writeFileSync(
      join(project, 'weft.config.yaml'),
      `executors:\n  claude: { bin: "${CLI_BINS.claude}" }\n  anthropic: { baseUrl: "${llm.url}" }\n`,
    );
    const { env } = await claudeEnv(llm, { home: dirs.home });
    const r = await weft(['run', 'plan.yaml', '--no-isolation'], { cwd: project, env, timeoutMs: 120_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/agent attempt 1 stalled: no progress for [\d.]+s; stopping it/);
    expect(r.stdout).toMatch(/api attempt 1 stalled: no progress for [\d.]+s; stopping it/);

    const runs = readdirSync(join(project, '.weft', 'runs'));
    const summary = JSON.parse(
      readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'),
    ) as { tasks: { id: string; state: string; stalls?: unknown }[] };
    expect(summary.tasks.find((t) => t.id === 'agent')).toMatchObject({
      state: 'succeeded',
      stalls: [{ attempt: 1, then: 'resumed', next: 2 }],
    });
    expect(summary.tasks.find((t) => t.id === 'api')).toMatchObject({
      state: 'succeeded',
      stalls: [{ attempt: 1, then: 'retried', next: 2 }],
    });
    // The resumed session was told why.
    const resumed = llm
      .turns()
      .filter((t) => t.userTexts.some((u) => u.includes('[agent]')))
      .at(-1);
    expect(resumed?.userTexts.join('\n')).toMatch(/Your previous attempt at this task stalled/);

    const status = await weft(['status'], { cwd: project });
    expect(status.stdout).toMatch(
      /attempt 1 stalled \(no progress for [\d.]+s\): session resumed as attempt 2, told it stalled/,
    );
  });
});

/**
 * `limits:` on an agent task, with the real Claude Code binary against FakeLlmServer: the CLI and
 * the commands its Bash tool runs are in the attempt's cgroup (or under its rlimit), and a command
 * the OOM killer stops fails the task with "memory limit … exceeded". The limits code is shared by
 * every agent CLI (AgentCliExecutor): claude covers it, codex checks the cgroup once more.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claudeEnv, codexEnv } from '../../../test/support/fake-llm/agent-env.js';
import { ClaudeExecutor } from './claude-executor.js';
import { CodexExecutor } from './codex-executor.js';
import { agentHarness, agentTask, CLI_BINS, step, type AgentHarness } from './testing/agent-harness.js';

const TIMEOUT = 90_000;

async function claude(h: AgentHarness, env: NodeJS.ProcessEnv = {}): Promise<ClaudeExecutor> {
  const base = await claudeEnv(h.llm, { home: h.home });
  return new ClaudeExecutor({ bin: CLI_BINS.claude, env: { ...base.env, ...env } });
}

/** What the scripted Bash tool call printed, as the model was sent it. */
function toolOutput(h: AgentHarness): string {
  return (h.llm.turns()[1]?.toolResults ?? []).map((r) => String(r.output)).join('\n');
}

describe('limits on an agent task', { concurrent: true }, () => {
  it(
    'runs the CLI and its tools in the attempt’s cgroup, with the memory and CPU limits set',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue(
        'anthropic',
        // v1 (a cgroup per controller) or v2 (one cgroup), whichever the host has.
        step.shell(
          'cat /proc/self/cgroup; cd /sys/fs/cgroup; cat memory/weft/run-1.lim.1/memory.limit_in_bytes cpu/weft/run-1.lim.1/cpu.cfs_quota_us weft/run-1.lim.1/memory.max weft/run-1.lim.1/cpu.max 2>/dev/null',
        ),
        step.text('looked'),
      );
      const { outcome } = await h.run(
        await claude(h),
        agentTask({ id: 'lim', prompt: 'Where am I?', limits: { memory: '1GB', cpus: 1.5 }, allowedTools: ['Bash'] }),
      );
      expect(outcome).toMatchObject({ ok: true, result: { text: 'looked' } });
      const out = toolOutput(h);
      expect(out).toMatch(/^\d+:(memory|):\/weft\/run-1\.lim\.1$/m);
      expect(out).toMatch(/^\d+:(cpu|):\/weft\/run-1\.lim\.1$/m);
      expect(out).toContain(String(1024 ** 3));
      expect(out).toContain('150000');
    },
  );

  it(
    'fails the task when a command the agent ran went over the memory limit, though the agent carried on',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue(
        'anthropic',
        step.shell(`node -e "const a = []; for (;;) a.push(Buffer.alloc(8 << 20, 1))"`),
        step.text('the command was killed, but I am done'),
      );
      const { outcome } = await h.run(
        await claude(h),
        agentTask({ id: 'hog', prompt: 'Use memory', limits: { memory: '600MB' }, allowedTools: ['Bash'] }),
      );
      expect(outcome).toMatchObject({
        ok: false,
        failure: {
          code: 'WEFT_LIMIT_EXCEEDED',
          message: expect.stringMatching(
            /^memory limit 600MB exceeded \(cgroup v[12]\): a process the agent started was killed$/,
          ),
        },
      });
      expect(toolOutput(h)).toMatch(/137|Killed/);
    },
  );

  it(
    'falls back to an address-space rlimit where cgroups cannot be written: the tools inherit it',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue('anthropic', step.shell('grep "Max address space" /proc/self/limits'), step.text('looked'));
      const { outcome } = await h.run(
        await claude(h, { WEFT_CGROUP_ROOT: join(h.root, 'no-cgroups') }),
        agentTask({ id: 'rl', prompt: 'What is my limit?', limits: { memory: '4GB' }, allowedTools: ['Bash'] }),
      );
      expect(outcome).toMatchObject({ ok: true, result: { text: 'looked' } });
      expect(toolOutput(h)).toMatch(new RegExp(`Max address space\\s+${4 * 1024 ** 3}\\s+${4 * 1024 ** 3}`));
    },
  );

  it(
    'under an rlimit too small for the CLI’s runtime to start, fails naming the limit',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      const { outcome } = await h.run(
        await claude(h, { WEFT_CGROUP_ROOT: join(h.root, 'no-cgroups') }),
        agentTask({ id: 'small', prompt: 'Hello', limits: { memory: '300MB' } }),
      );
      expect(outcome).toMatchObject({
        ok: false,
        failure: {
          code: 'WEFT_LIMIT_EXCEEDED',
          message: expect.stringMatching(
            /^memory limit 300MB exceeded \(rlimit\): killed by SIG[A-Z]+; an address-space rlimit also counts what claude's runtime reserves \(about 1GB\): raise limits\.memory/,
          ),
        },
      });
    },
  );

  it(
    'codex too: the Node launcher, the codex binary and its shell tool share the attempt’s cgroup',
    { timeout: TIMEOUT },
    async (ctx) => {
      const h = await agentHarness(ctx);
      h.llm.enqueue('openai', step.shell('cat /proc/self/cgroup'), step.text('looked'));
      const { env } = await codexEnv(h.llm, { home: h.home });
      const codex = new CodexExecutor({
        bin: CLI_BINS.codex,
        env,
        baseUrl: `${h.llm.url}/v1`,
        apiKeyEnv: 'LOCAL_API_KEY',
        model: 'gpt-5.5',
        args: ['-c', 'analytics.enabled=false', '--disable', 'plugins'],
      });
      const { outcome } = await h.run(codex, agentTask({ id: 'cx', prompt: 'Where am I?', limits: { memory: '2GB' } }));
      expect(outcome).toMatchObject({ ok: true, result: { text: 'looked' } });
      expect(toolOutput(h)).toMatch(/^\d+:(memory|):\/weft\/run-1\.cx\.1$/m);
    },
  );
});

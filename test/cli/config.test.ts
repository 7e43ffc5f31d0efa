/**
 * `weft.config.yaml` through the real binary: `weft schema --config` is the JSON Schema of the file,
 * generated from the same zod source the loader and the executors' option types use, and a setting
 * in the file reaches the executor that runs the task.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { parse } from 'yaml';
import { checkJson, jsonSchemaProblem } from '../../src/core/json-schema.js';
import {
  AgentSettingsSchema,
  LlmSettingsSchema,
  type AgentExecutorOptions,
  type AgentSettings,
  type LlmExecutorOptions,
  type LlmSettings,
} from '../../src/executors/index.js';
import { FakeLlmServer, step } from '../support/fake-llm/fake-llm-server.js';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** The `weft.config.yaml` example in the README's "What to configure" section. */
function readmeConfig(): unknown {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /`weft\.config\.yaml` in the project folder[^\n]*\n\n```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README has no weft.config.yaml example');
  return parse(block);
}

/** The part of a JSON Schema these tests read. */
interface SchemaNode {
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

async function configSchema(): Promise<SchemaNode> {
  const r = await weft(['schema', '--config']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as SchemaNode;
}

/** The names of the properties a schema node declares. */
const names = (node: SchemaNode | undefined): string[] => Object.keys(node?.properties ?? {});

describe('weft schema --config', () => {
  it('prints a JSON Schema (2020-12) that accepts the README example and refuses what the loader refuses', async () => {
    const schema = await configSchema();
    const draft = 'https://json-schema.org/draft/2020-12/schema';
    expect(schema).toMatchObject({ $schema: draft, type: 'object', additionalProperties: false });
    // Checked with weft's own JSON Schema validator (ajv, as outputSchema and contracts are), which
    // takes 2020-12 the way an editor's schema support does.
    const plain = schema as Readonly<Record<string, unknown>>;
    expect(jsonSchemaProblem(plain)).toBeUndefined();
    expect(checkJson(plain, readmeConfig())).toMatchObject({ ok: true });
    expect(checkJson(plain, { executors: { openai: { baseURL: 'http://localhost:1' } } })).toEqual({
      ok: false,
      path: 'executors.openai.baseURL',
      problem: 'is not allowed (additionalProperties: false)',
    });
    expect(checkJson(plain, { executors: { claud: { model: 'x' } } })).toEqual({
      ok: false,
      path: 'executors.claud',
      problem: 'is not allowed (additionalProperties: false)',
    });
    expect(checkJson(plain, { executors: { claude: { args: 'not-a-list' } } })).toEqual({
      ok: false,
      path: 'executors.claude.args',
      problem: 'must be array, not string',
    });
  });

  it("lists each executor's settings exactly as the zod source does, with descriptions", async () => {
    const executors = (await configSchema()).properties?.executors;
    expect(names(executors)).toEqual(['claude', 'codex', 'gemini', 'anthropic', 'openai']);
    const agentFields = Object.keys(AgentSettingsSchema.shape);
    const llmFields = Object.keys(LlmSettingsSchema.shape);
    for (const agent of ['claude', 'codex', 'gemini']) {
      expect(names(executors?.properties?.[agent])).toEqual(agentFields);
    }
    for (const api of ['anthropic', 'openai']) expect(names(executors?.properties?.[api])).toEqual(llmFields);
    expect(executors?.properties?.openai?.properties?.baseUrl?.description).toMatch(/Ollama/);
    // The options types extend the inferred settings: a field added to the zod source is an option too.
    expectTypeOf<AgentExecutorOptions>().toMatchTypeOf<Readonly<AgentSettings>>();
    expectTypeOf<LlmExecutorOptions>().toMatchTypeOf<Readonly<LlmSettings>>();
    const agentKeys: readonly (keyof AgentExecutorOptions)[] = agentFields as (keyof AgentSettings)[];
    const llmKeys: readonly (keyof LlmExecutorOptions)[] = llmFields as (keyof LlmSettings)[];
    expect(agentKeys).toContain('permissionMode');
    expect(llmKeys).toContain('apiKeyEnv');
  });

  it('-o writes the same schema to a file; without --config it is still the plan schema', async () => {
    const dir = tempProject();
    const r = await weft(['schema', '--config', '-o', join(dir, 'config.schema.json')]);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(JSON.parse(readFileSync(join(dir, 'config.schema.json'), 'utf8'))).toEqual(await configSchema());
    const plan = JSON.parse((await weft(['schema'])).stdout) as SchemaNode;
    expect(names(plan)).toContain('tasks');
  });
});

describe('weft.config.yaml reaches the executor', () => {
  it('executors.anthropic baseUrl, apiKeyEnv, model: the API call goes there, with that key and model', async (ctx) => {
    const llm = await FakeLlmServer.start();
    ctx.onTestFinished(() => llm.close());
    llm.enqueue('anthropic', step.text('configured answer'));
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: ask, executor: anthropic, prompt: Say hi }\n');
    const anthropic = `{ baseUrl: "${llm.url}", apiKeyEnv: TEAM_KEY, model: claude-from-config }`;
    writeFileSync(join(project, 'weft.config.yaml'), `executors:\n  anthropic: ${anthropic}\n`);

    const env = { TEAM_KEY: 'team-key-123456', ANTHROPIC_API_KEY: '' };
    const r = await weft(['run', 'plan.yaml', '--json', '--no-isolation'], { cwd: project, env });

    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const turns = llm.turns('anthropic');
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ model: 'claude-from-config', userTexts: [expect.stringContaining('Say hi')] });
    expect(turns[0]?.headers.authorization).toBe('Bearer team-key-123456'); // the SDK sends the key as a bearer token
    expect(llm.verify()).toEqual([]);
  });
});

describe('weft.config.yaml pricing reaches the cost', () => {
  /** A run of one openai task on a local server whose model has the given pricing (or none). */
  async function pricedRun(pricing: string | undefined): Promise<{ usage: Record<string, unknown>; md: string }> {
    const llm = await FakeLlmServer.start();
    try {
      llm.enqueue('openai', step.text('answer', { usage: { input: 1000, output: 500 } }));
      const project = tempProject();
      writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: ask, executor: openai, prompt: Say hi }\n');
      writeFileSync(
        join(project, 'weft.config.yaml'),
        `executors:\n  openai: { baseUrl: "${llm.url}/v1", model: local-model-7b }\n${pricing ?? ''}`,
      );
      const r = await weft(['run', 'plan.yaml', '--json', '--no-isolation'], {
        cwd: project,
        env: { OPENAI_API_KEY: '' },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(llm.verify()).toEqual([]);
      const summary = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { type: string; summary: { usage: Record<string, unknown> } })
        .find((l) => l.type === 'run.summary');
      const md = await weft(['report', '--format', 'md'], { cwd: project });
      return { usage: summary?.summary.usage ?? {}, md: md.stdout };
    } finally {
      await llm.close();
    }
  }

  it('a model priced by its id prefix: its tokens cost what the table says, in the summary and the report', async () => {
    const { usage, md } = await pricedRun('pricing:\n  local-model: { input: 2, output: 10 }\n');
    // 1000 × $2/M + 500 × $10/M
    expect(usage).toMatchObject({ inputTokens: 1000, outputTokens: 500 });
    expect(usage.costUsd).toBeCloseTo(0.007, 9);
    expect(md).toContain('| Cost | $0.0070 |');
    expect(md).not.toContain('unpriced');
  });

  it("a project's pricing adds to the list prices: a model it does not name keeps its list price", async (ctx) => {
    const llm = await FakeLlmServer.start();
    ctx.onTestFinished(() => llm.close());
    llm.enqueue('anthropic', step.text('answer', { usage: { input: 1000, output: 500 } }));
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: ask, executor: anthropic, prompt: Say hi }\n');
    // The README's example: a price for a local model only.
    writeFileSync(
      join(project, 'weft.config.yaml'),
      `executors:\n  anthropic: { baseUrl: "${llm.url}", model: claude-sonnet-4-6 }\npricing:\n  llama3.1: { input: 0, output: 0 }\n`,
    );
    const r = await weft(['run', 'plan.yaml', '--no-isolation'], { cwd: project, env: { ANTHROPIC_API_KEY: 'k' } });
    expect(r.code, r.stderr).toBe(0);
    const usage = (
      JSON.parse((await weft(['status', '--json'], { cwd: project })).stdout) as { usage: { costUsd: number } }
    ).usage;
    expect(usage.costUsd).toBeCloseTo(0.0105, 9); // 1000 × $3/M + 500 × $15/M, claude-sonnet-4's list price
    expect((await weft(['report', '--format', 'md'], { cwd: project })).stdout).not.toContain('unpriced');
  });

  it('without a price the tokens are counted and the model named unpriced, not costed at $0', async () => {
    const { usage, md } = await pricedRun(undefined);
    expect(usage).toMatchObject({ inputTokens: 1000, outputTokens: 500, costUsd: 0 });
    expect(md).toContain('local-model-7b unpriced');
  });
});

import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../core/plan/compile.js';
import type { TaskContext } from '../../core/ports/executor.js';
import { composePrompt } from './prompt.js';

const SCHEMA = { type: 'object', required: ['endpoints'], properties: { endpoints: { type: 'array' } } };
const { graph } = compilePlan(
  {
    contracts: [
      {
        name: 'todo-api',
        description: 'The HTTP API.',
        schema: SCHEMA,
        provider: 'design',
        consumers: ['web', 'server'],
      },
    ],
    tasks: [
      { id: 'design', executor: 'claude', prompt: 'Design the API.' },
      { id: 'web', executor: 'claude', prompt: 'Build the web app.' },
      { id: 'server', executor: 'claude', prompt: 'Build the server.' },
    ],
  },
  { executors: new Map([['claude', { requires: 'prompt' as const }]]) },
);

const ctx = (id: string, extra: Partial<TaskContext> = {}): TaskContext =>
  ({ task: graph.tasks.find((t) => t.id === id), inputs: {}, ...extra }) as unknown as TaskContext;

describe('composePrompt: contracts', () => {
  it('the provider is told it provides the contract, to whom, and its schema', () => {
    expect(composePrompt(ctx('design'))).toBe(
      [
        'Design the API.',
        '',
        "Contracts (a JSON Schema each; weft checks the provider's output against it):",
        '- You provide the contract "todo-api" to web, server. The HTTP API. End with one JSON value that satisfies its schema (your final answer); weft checks it before your work is merged, and a mismatch comes back to you to fix.',
        `  Schema of "todo-api": ${JSON.stringify(SCHEMA)}`,
      ].join('\n'),
    );
  });

  it("a consumer is told whom it builds against, with the same schema, after the provider's output", () => {
    const prompt = composePrompt(
      ctx('web', { inputs: { design: { output: { endpoints: [] } } } } as Partial<TaskContext>),
    );
    expect(prompt).toContain('--- design ---');
    expect(prompt).toContain(
      '- You build against the contract "todo-api", provided by "design". The HTTP API. Follow it exactly',
    );
    expect(prompt).toContain(`  Schema of "todo-api": ${JSON.stringify(SCHEMA)}`);
    expect(prompt.indexOf('--- design ---')).toBeLessThan(prompt.indexOf('Contracts'));
  });

  it('a fix names the broken contract in its feedback', () => {
    const prompt = composePrompt(ctx('design', { feedback: 'Your output breaks the contract "todo-api"' }));
    expect(
      prompt.endsWith(
        'Your previous attempt did not finish this task. What happened, and what to do now:\nYour output breaks the contract "todo-api"',
      ),
    ).toBe(true);
  });

  it('a pause for an urgent task is not called a result that could not be integrated', () => {
    const note = 'You were paused for an urgent task ("hot"); continue where you left off.';
    const prompt = composePrompt(ctx('design', { feedback: note }));
    expect(prompt).not.toMatch(/could not be integrated|Fix this/);
    expect(prompt.endsWith(note)).toBe(true);
  });
});

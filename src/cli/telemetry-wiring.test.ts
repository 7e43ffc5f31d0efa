import { describe, expect, it } from 'vitest';
import { compilePlan } from '../core/plan/compile.js';
import type { Executor } from '../core/ports/executor.js';
import { AnthropicExecutor, catalogOf, ClaudeExecutor, OpenAiExecutor, ShellExecutor } from '../executors/index.js';
import { tracedTaskInfo } from '../telemetry/task-info.js';

describe("a run's spans name the model each task asks for (gen_ai.request.model)", () => {
  it("the task's model, else the one its executor is set up with (weft.config.yaml, or the API's default)", () => {
    const executors = new Map<string, Executor>([
      ['anthropic', new AnthropicExecutor({ model: 'claude-from-config' })],
      ['openai', new OpenAiExecutor()],
      ['claude', new ClaudeExecutor({ model: 'opus-from-config' })],
      ['shell', new ShellExecutor()],
    ]);
    const plan = compilePlan(
      {
        tasks: [
          { id: 'own', executor: 'anthropic', prompt: 'p', model: 'claude-on-the-task' },
          { id: 'configured', executor: 'anthropic', prompt: 'p' },
          { id: 'default', executor: 'openai', prompt: 'p' },
          { id: 'agent', executor: 'claude', prompt: 'p' },
          { id: 'script', run: ['true'] },
        ],
      },
      { executors: catalogOf(executors) },
    );
    const info = tracedTaskInfo(plan.graph, executors);
    expect(['own', 'configured', 'default', 'agent', 'script'].map((id) => info(id)?.model)).toEqual([
      'claude-on-the-task',
      'claude-from-config',
      'gpt-5-mini',
      'opus-from-config',
      undefined,
    ]);
    expect(info('script')).toEqual({ executor: 'shell', title: 'script' });
    expect(info('not-in-the-plan')).toBeUndefined();
    // Without the executors (a library run's remote ones, say), the task's own model only.
    expect(tracedTaskInfo(plan.graph)('configured')?.model).toBeUndefined();
  });
});

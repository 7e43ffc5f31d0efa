import { describe, expect, it } from 'vitest';
import { compilePlan, type ExecutorCatalog } from '../core/plan/compile.js';
import { withChecksAndDeploy } from './build-and-deploy.js';

const catalog: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const }],
  ['claude', { requires: 'prompt' as const }],
]);

describe('withChecksAndDeploy', () => {
  const planned = {
    name: 'todo',
    workers: 3,
    tasks: [
      { id: 'api', executor: 'claude', prompt: 'API' },
      { id: 'ui', executor: 'claude', prompt: 'UI', needs: ['api'] },
    ],
  };

  it('adds unit, e2e and lint after the whole build, and a deploy after them held by vars.deploy_approved', () => {
    const plan = withChecksAndDeploy(planned, 'me/todo');
    const tasks = plan.tasks as { id: string; needs?: string[]; when?: string; executor?: string; prompt?: string }[];
    expect(tasks.map((t) => t.id)).toEqual(['api', 'ui', 'unit', 'e2e', 'lint', 'deploy']);
    for (const id of ['unit', 'e2e', 'lint'])
      expect(tasks.find((t) => t.id === id)).toMatchObject({ needs: ['api', 'ui'], executor: 'claude' });
    expect(tasks.at(-1)).toMatchObject({ needs: ['unit', 'e2e', 'lint'], when: 'vars.deploy_approved' });
    expect(tasks.at(-1)?.prompt).toContain('GitHub repository me/todo');
    expect(plan.vars).toEqual({ deploy_approved: false });
    // It is a valid plan, and the deploy is ruled out until approved.
    const compiled = compilePlan(plan, { executors: catalog });
    expect(compiled.graph.tasks).toHaveLength(6);
  });

  it('refuses a plan whose tasks use an LLM API: it cannot run the checks, only say it did', () => {
    const api = { ...planned, tasks: planned.tasks.map((t) => ({ ...t, executor: 'openai' })) };
    expect(() => withChecksAndDeploy(api, undefined)).toThrow(
      expect.objectContaining({
        code: 'WEFT_USAGE',
        message: `build_and_deploy: the plan's tasks use "openai", which only answers and cannot run the checks`,
      }),
    );
  });

  it('keeps ids unique when the planner already used unit, lint or deploy', () => {
    const plan = withChecksAndDeploy(
      {
        ...planned,
        tasks: [
          { id: 'unit', executor: 'claude', prompt: 'a' },
          { id: 'deploy', executor: 'claude', prompt: 'b' },
        ],
      },
      undefined,
    );
    const ids = (plan.tasks as { id: string }[]).map((t) => t.id);
    expect(ids).toEqual(['unit', 'deploy', 'unit-2', 'e2e', 'lint', 'deploy-2']);
    expect((plan.tasks as { prompt: string }[]).at(-1)?.prompt).not.toContain('GitHub');
  });
});

import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../plan/compile.js';
import type { ResolvedTask } from '../../plan/graph.js';
import { simulate } from '../../schedule/simulate.js';
import { staticGate, whenGate, type TaskView } from './when.js';

const EXECUTORS = new Map([['shell', { requires: 'run' as const }]]);

function planWith(when: string, vars: Record<string, string | number | boolean> = {}) {
  return compilePlan(
    {
      // Only the vars the condition reads: a variable nothing reads is refused.
      vars: Object.fromEntries(Object.entries(vars).filter(([name]) => when.includes(`vars.${name}`))),
      tasks: [
        {
          id: 'build',
          run: 'true',
          estimate: '2s',
          outputSchema: { type: 'object', properties: { a: { type: 'number' } } },
        },
        { id: 't', run: 'true', needs: ['build'], when, estimate: '3s' },
      ],
    },
    { executors: EXECUTORS },
  );
}

const gateOf = (when: string, build: TaskView | undefined, env: Record<string, string> = {}) => {
  const p = planWith(when, { flag: true, n: 2 });
  return whenGate(p.graph.tasks[1] as ResolvedTask, {
    vars: p.vars,
    env,
    task: (id) => (id === 'build' ? build : undefined),
  });
};

describe('whenGate', () => {
  it("reads vars, env and another task's state and result; false skips with the condition", () => {
    const ok: TaskView = { state: 'succeeded', result: { exitCode: 0, text: 'v2', output: { a: 1 } } };
    expect(gateOf('vars.flag && vars.n >= 2', ok)).toBeUndefined();
    expect(gateOf('env.CI == "true"', ok, { CI: 'true' })).toBeUndefined();
    expect(gateOf('env.CI == "true"', ok)).toBe('condition `env.CI == "true"` is false');
    expect(gateOf('tasks.build.succeeded && tasks.build.exitCode == 0', ok)).toBeUndefined();
    expect(gateOf('tasks.build.status == "succeeded"', ok)).toBeUndefined();
    expect(gateOf('tasks.build.text == "v2"', ok)).toBeUndefined();
    expect(gateOf('tasks.build.output.a >= 1', ok)).toBeUndefined();
    expect(gateOf('tasks.build.output.a >= 2', ok)).toBe('condition `tasks.build.output.a >= 2` is false');
    expect(gateOf('tasks.build.skipped', ok)).toBe('condition `tasks.build.skipped` is false');
    expect(gateOf('tasks.build.skipped', { state: 'skipped' })).toBeUndefined();
    expect(gateOf('tasks.build.succeeded', undefined)).toBe('condition `tasks.build.succeeded` is false');
  });
});

describe('staticGate', () => {
  it('is the same gate with every task assumed to succeed (what weft estimate and the set-up check use)', () => {
    expect(staticGate(planWith('tasks.build.succeeded'))(1)).toBeUndefined();
    expect(staticGate(planWith('tasks.build.skipped == false'))(1)).toBeUndefined();
    expect(staticGate(planWith('vars.go', { go: false }))(1)).toBe('condition `vars.go` is false');
    expect(staticGate(planWith('env.DEPLOY == "yes"'), { DEPLOY: 'yes' })(1)).toBeUndefined();
    expect(staticGate(planWith('env.DEPLOY == "yes"'), {})(1)).toBe('condition `env.DEPLOY == "yes"` is false');
  });

  it('a task it rules out is skipped in the estimate', () => {
    const p = planWith('vars.go', { go: false });
    expect(simulate(p.graph, { workers: 2, gate: staticGate(p) }).makespan).toBe(2000);
    expect(simulate(p.graph, { workers: 2, gate: staticGate(planWith('vars.go', { go: true })) }).makespan).toBe(5000);
  });
});

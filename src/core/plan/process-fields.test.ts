import { describe, expect, it } from 'vitest';
import { planProblems } from '../testing/plan-problems.js';
import { compilePlan, type ExecutorCatalog } from './compile.js';

// As `catalogOf(defaultExecutors())` describes them: shell and the agent CLIs run a process.
const executors: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const, runsProcess: true }],
  ['claude', { requires: 'prompt' as const, runsProcess: true }],
  ['anthropic', { requires: 'prompt' as const }],
  ['fn', { requires: 'fn' as const }],
]);

const problems = (plan: unknown): string[] => planProblems(plan, executors);

const FIX = 'only shell tasks and agent CLI tasks (claude, codex, gemini) run a process';

describe('limits and sandbox where no process runs', () => {
  it('refuses them on a function task and a gate, one line each naming the field', () => {
    expect(
      problems({
        tasks: [
          { id: 'f', executor: 'fn', limits: { memory: '1GB' }, sandbox: true },
          { id: 'g', gate: 'true', limits: { cpus: 1 } },
        ],
      }),
    ).toEqual([
      `plan.yaml task "f" limits: executor "fn" runs no process of its own, so limits would do nothing — fix: remove limits from this task: ${FIX}`,
      `plan.yaml task "f" sandbox: executor "fn" runs no process of its own, so sandbox would do nothing — fix: remove sandbox from this task: ${FIX}`,
      `plan.yaml task "g" limits: a gate runs nothing, so limits would do nothing — fix: remove limits from this task: ${FIX}`,
    ]);
  });

  it('takes them on shell and agent CLI tasks, and sandbox: false anywhere', () => {
    expect(
      problems({
        tasks: [
          { id: 's', run: 'make', limits: { memory: '1GB' }, sandbox: true },
          { id: 'c', executor: 'claude', prompt: 'p', limits: { cpus: 2 } },
          { id: 'a', executor: 'anthropic', prompt: 'p', sandbox: false },
        ],
      }),
    ).toEqual([]);
  });

  it('applies defaults to the tasks that run a process, and refuses them when no task does', () => {
    const plan = compilePlan(
      {
        defaults: { limits: { memory: '1GB' } },
        tasks: [
          { id: 's', run: 'make' },
          { id: 'a', executor: 'anthropic', prompt: 'p' },
        ],
      },
      { executors },
    );
    expect(plan.graph.tasks.find((t) => t.id === 's')?.limits).toEqual({ memory: '1GB' });
    expect(
      problems({
        defaults: { sandbox: true, limits: { memory: '1GB' } },
        tasks: [{ id: 'a', executor: 'anthropic', prompt: 'p' }],
      }),
    ).toEqual([
      `plan.yaml defaults.limits: no task of this plan runs a process, so limits would do nothing — fix: remove defaults.limits: ${FIX}`,
      `plan.yaml defaults.sandbox: no task of this plan runs a process, so sandbox would do nothing — fix: remove defaults.sandbox: ${FIX}`,
    ]);
  });
});

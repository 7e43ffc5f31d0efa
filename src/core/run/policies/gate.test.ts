import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../plan/compile.js';
import type { ResolvedTask } from '../../plan/graph.js';
import { gateDecision } from './gate.js';
import type { TaskView } from './when.js';

const SCORED = { type: 'object', properties: { score: { type: 'number' }, veto: { type: 'string' } } };

function gateTask(gate: string): { task: ResolvedTask; vars: Record<string, string | number | boolean> } {
  const p = compilePlan(
    {
      // Declared only where the gate reads it: a variable nothing reads is refused.
      ...(gate.includes('vars.force') ? { vars: { force: false } } : {}),
      tasks: [
        { id: 'ui', run: 'x', outputSchema: SCORED },
        { id: 'security', run: 'x', outputSchema: SCORED },
        { id: 'ok', gate },
      ],
    },
    { executors: new Map([['shell', { requires: 'run' as const }]]) },
  );
  return { task: p.graph.tasks[2] as ResolvedTask, vars: p.vars };
}

const decide = (gate: string, outputs: Record<string, unknown>) => {
  const { task, vars } = gateTask(gate);
  return gateDecision(task, {
    vars,
    task: (id): TaskView | undefined =>
      id in outputs ? { state: 'succeeded', result: { output: outputs[id] } } : undefined,
  });
};

describe('gateDecision', () => {
  const gate = 'tasks.ui.output.score >= 6 && !tasks.security.output.veto';

  it('passes when the condition holds', () => {
    expect(decide(gate, { ui: { score: 6 }, security: {} })).toEqual({ kind: 'pass' });
  });

  it('blocks naming every failing part with the values it read', () => {
    expect(decide(gate, { ui: { score: 4 }, security: { veto: 'SQL built from input' } })).toEqual({
      kind: 'block',
      reason: "tasks.ui.output.score = 4 < 6; tasks.security.output.veto = 'SQL built from input'",
      parts: ['tasks.ui.output.score = 4 < 6', "tasks.security.output.veto = 'SQL built from input'"],
    });
    expect(decide(gate, { ui: { score: 7 }, security: { veto: 'secrets logged' } })).toMatchObject({
      reason: "tasks.security.output.veto = 'secrets logged'",
    });
  });

  it('an output key a task did not produce reads as missing, and blocks', () => {
    expect(decide('tasks.ui.output.score >= 6', { ui: {} })).toMatchObject({
      kind: 'block',
      reason: 'tasks.ui.output.score = missing < 6',
    });
  });

  it('reads vars like when does', () => {
    expect(decide('vars.force', {})).toMatchObject({ kind: 'block', reason: 'vars.force = false' });
  });
});

import { describe, expect, it } from 'vitest';
import { compilePlan } from '../../plan/compile.js';
import type { ResolvedTask } from '../../plan/graph.js';
import type { PlanSpec } from '../../plan/plan-schema.js';
import { expansionFor } from './expansion.js';

const EXECUTORS = new Map([['shell', { requires: 'run' as const }]]);
const spec: PlanSpec = {
  tasks: [
    { id: 'plan', run: 'true', expands: true },
    { id: 'ship', run: 'true', needs: ['plan'] },
  ],
};
const planner = compilePlan(spec, { executors: EXECUTORS }).graph.tasks[0] as ResolvedTask;
const recompile = (s: PlanSpec) => compilePlan(s, { executors: EXECUTORS });

describe('expansionFor', () => {
  it('splices a valid sub-plan in after the task that made it', () => {
    const d = expansionFor(
      spec,
      planner,
      {
        output: {
          tasks: [
            { id: 'x', run: 'true' },
            { id: 'y', run: 'true', needs: ['x'] },
          ],
        },
      },
      recompile,
    );
    if (d.kind !== 'grow') throw new Error(`expected grow, got ${d.kind}: ${JSON.stringify(d)}`);
    expect(d.added.map((t) => t.id)).toEqual(['x', 'y']);
    expect(d.compiled.graph.tasks.map((t) => t.id)).toEqual(['plan', 'ship', 'x', 'y']);
    // `ship` waits for what `plan` added: the sub-plan's last task (y, after x).
    const ship = d.compiled.graph.index.get('ship') as number;
    expect((d.compiled.graph.deps[ship] ?? []).map((i) => d.compiled.graph.tasks[i]?.id).sort()).toEqual(['plan', 'y']);
  });

  it('sends the task back when its output is no sub-plan, or one that does not join the plan', () => {
    expect(expansionFor(spec, planner, { text: 'done!' }, recompile)).toMatchObject({
      kind: 'reject',
      message: 'an expanding task must output a sub-plan',
      code: 'WEFT_PLAN_INVALID',
    });
    const d = expansionFor(
      spec,
      planner,
      { output: { tasks: [{ id: 'x', run: 'true', needs: ['nope'] }] } },
      recompile,
    );
    expect(d).toMatchObject({ kind: 'reject', code: 'WEFT_PLAN_INVALID' });
    expect(d.kind === 'reject' && d.message).toMatch(/^its sub-plan is not valid: .*nope/);
    expect(d.kind === 'reject' && d.feedback).toMatch(/Return the whole corrected list\.$/);
  });

  it('without a way to compile the grown plan, nothing is spliced', () => {
    expect(expansionFor(spec, planner, { output: { tasks: [{ id: 'x', run: 'true' }] } }, undefined)).toMatchObject({
      kind: 'reject',
    });
  });
});

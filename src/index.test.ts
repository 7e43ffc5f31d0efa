import { describe, expect, it } from 'vitest';
import { definePlan, estimatePlan, PlanValidationError, runWeft } from './index.js';

describe('library API', () => {
  it('builds a plan in TypeScript with shell and function tasks and runs it', async () => {
    const order: string[] = [];
    const plan = definePlan({
      name: 'lib',
      workers: 2,
      tasks: [
        { id: 'make', run: ['sh', '-c', 'exit 0'], estimate: '1s' },
        { id: 'count', needs: ['make'], fn: (ctx) => (order.push(`count after ${Object.keys(ctx.inputs).join()}`), { files: 3 }) },
        { id: 'report', needs: ['count'], fn: (ctx) => (order.push('report'), ctx.inputs.count?.output) },
      ],
    });
    const { status, summary, state } = await runWeft(plan);
    expect(status).toBe('succeeded');
    expect(order).toEqual(['count after make', 'report']);
    expect(state.tasks.get('report')?.result?.output).toEqual({ files: 3 });
    expect(summary.counts).toMatchObject({ succeeded: 3, total: 3 });
    expect(summary.criticalPath).toEqual(['make', 'count', 'report']);
  });

  it('validates a built plan like a file', () => {
    const plan = definePlan({ tasks: [{ id: 'a', needs: ['b'], fn: () => 1 }] });
    expect(() => estimatePlan(plan)).toThrow(PlanValidationError);
    expect(() => estimatePlan(plan)).toThrow('<plan> task "a" needs[0]: unknown task "b" — fix: use the id of a task in this plan');
  });

  it('estimates on a virtual clock', () => {
    const plan = definePlan({ tasks: [{ id: 'a', run: 'true', estimate: '10m' }, { id: 'b', run: 'true', estimate: '5m' }, { id: 'c', needs: ['a', 'b'], run: 'true', estimate: '1m' }] });
    expect(estimatePlan(plan, 2)).toMatchObject({ makespan: 660_000, sequential: 960_000, criticalPath: 660_000 });
    expect(estimatePlan(plan, 1).makespan).toBe(960_000);
  });
});

import { describe, expect, it } from 'vitest';
import { checkPlan, compilePlan } from './compile.js';
import { iterationMs } from './loop-check.js';

const executors = new Map([['shell', { requires: 'run' as const }]]);
const OUT = { type: 'object', properties: { veto: { type: 'string' } } };
const tasks = [
  { id: 'code', run: 'x', estimate: '20m' },
  { id: 'ui', run: 'x', estimate: '10m' },
  { id: 'review', run: 'x', needs: ['code'], outputSchema: OUT, estimate: '15m' },
  { id: 'approve', gate: '!tasks.review.output.veto' },
  { id: 'deploy', run: 'x', needs: ['approve'] },
];
const loop = {
  repeat: ['code', 'ui', 'review', 'approve'],
  until: 'tasks.approve.passed',
  max: 4,
  feedback: ['review'],
};

const issues = (l: object, t: object[] = tasks) =>
  checkPlan({ tasks: t, loop: l }, { executors }).issues.map(
    (i) => `${i.field}: ${i.message}${i.fix === undefined ? '' : ` — ${i.fix}`}`,
  );

describe('loop:', () => {
  it('resolves to task indices, the parsed until and max', () => {
    const plan = compilePlan({ tasks, loop }, { executors });
    expect(plan.loop).toMatchObject({
      repeat: [0, 1, 2, 3],
      feedback: [2],
      max: 4,
      untilSource: 'tasks.approve.passed',
    });
    expect(compilePlan({ tasks }, { executors }).loop).toBeUndefined();
  });

  it('refuses unknown tasks with did-you-mean, feedback outside repeat, an expanding task, and a bad or foreign until', () => {
    expect(issues({ ...loop, repeat: ['code', 'reveiw'] })).toContain(
      'loop.repeat[1]: loop.repeat names no task "reveiw" — did you mean "review"?',
    );
    expect(issues({ ...loop, feedback: ['deploy'] })).toEqual([
      'loop.feedback[0]: loop.feedback names "deploy", which is not in loop.repeat — add "deploy" to loop.repeat, or take it out of loop.feedback (feedback comes from the repeated tasks)',
    ]);
    expect(issues({ ...loop, feedback: ['deplyo'] })).toEqual([
      'loop.feedback[0]: loop.feedback names no task "deplyo" — did you mean "deploy"?',
    ]);
    expect(
      issues(
        loop,
        tasks.map((t) => (t.id === 'ui' ? { ...t, expands: true } : t)),
      ),
    ).toEqual([
      'loop.repeat[1]: task "ui" expands the plan, so it cannot be repeated — take "ui" out of loop.repeat, or make it a task that does not expand',
    ]);
    expect(issues({ ...loop, until: 'tasks.approve.passed &&' })[0]).toMatch(
      /^loop\.until: bad condition at character 24/,
    );
    expect(issues({ ...loop, until: 'tasks.deploy.succeeded' })).toEqual([
      'loop.until: loop.until reads task "deploy", which is not in loop.repeat — read a task the loop repeats (e.g. its gate), or add "deploy" to loop.repeat',
    ]);
    expect(issues({ ...loop, until: 'tasks.review.output.vetto' })[0]).toMatch(/did you mean "veto"\?$/);
    expect(issues({ ...loop, max: 0 })[0]).toMatch(/^loop\.max: a loop runs at least 1 iteration/);
  });

  it('refuses a group with a task between repeated tasks that is not repeated', () => {
    const between = [
      { id: 'code', run: 'x' },
      { id: 'lint', run: 'x', needs: ['code'] },
      { id: 'review', run: 'x', needs: ['lint'] },
    ];
    expect(issues({ repeat: ['code', 'review'], until: 'tasks.review.succeeded', max: 2 }, between)).toEqual([
      'loop.repeat: task "lint" runs between repeated tasks (it depends on one, and one depends on it) but is not repeated — add "lint" to loop.repeat',
    ]);
  });

  it("an iteration takes at least its tasks' critical path", () => {
    const plan = compilePlan({ tasks, loop }, { executors });
    expect(iterationMs(plan.loop!, plan.graph)).toBe(35 * 60_000); // code 20m → review 15m (ui runs beside)
    // Without estimates, the default the schedule assumes (1m a task), not nothing.
    const bare = tasks.map(({ estimate: _e, ...t }: { estimate?: string }) => t);
    const unestimated = compilePlan({ tasks: bare, loop }, { executors });
    expect(iterationMs(unestimated.loop!, unestimated.graph)).toBe(2 * 60_000);
  });
});

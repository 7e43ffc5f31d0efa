import { describe, expect, it } from 'vitest';
import type { ExecutorCatalog } from '../core/plan/compile.js';
import { checkPlannerAnswer, plannerPrompt } from './planner.js';

const executors: ExecutorCatalog = new Map([['claude', { requires: 'prompt' as const }]]);
const req = { goal: 'Build a todo app', workers: 2, executor: 'claude' };
const SCHEMA = {
  type: 'object',
  required: ['endpoints'],
  properties: { endpoints: { type: 'array', items: { type: 'object', required: ['path'] } } },
};
const answer = (contract: Record<string, unknown>) => ({
  analysis: { complexity: 'simple', reasons: ['an API and a UI'], taskCount: 3 },
  contracts: [
    {
      name: 'todos-api',
      description: 'The REST API.',
      provider: 'design',
      consumers: ['api', 'ui'],
      schema: SCHEMA,
      ...contract,
    },
  ],
  tasks: [
    { id: 'design', title: 'Design', prompt: 'Design the API.', estimate: '10m' },
    { id: 'api', title: 'API', prompt: 'Build the API.', estimate: '20m', writes: ['src/api/**'] },
    { id: 'ui', title: 'UI', prompt: 'Build the UI.', estimate: '30m', writes: ['src/ui/**'] },
  ],
});

describe('the planner writes contracts in the structured form', () => {
  it('its prompt asks for name, description, provider, consumers and a JSON Schema', () => {
    const prompt = plannerPrompt({ ...req, layout: '' });
    expect(prompt).toContain('write a `contracts` entry: a `name`, a one-sentence `description`, the');
    expect(prompt).toContain('the agreement itself as a JSON Schema in `schema`');
    expect(prompt).toMatch(/"contracts":\{"type":"array","items":\{"type":"object","properties":\{"name":/);
    expect(prompt).toMatch(/"required":\["name","description","provider","consumers","schema"\]/);
  });

  it('a valid answer becomes plan contracts: consumers wait for the provider and both sides carry it', () => {
    const checked = checkPlannerAnswer(answer({}), req, { executors });
    if (!('plan' in checked)) throw new Error(checked.feedback);
    expect(checked.plan.spec.contracts).toEqual([answer({}).contracts[0]]);
    const byId = new Map(checked.plan.compiled.graph.tasks.map((t) => [t.id, t]));
    expect(byId.get('ui')?.needs).toEqual(['design']);
    expect(byId.get('api')?.contracts?.[0]).toMatchObject({ name: 'todos-api', role: 'consumer', schema: SCHEMA });
    expect(byId.get('design')?.contracts?.[0]?.role).toBe('provider');
    // The prompts stay as written: the contract reaches them when the tasks run.
    expect(byId.get('ui')?.prompt).toBe('Build the UI.');
  });

  it('an unknown task, a bad schema or the old text form goes back to the planner as feedback', () => {
    expect(checkPlannerAnswer(answer({ consumers: ['api', 'iu'] }), req, { executors })).toEqual({
      feedback:
        'The plan is not valid:\n- plan contracts[0].consumers[1]: unknown task "iu" — fix: did you mean "ui"?\nReturn the whole corrected plan.',
    });
    const bad = checkPlannerAnswer(answer({ schema: { type: 'list' } }), req, { executors });
    expect('feedback' in bad && bad.feedback).toContain(
      'contracts[0].schema: schema is not a JSON Schema weft can check: type "list" is not a JSON Schema type: use string, number, integer, boolean, object, array, null',
    );
    const old = { ...answer({}), contracts: [{ name: 'x', between: ['api', 'ui'], description: 'GET /todos' }] };
    const feedback = checkPlannerAnswer(old, req, { executors });
    expect('feedback' in feedback && feedback.feedback).toMatch(
      /^Your answer does not match the schema:\n- contracts\.0/,
    );
  });
});

describe('tasks planned for an executor that only answers (an LLM API)', () => {
  const api: ExecutorCatalog = new Map([['anthropic', { requires: 'prompt' as const, answersOnly: true }]]);
  const apiReq = { goal: 'Compare three databases', workers: 2, executor: 'anthropic', answersOnly: true };
  const tasks = (extra: Record<string, unknown>) => ({
    analysis: { complexity: 'simple', reasons: ['three reviews'], taskCount: 2 },
    tasks: [
      { id: 'pg', title: 'PostgreSQL', prompt: 'Review PostgreSQL.', estimate: '5m', ...extra },
      { id: 'sum', title: 'Summary', prompt: 'Compare.', estimate: '5m', needs: ['pg'] },
    ],
  });

  it('are not offered writes or outputs, in the prompt or its schema', () => {
    const prompt = plannerPrompt({ ...apiReq, layout: '' });
    expect(prompt).toContain('The tasks run on anthropic, which only answers');
    expect(prompt).not.toContain('`writes`');
    expect(prompt).not.toContain('"writes"');
    expect(prompt).not.toContain('"outputs"');
    // Tasks that write files are still offered both.
    expect(plannerPrompt({ ...req, layout: '' })).toContain('"writes"');
  });

  it('an answer that gives writes goes back as schema feedback; one without passes', () => {
    const refused = checkPlannerAnswer(tasks({ writes: ['notes/**'] }), apiReq, { executors: api });
    expect('feedback' in refused && refused.feedback).toMatch(/tasks\.0: Unrecognized key: "writes"/);
    const checked = checkPlannerAnswer(tasks({}), apiReq, { executors: api });
    if (!('plan' in checked)) throw new Error(checked.feedback);
    expect(checked.plan.compiled.graph.tasks.map((t) => t.executor)).toEqual(['anthropic', 'anthropic']);
  });
});

describe('the sizing the planner is told is the one it is checked against', () => {
  const sized = (complexity: string, n: number) => ({
    analysis: { complexity, reasons: ['parts'], taskCount: n },
    tasks: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, title: 'T', prompt: 'Do it.', estimate: '5m' })),
  });

  it('a count at the end of two ranges (3: simple 1–3 or moderate 3–8) passes as either', () => {
    for (const [complexity, n] of [
      ['simple', 3],
      ['moderate', 3],
      ['moderate', 8],
      ['complex', 8],
      ['complex', 15],
      ['larger', 15],
    ] as const)
      expect('plan' in checkPlannerAnswer(sized(complexity, n), req, { executors }), `${complexity} ${n}`).toBe(true);
  });

  it('a count outside the range goes back naming the sizes it may have', () => {
    expect(checkPlannerAnswer(sized('complex', 3), req, { executors })).toEqual({
      feedback:
        'The plan is not valid:\n- 3 tasks is "simple" or "moderate", not "complex"\nReturn the whole corrected plan.',
    });
    expect(checkPlannerAnswer(sized('moderate', 2), req, { executors })).toEqual({
      feedback: 'The plan is not valid:\n- 2 tasks is "simple", not "moderate"\nReturn the whole corrected plan.',
    });
  });
});

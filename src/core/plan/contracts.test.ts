import { describe, expect, it } from 'vitest';
import { planProblems, SHELL_AND_CLAUDE as executors } from '../testing/plan-problems.js';
import { compilePlan } from './compile.js';

const problems = (plan: unknown): string[] => planProblems(plan);

const task = (id: string, extra: Record<string, unknown> = {}) => ({ id, run: `make ${id}`, ...extra });
const SCHEMA = { type: 'object', required: ['endpoints'], properties: { endpoints: { type: 'array' } } };
const plan = (contract: Record<string, unknown>, tasks: object[] = [task('design'), task('api'), task('web')]) => ({
  contracts: [{ name: 'todo-api', schema: SCHEMA, provider: 'design', consumers: ['api', 'web'], ...contract }],
  tasks,
});

describe('contracts: compiled', () => {
  it('consumers wait for the provider (it joins their needs), and each side knows the contract', () => {
    const { graph, spec } = compilePlan(plan({ description: 'The todo API.' }), { executors });
    const byId = new Map(graph.tasks.map((t) => [t.id, t]));
    expect(byId.get('api')?.needs).toEqual(['design']);
    expect(byId.get('web')?.needs).toEqual(['design']);
    expect(byId.get('design')?.needs).toEqual([]);
    expect(byId.get('design')?.contracts).toEqual([
      {
        name: 'todo-api',
        role: 'provider',
        description: 'The todo API.',
        schema: SCHEMA,
        provider: 'design',
        consumers: ['api', 'web'],
      },
    ]);
    expect(byId.get('web')?.contracts?.map((c) => c.role)).toEqual(['consumer']);
    expect(spec.contracts?.[0]?.name).toBe('todo-api');
  });

  it('a consumer that already needs the provider (or needs it through another task) is accepted as it is', () => {
    const tasks = [task('design'), task('api', { needs: ['design'] }), task('web', { needs: ['api'] })];
    const { graph } = compilePlan(plan({}, tasks), { executors });
    expect(graph.tasks.map((t) => [t.id, t.needs])).toEqual([
      ['design', []],
      ['api', ['design']],
      ['web', ['api', 'design']],
    ]);
  });

  it('a task on no side has no contracts field', () => {
    const { graph } = compilePlan(plan({ consumers: ['api'] }), { executors });
    expect(graph.tasks.find((t) => t.id === 'web')).not.toHaveProperty('contracts');
  });
});

describe('contracts: what a user sees for a broken one', () => {
  it('unknown provider and consumers, with did-you-mean', () => {
    const tasks = [task('design'), task('api'), task('frontend')];
    expect(problems(plan({ provider: 'desing', consumers: ['api', 'frontnd', 'nothing-like-it'] }, tasks))).toEqual([
      'plan.yaml contracts[0].provider: unknown task "desing" — fix: did you mean "design"?',
      'plan.yaml contracts[0].consumers[1]: unknown task "frontnd" — fix: did you mean "frontend"?',
      'plan.yaml contracts[0].consumers[2]: unknown task "nothing-like-it" — fix: use the id of a task in this plan',
    ]);
  });

  it('a JSON Schema weft cannot check', () => {
    expect(problems(plan({ schema: { type: 'strin' } }))).toEqual([
      'plan.yaml contracts[0].schema: schema is not a JSON Schema weft can check: type "strin" is not a JSON Schema type: did you mean "string"? — fix: write a JSON Schema, e.g. {type: object, required: [id], properties: {id: {type: string}}}',
    ]);
    expect(problems(plan({ schema: { type: 'object', required: 'id' } }))[0]).toContain(
      'schema is not a JSON Schema weft can check: required must be a list of property names',
    );
    expect(problems(plan({ schema: { type: 'object', properties: { a: 5 } } }))[0]).toContain(
      'properties.a must be a schema (a mapping, or true/false)',
    );
  });

  it('no schema, or a schemaFile in a plan given without its folder', () => {
    expect(problems(plan({ schema: undefined }))).toEqual([
      'plan.yaml contracts[0].name: contract "todo-api" has no schema — fix: add schema: {type: object, …} (a JSON Schema), or schemaFile: <file next to the plan>',
    ]);
    expect(problems(plan({ schema: undefined, schemaFile: 'api.json' }))).toEqual([
      'plan.yaml contracts[0].schemaFile: schemaFile "api.json" can only be read for a plan loaded from a file — fix: write the JSON Schema inline under schema:',
    ]);
  });

  it('a duplicate name, the provider among its consumers, a consumer twice', () => {
    const twice = plan({ consumers: ['api', 'design', 'api'] });
    twice.contracts.push({ ...twice.contracts[0], consumers: ['web'] } as (typeof twice.contracts)[0]);
    expect(problems(twice)).toEqual([
      'plan.yaml contracts[0].consumers[1]: "design" is the contract\'s provider; it cannot consume its own contract — fix: remove "design" from consumers',
      'plan.yaml contracts[0].consumers[2]: "api" is listed twice — fix: remove one "api"',
      'plan.yaml contracts[1].name: duplicate contract name "todo-api" (first used by contracts[0]) — fix: give each contract a unique name',
    ]);
  });

  it('a provider that waits for a consumer (directly, or through another contract) is a cycle', () => {
    const tasks = [task('design', { needs: ['web'] }), task('api'), task('web')];
    expect(problems(plan({}, tasks))).toEqual([
      'plan.yaml contracts[0].consumers[1]: provider "design" waits for "web", which as a consumer waits for the provider: a cycle — fix: make "web" the provider, or remove what makes "design" wait for it',
    ]);
    const two = plan({ consumers: ['api'] });
    two.contracts.push({ name: 'back', schema: SCHEMA, provider: 'api', consumers: ['design'] });
    expect(problems(two)).toHaveLength(2);
    expect(problems(two)[0]).toMatch(/contracts\[0\]\.consumers\[0\]: provider "design" waits for "api"/);
  });

  it("a cycle is reported with the contracts' other problems, not once they are fixed", () => {
    const tasks = [task('design', { needs: ['web'] }), task('api'), task('web'), task('build', { verifies: ['api'] })];
    const two = plan({ consumers: ['web'] }, tasks);
    two.contracts.push({ name: 'back', schema: SCHEMA, provider: 'build', consumers: ['api'] });
    expect(problems(two)).toEqual([
      expect.stringMatching(/contracts\[1\]\.provider: "build" is a check/),
      expect.stringMatching(/contracts\[0\]\.consumers\[0\]: provider "design" waits for "web"/),
      // build verifies api, and api as a consumer waits for build: a cycle too
      expect.stringMatching(/contracts\[1\]\.consumers\[0\]: provider "build" waits for "api"/),
    ]);
  });

  it('a check cannot be a provider', () => {
    const tasks = [task('design'), task('api'), task('web'), task('build', { verifies: ['api'] })];
    expect(problems(plan({ provider: 'build', consumers: ['web'] }, tasks))).toEqual([
      'plan.yaml contracts[0].provider: "build" is a check (it has verifies); a check\'s output is its verdict, not work to build on — fix: name the task whose output the contract describes',
    ]);
  });

  it('a gate cannot be a provider: it outputs nothing', () => {
    const tasks = [task('design'), task('api'), task('web'), { id: 'ok', gate: 'tasks.api.succeeded' }];
    expect(problems(plan({ provider: 'ok', consumers: ['web'] }, tasks))).toEqual([
      'plan.yaml contracts[0].provider: "ok" is a gate: it runs nothing and outputs nothing to check — fix: name the task whose output the contract describes',
    ]);
  });

  it('a bad name, an unknown field with did-you-mean, no consumers', () => {
    expect(problems(plan({ name: 'todo api', consumer: ['api'], consumers: [] }))).toEqual([
      'plan.yaml contracts[0].name: contract names use letters, digits, ".", "_" and "-", and start with a letter or digit — fix: name it like todo-api',
      'plan.yaml contracts[0].consumers: a contract needs at least one consumer — fix: list the tasks that build against it, e.g. consumers: [frontend]',
      'plan.yaml contracts[0].consumer: unknown field "consumer" — fix: did you mean "consumers"?',
    ]);
  });
});

/**
 * The AI planner, end to end: `weft plan` / `weft run --goal` with the real `claude` CLI
 * (`--json-schema`, answered through its `StructuredOutput` tool) and the `anthropic` API executor
 * (the Anthropic SDK honours `ANTHROPIC_BASE_URL`), both against a FakeLlmServer on 127.0.0.1; and
 * tasks that expand the running graph, with a crash and `weft resume` in between. Every test ends
 * with `verify()` == [].
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalogOf, defaultExecutors } from '../../src/executors/index.js';
import { loadPlanFile } from '../../src/plan/load-plan.js';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import { e2eProject, ensureBuilt, jsonLines, runIdOf, step, waitFor, writesFile, type E2eProject } from './e2e-kit.js';

beforeAll(ensureBuilt);

const TIMEOUT = 120_000;
const GOAL = 'Build a todo app with a REST API and a web UI';
/** In every planner prompt; routes the planner's session to its script. */
const PLANNER = 'You are the planner of weft';

/** A valid answer: a contract-first API, then the UI, sized "simple". */
const TODO_PLAN = {
  analysis: { complexity: 'simple', reasons: ['one API and one UI', 'they share one contract'], taskCount: 2 },
  contracts: [
    {
      name: 'todos-api',
      description: 'GET /todos returns the todos',
      provider: 'api',
      consumers: ['ui'],
      schema: {
        type: 'object',
        required: ['todos'],
        properties: { todos: { type: 'array', items: { type: 'object', required: ['id', 'title'] } } },
      },
    },
  ],
  tasks: [
    {
      id: 'api',
      title: 'REST API',
      prompt: 'Build the REST API in src/api.',
      estimate: '20m',
      writes: ['src/api/**'],
      outputs: ['src/api/server.ts'],
    },
    {
      id: 'ui',
      title: 'Web UI',
      prompt: 'Build the web UI in src/ui.',
      needs: ['api'],
      estimate: '30m',
      writes: ['src/ui/**'],
    },
  ],
} as const;

/** An answer with a cycle: a needs b, b needs a. */
const CYCLIC_PLAN = {
  analysis: { complexity: 'simple', reasons: ['two steps'], taskCount: 2 },
  tasks: [
    { id: 'a', title: 'A', prompt: 'Do a.', needs: ['b'], estimate: '10m' },
    { id: 'b', title: 'B', prompt: 'Do b.', needs: ['a'], estimate: '10m' },
  ],
} as const;

interface SavedPlan {
  readonly name: string;
  readonly workers: number;
  readonly tasks: readonly {
    readonly id: string;
    readonly executor: string;
    readonly prompt: string;
    readonly needs?: readonly string[];
  }[];
}

/** Loads plan.yaml the way `weft run` does (throws on an invalid plan) and returns it as saved. */
function savedPlan(p: E2eProject, file = 'plan.yaml'): SavedPlan {
  const path = join(p.repo, file);
  const { compiled } = loadPlanFile(path, { executors: catalogOf(defaultExecutors()) });
  expect(compiled.graph.topo).toHaveLength(compiled.graph.tasks.length);
  return parse(readFileSync(path, 'utf8')) as SavedPlan;
}

/** The plan the expanding task returns: two shell tasks that write files and one LLM review. */
const SUB_PLAN = {
  tasks: [
    { id: 'gen-a', run: ['sh', '-c', 'echo a > gen-a.txt'], writes: ['gen-a.txt'] },
    { id: 'gen-b', run: ['sh', '-c', 'echo b > gen-b.txt'], writes: ['gen-b.txt'] },
    {
      id: 'review',
      executor: 'anthropic',
      prompt: 'Review the generated files [task-review]',
      needs: ['gen-a', 'gen-b'],
    },
  ],
};
const SUB_PLAN_SCHEMA = {
  type: 'object',
  properties: { tasks: { type: 'array', items: { type: 'object' } } },
  required: ['tasks'],
};

/** `fanout` plans the work (its output is spliced in); `collect` depended on it, so it waits for what it added. */
function expandingPlan(executor: string, withSchema = true): Record<string, string> {
  const plan = {
    name: 'fanout',
    workers: 2,
    tasks: [
      {
        id: 'fanout',
        executor,
        prompt: 'List the files to generate as tasks [task-fanout]',
        expands: true,
        ...(withSchema ? { outputSchema: SUB_PLAN_SCHEMA } : {}),
      },
      { id: 'collect', needs: ['fanout'], run: ['sh', '-c', 'cat gen-a.txt gen-b.txt > all.txt'], writes: ['all.txt'] },
    ],
  };
  return { 'plan.yaml': `${JSON.stringify(plan, null, 2)}\n` };
}

describe.concurrent('The AI planner', () => {
  it(
    'weft plan --planner claude: a valid DAG from the structured answer, written to plan.yaml, with the estimate',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: PLANNER }, step.json(TODO_PLAN));

      const r = await p.weft(['plan', GOAL, '-j', '3', '--planner', 'claude']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      const [turn] = p.llm.turns() as [RecordedRequest];
      expect(p.llm.turns()).toHaveLength(1);
      // The real claude was asked for structured output (--json-schema), with the goal, the budget and the repository.
      expect(turn.headers['user-agent']).toMatch(/^claude-cli\//);
      expect(turn.offeredTools).toContain('StructuredOutput');
      const prompt = turn.userTexts.find((t) => t.includes(PLANNER)) as string;
      expect(prompt).toContain(`Goal: ${GOAL}`);
      expect(prompt).toContain('Budget: 3 agents can work at the same time');
      expect(prompt).toContain('weft.config.yaml');
      const plan = savedPlan(p);
      expect(plan).toMatchObject({
        name: 'build-a-todo-app-with-a-rest-api-and-a-w',
        workers: 3,
        tasks: [
          { id: 'api', executor: 'claude' },
          { id: 'ui', executor: 'claude', needs: ['api'] },
        ],
      });
      // The contract is the plan's, in the structured form: both sides get it when they run.
      expect((plan as unknown as { contracts: unknown }).contracts).toEqual(TODO_PLAN.contracts);
      expect(r.stdout).toContain(
        `Plan written to ${join(p.repo, 'plan.yaml')}: simple (one API and one UI; they share one contract), 2 tasks on 3 workers`,
      );
      expect(r.stdout).toMatch(/predicted makespan\s+50m00s on 3 workers/);
      expect(r.stdout).toMatch(/critical path\s+50m00s: api → ui/);
      expect(r.stdout).toContain(`Run it with: weft run ${join(p.repo, 'plan.yaml')} -j 3`);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'weft plan --planner anthropic: the same through the LLM API executor and the Anthropic SDK',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: PLANNER }, step.json(TODO_PLAN));

      const r = await p.weft([
        'plan',
        GOAL,
        '-j',
        '3',
        '--planner',
        'anthropic',
        '--executor',
        'codex',
        '-o',
        'todo.yaml',
      ]);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      const [turn] = p.llm.turns() as [RecordedRequest];
      expect(p.llm.turns()).toHaveLength(1);
      // One SDK call (not the CLI) that forces the answer tool: structured output.
      expect(turn.headers['user-agent']).toMatch(/^Anthropic\/JS /);
      expect(turn.body).toMatchObject({ model: 'claude-sonnet-4-6', tool_choice: { type: 'tool', name: 'answer' } });
      expect(existsSync(join(p.repo, 'plan.yaml'))).toBe(false);
      expect(savedPlan(p, 'todo.yaml')).toMatchObject({
        workers: 3,
        tasks: [
          { id: 'api', executor: 'codex' },
          { id: 'ui', executor: 'codex', needs: ['api'] },
        ],
      });
      expect(r.stdout).toMatch(/predicted makespan\s+50m00s on 3 workers/);
      // The planner's answer, though an API task writes no log, is what weft logs shows of it.
      const logs = await p.weft(['logs', 'latest', 'plan']);
      expect(logs.stderr).toBe('weft: plan left no log here (an API task writes none); this is its answer\n');
      expect(JSON.parse(logs.stdout)).toMatchObject({ analysis: { complexity: 'simple' } });
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'repairs an invalid answer (a cycle): the planner is told exactly what is wrong in the same session and answers again',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      const planner = p.llm.script({ marker: PLANNER }, step.json(CYCLIC_PLAN), step.json(TODO_PLAN));

      const r = await p.weft(['plan', GOAL, '--planner', 'claude']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      const [first, second] = planner.requests as [RecordedRequest, RecordedRequest];
      expect(planner.requests).toHaveLength(2);
      expect(first.userTexts.join('\n')).not.toContain('dependency cycle a → b → a');
      expect(second.userTexts.at(-1)).toContain('task "a" needs[0]: dependency cycle a → b → a');
      expect(second.headers['x-claude-code-session-id']).toBe(first.headers['x-claude-code-session-id']);
      expect(savedPlan(p).tasks.map((t) => t.id)).toEqual(['api', 'ui']);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'Ctrl-C while the planner thinks: says no plan was saved; weft resume of the planner run refuses and says to plan again',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: PLANNER }, step.hang());
      const planning = p.start(['plan', GOAL, '--planner', 'anthropic']);
      await waitFor('the planner to be asked', () => p.llm.turns().length === 1);
      planning.child.kill('SIGINT');
      const r = await planning.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain(
        'weft: planning stopped before the planner answered; no plan was saved — plan again with the same command\n',
      );
      expect(r.stderr).not.toContain('did not produce a valid plan');
      expect(existsSync(join(p.repo, 'plan.yaml'))).toBe(false);
      const resumed = await p.weft(['resume']);
      expect(resumed.code).toBe(2);
      expect(resumed.stderr).toMatch(
        new RegExp(
          `^weft: run \\S+ was the planner's, planning "${GOAL}"; resuming it would not save a plan\n  plan again: weft plan`,
        ),
      );
      expect(p.llm.turns()).toHaveLength(1); // the resume asked nobody
    },
  );

  it(
    'an API planner whose answer is not JSON is told so, with its answer, and answers again',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      const planner = p.llm.script(
        { marker: PLANNER },
        step.text('Sure! Here is the plan: {not json'),
        step.json(TODO_PLAN),
      );
      const r = await p.weft(['plan', GOAL, '--planner', 'anthropic']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(planner.requests).toHaveLength(2);
      const told = planner.requests[1]?.userTexts.join('\n') ?? '';
      expect(told).toContain('the answer is not JSON, but the task has an outputSchema');
      expect(told).toContain('Your answer was:\nSure! Here is the plan: {not json');
      expect(savedPlan(p).tasks.map((t) => t.id)).toEqual(['api', 'ui']);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'gives up naming the planner, the attempts and what its last answer was told when no answer is valid; no plan file',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      const planner = p.llm.script({ marker: PLANNER }, step.json(CYCLIC_PLAN, { times: 3 }));

      const r = await p.weft(['plan', GOAL, '--planner', 'anthropic', '--json']);

      expect(r.code).toBe(1);
      const message = 'the planner (anthropic) did not produce a valid plan in 3 answers; its last answer was told:';
      const hint =
        'The plan is not valid:\n- plan task "a" needs[0]: dependency cycle a → b → a — fix: remove one of these dependencies';
      expect(r.stderr).toBe(`weft: ${message}\n${hint.replace(/^/gm, '  ')}\n`);
      // --json: the error object every failing command prints, last on stdout.
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')).toEqual({
        error: { code: 'WEFT_RESULT_INVALID', message, hint },
      });
      expect(existsSync(join(p.repo, 'plan.yaml'))).toBe(false);
      // Each retry was told why.
      expect(planner.requests.map((q) => (q.userTexts.at(-1) ?? '').includes('dependency cycle a → b → a'))).toEqual([
        false,
        true,
        true,
      ]);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'weft run --goal --yes: plans, then runs the planned agent and LLM tasks against the same server',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      const answer = {
        analysis: { complexity: 'simple', reasons: ['one change and its review'], taskCount: 2 },
        tasks: [
          {
            id: 'impl',
            title: 'Implement',
            executor: 'claude',
            prompt: 'Write todo.txt [task-impl]',
            estimate: '10m',
            writes: ['todo.txt'],
          },
          {
            id: 'review',
            title: 'Review',
            executor: 'anthropic',
            prompt: 'Review the change [task-review]',
            needs: ['impl'],
            estimate: '5m',
          },
        ],
      };
      p.llm.script({ marker: PLANNER }, step.json(answer));
      p.llm.script({ marker: '[task-impl]' }, ...writesFile(p.repo, 'impl', 'todo.txt', '- [ ] write the API\n'));
      const review = p.llm.script({ marker: '[task-review]' }, step.text('Looks good'));

      const r = await p.weft(['run', '--goal', GOAL, '--planner', 'claude', '--yes']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`Plan written to ${join(p.repo, 'plan.yaml')}`);
      const runId = runIdOf(r.stdout);
      expect(r.stdout).toMatch(new RegExp(`^Run ${runId} succeeded`, 'm'));
      expect(p.git('show', `weft/${runId}:todo.txt`)).toBe('- [ ] write the API\n');
      // The review (an SDK call) got the agent's result as its input.
      const [reviewTurn] = review.requests as [RecordedRequest];
      expect(reviewTurn.headers['user-agent']).toMatch(/^Anthropic\/JS /);
      expect(reviewTurn.userTexts.at(-1)).toContain('--- impl ---\nimpl: wrote todo.txt');
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'splices an expanding agent task’s {tasks: [...]} into the running graph: the added shell and LLM tasks run, and its dependents wait for them',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx, { files: expandingPlan('claude') });
      const fanout = p.llm.script({ marker: '[task-fanout]' }, step.json(SUB_PLAN));
      const review = p.llm.script({ marker: '[task-review]' }, step.text('Both files look right'));

      const r = await p.weft(['run', 'plan.yaml', '--json']);

      expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      const runId = String(events.find((e) => e.type === 'run.created')?.['runId']);
      expect(events.filter((e) => e.type === 'plan.expanded')).toMatchObject([{ by: 'fanout', tasks: SUB_PLAN.tasks }]);
      // The real claude answered through --json-schema.
      expect((fanout.requests[0] as RecordedRequest).offeredTools).toContain('StructuredOutput');
      const succeeded = events.filter((e) => e.type === 'task.succeeded').map((e) => e['task']);
      expect(new Set(succeeded)).toEqual(new Set(['fanout', 'gen-a', 'gen-b', 'review', 'collect']));
      expect(succeeded.indexOf('collect')).toBeGreaterThan(
        Math.max(succeeded.indexOf('gen-a'), succeeded.indexOf('gen-b'), succeeded.indexOf('review')),
      );
      expect(p.git('show', `weft/${runId}:all.txt`)).toBe('a\nb\n');
      expect(review.requests).toHaveLength(1);
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'resumes a run SIGKILLed after the expansion was journaled: the added tasks complete, the expansion is not asked again',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx, { files: expandingPlan('anthropic') });
      const fanout = p.llm.script({ marker: '[task-fanout]' }, step.json(SUB_PLAN));
      // The review's first call never answers: the coordinator dies while it waits.
      const review = p.llm.script({ marker: '[task-review]' }, step.hang(), step.text('Both files look right'));

      const run = p.start(['run', 'plan.yaml', '--json']);
      // An added task calling the model means the expansion is in the journal.
      await waitFor(
        'the added review task to call the model',
        () => review.requests.length > 0 || run.child.exitCode !== null,
      );
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal, killed.stdout.slice(-2000) + killed.stderr).toBe('SIGKILL');
      const events = jsonLines(killed.stdout);
      const runId = String(events.find((e) => e.type === 'run.created')?.['runId']);
      expect(events.filter((e) => e.type === 'plan.expanded')).toHaveLength(1);
      expect(events.some((e) => e.type === 'task.succeeded' && e['task'] === 'collect')).toBe(false);

      const resumed = await p.weft(['resume', runId, '--json']);

      expect(resumed.code, resumed.stdout.slice(-3000) + resumed.stderr).toBe(0);
      const after = jsonLines(resumed.stdout);
      expect(after.filter((e) => e.type === 'plan.expanded')).toEqual([]);
      expect(after.some((e) => e.type === 'task.started' && e['task'] === 'fanout')).toBe(false);
      expect(fanout.requests).toHaveLength(1);
      expect(review.requests).toHaveLength(2);
      const summary = after.find((e) => e.type === 'run.summary')?.['summary'] as {
        status: string;
        tasks: { id: string; state: string }[];
      };
      expect(summary.status).toBe('succeeded');
      expect(summary.tasks.map((t) => [t.id, t.state])).toEqual(
        ['fanout', 'collect', 'gen-a', 'gen-b', 'review'].map((id) => [id, 'succeeded']),
      );
      expect(p.git('show', `weft/${runId}:all.txt`)).toBe('a\nb\n');
      expect(p.llm.verify()).toEqual([]);
    },
  );

  it(
    'reads the sub-plan from an expanding task’s JSON text when it has no outputSchema',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx, { files: expandingPlan('anthropic', false) });
      const fanout = p.llm.script(
        { marker: '[task-fanout]' },
        step.text(`\`\`\`json\n${JSON.stringify(SUB_PLAN)}\n\`\`\``),
      );
      p.llm.script({ marker: '[task-review]' }, step.text('Both files look right'));

      const r = await p.weft(['run', 'plan.yaml']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(fanout.requests).toHaveLength(1);
      expect(p.git('show', `weft/${runIdOf(r.stdout)}:all.txt`)).toBe('a\nb\n');
      expect(p.llm.verify()).toEqual([]);
    },
  );
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planProblems } from '../testing/plan-problems.js';
import { formatPlanIssue, type PlanValidationError } from '../errors.js';
import { TaskIdSchema } from './plan-schema.js';
import { planArbitrary } from '../testing/arbitraries.js';
import { checkPlan, compilePlan, type ExecutorCatalog } from './compile.js';

const executors: ExecutorCatalog = new Map([
  ['shell', { requires: 'run' as const }],
  ['claude', { requires: 'prompt' as const }],
]);

const problems = (plan: unknown, catalog: ExecutorCatalog = executors): string[] => planProblems(plan, catalog);

const task = (id: string, extra: Record<string, unknown> = {}) => ({ id, run: `make ${id}`, ...extra });

describe('compilePlan: what a user sees for a broken plan', () => {
  it('names an unknown dependency and suggests the closest id', () => {
    expect(problems({ tasks: [task('build'), task('test', { needs: ['biuld'] })] })).toEqual([
      'plan.yaml task "test" needs[0]: unknown task "biuld" — fix: did you mean "build"?',
    ]);
    expect(problems({ tasks: [task('build'), task('test', { after: ['build', 'deploy-prod'] })] })).toEqual([
      'plan.yaml task "test" after[1]: unknown task "deploy-prod" — fix: use the id of a task in this plan',
    ]);
  });

  it('gives each wrongly typed field a fix that fits it: a duration, a mapping of its keys, an argv list, a path', () => {
    expect(
      problems({
        budget: 5,
        workspace: {
          setup: { run: 'npm ci', key: ['../package-lock.json'], share: ['node_modules'] },
          copy: ['/etc/x'],
        },
        tasks: [task('a', { stallAfter: '5q', backoff: '5s', limits: '2GB' })],
      }),
    ).toEqual([
      'plan.yaml budget: expected a mapping, got number 5 — fix: write a mapping, e.g. budget: {usd: 5}',
      'plan.yaml workspace.setup.run: expected a list, got string "npm ci" — fix: write the command as an argv list (no shell), e.g. run: [npm, ci]',
      'plan.yaml workspace.setup.key[0]: must be a path relative to the repository top, inside it (no leading / and no ..) — fix: write the path from the repository top, e.g. package-lock.json',
      'plan.yaml workspace.copy[0]: must be a path relative to the repository top, inside it (no leading / and no ..) — fix: write the path from the repository top, e.g. .env or config/local.json',
      'plan.yaml task "a" backoff: expected a mapping, got string "5s" — fix: write a mapping, e.g. backoff: {initial: 5s, max: 5m}',
      'plan.yaml task "a" stallAfter: expected a duration like 45m, 1h30m, 90s or 250ms — fix: write a duration like 45m, 1h30m, 90s or 250ms',
      'plan.yaml task "a" limits: expected a mapping, got string "2GB" — fix: write a mapping, e.g. limits: {memory: 2GB, cpus: 1.5}',
    ]);
  });

  it('still names unknown dependencies when the schema rejects the plan, so one pass shows every problem', () => {
    expect(
      problems({
        tasks: [
          task('build', { timeout: '5 minutes' }),
          task('test', { needs: ['biuld', 7] }),
          { id: 'x', needs: ['x'] },
        ],
      }),
    ).toEqual([
      'plan.yaml task "build" timeout: expected a duration like 45m, 1h30m, 90s or 250ms — fix: write a duration like 45m, 1h30m, 90s or 250ms',
      'plan.yaml task "test" needs[1]: expected a string, got number 7 — fix: write a task id, e.g. "build"',
      'plan.yaml task "test" needs[0]: unknown task "biuld" — fix: did you mean "build"?',
      'plan.yaml task "x" needs[0]: "x" depends on itself — fix: remove "x" from needs',
    ]);
  });

  it('types --set values like the variables they replace, and refuses names the plan does not declare', () => {
    const when = 'vars.deploy || vars.replicas > 2 || vars.env == "prod"';
    const spec = { vars: { deploy: false, replicas: 2, env: 'dev' }, tasks: [task('a', { when })] };
    const compiled = (vars: Record<string, string>) => compilePlan(spec, { file: 'plan.yaml', executors, vars }).vars;
    expect(compiled({ deploy: 'TRUE', replicas: '3', env: 'prod' })).toEqual({
      deploy: true,
      replicas: 3,
      env: 'prod',
    });
    expect(compiled({ deploy: 'false' })).toMatchObject({ deploy: false });
    const wrong = (vars: Record<string, string>) => {
      try {
        compilePlan(spec, { file: 'plan.yaml', executors, vars });
      } catch (error) {
        return (error as PlanValidationError).issues.map(formatPlanIssue);
      }
      return [];
    };
    // "no" is a truthy string: taken as is, it would have deployed.
    expect(wrong({ deploy: 'no', replicas: 'many', deplyo: 'true' })).toEqual([
      'plan.yaml vars.deploy: --set deploy=no: expected true or false — fix: --set deploy=true or --set deploy=false',
      'plan.yaml vars.replicas: --set replicas=many: expected a decimal number — fix: e.g. --set replicas=2',
      'plan.yaml vars.deplyo: --set deplyo: the plan has no variable "deplyo" — fix: did you mean "deploy"?',
    ]);
  });

  it('says what was written where the type is wrong (zod does not carry the value)', () => {
    expect(problems({ workers: 'abc', tasks: [task('a', { retries: { n: 1 }, env: ['A=1'] })] })).toEqual([
      'plan.yaml workers: expected a number, got string "abc" — fix: use a whole number from 1 to 1024',
      'plan.yaml task "a" retries: expected a number, got a mapping — fix: write a number',
      'plan.yaml task "a" env: expected a mapping, got a list — fix: write a mapping, e.g. {NAME: value}',
    ]);
    // A whole file that is one long string (not a plan at all) is quoted, not dumped.
    expect(problems('300 0 0 0 1 4 1 0 2 8 1 0 3 7 1 0 4 2 1 0 5 6 1 2 6 7 1 4 7 6 1 3')).toEqual([
      'plan.yaml (plan): expected a mapping, got string "300 0 0 0 1 4 1 0 2 8 1 0 3 7 1 0 4 … — fix: a plan needs `tasks:` with at least one task',
    ]);
  });

  it('prints a cycle in the order work would flow, starting at the task it names', () => {
    const plan = { tasks: [task('a', { needs: ['c'] }), task('b', { needs: ['a'] }), task('c', { needs: ['b'] })] };
    expect(problems(plan)).toEqual([
      'plan.yaml task "a" needs[0]: dependency cycle a → b → c → a — fix: remove one of these dependencies',
    ]);
    expect(problems({ tasks: [task('api', { needs: ['web'] }), task('web', { after: ['api'] })] })).toEqual([
      'plan.yaml task "api" needs[0]: dependency cycle api → web → api — fix: remove one of these dependencies',
    ]);
    expect(
      problems({ tasks: [task('lint'), task('api', { after: ['lint', 'web'] }), task('web', { needs: ['api'] })] }),
    ).toEqual([
      'plan.yaml task "api" after[1]: dependency cycle api → web → api — fix: remove one of these dependencies',
    ]);
    expect(problems({ tasks: [task('a', { needs: ['a'] })] })).toEqual([
      'plan.yaml task "a" needs[0]: "a" depends on itself — fix: remove "a" from needs',
    ]);
  });

  it('reports a cycle with the other problems, not once they are fixed', () => {
    const plan = { tasks: [task('a', { needs: ['b'], retries: -1 }), task('b', { needs: ['a', 'nope'] })] };
    expect(problems(plan)).toEqual([
      expect.stringMatching(/^plan\.yaml task "a" retries: /),
      'plan.yaml task "b" needs[1]: unknown task "nope" — fix: use the id of a task in this plan',
      'plan.yaml task "a" needs[0]: dependency cycle a → b → a — fix: remove one of these dependencies',
    ]);
  });

  it("counts a gate's reads in a cycle by id: of a repeated id, the last task's", () => {
    const gate = { id: 'g', gate: 'tasks.a.succeeded' };
    const duplicate =
      'plan.yaml task "g" tasks[2].id: duplicate id "g" (first used by tasks[1]) — fix: give each task a unique id';
    expect(problems({ tasks: [task('a', { needs: ['g'] }), gate, task('g')] })).toEqual([duplicate]);
    expect(problems({ tasks: [task('a', { needs: ['g'] }), task('g'), gate] })).toEqual([
      duplicate,
      'plan.yaml task "a" needs[0]: dependency cycle a → g → a — fix: remove one of these dependencies',
    ]);
  });

  it('reports one line for an entry that closes several cycles: the shortest, and how many were found', () => {
    // a needs d, which needs b (which needs x, which needs a) and c (which needs a): a.needs[0] closes
    // a → x → b → d → a, found first, and the shorter a → c → d → a; e ⇄ f is a line of its own.
    const plan = {
      tasks: [
        task('a', { needs: ['d'] }),
        task('b', { needs: ['x'] }),
        task('c', { needs: ['a'] }),
        task('x', { needs: ['a'] }),
        task('d', { needs: ['b', 'c'] }),
        task('e', { needs: ['f'] }),
        task('f', { needs: ['g', 'e'] }),
        task('g'),
      ],
    };
    expect(problems(plan)).toEqual([
      'plan.yaml task "a" needs[0]: dependency cycle a → c → d → a (the shortest of 2 found through needs[0]) — fix: remove one of these dependencies',
      'plan.yaml task "e" needs[0]: dependency cycle e → f → e — fix: remove one of these dependencies',
    ]);
  });

  it('points at the exact entry of a cycle so a loader can find its line', () => {
    const { issues } = checkPlan(
      { tasks: [task('x'), task('a', { needs: ['x', 'b'] }), task('b', { needs: ['a'] })] },
      { executors },
    );
    expect(issues.map((i) => i.path)).toEqual([['tasks', 1, 'needs', 1]]);
  });

  it('rejects a duplicate id, naming the first task that used it', () => {
    expect(problems({ tasks: [task('a'), task('a')] })).toEqual([
      'plan.yaml task "a" tasks[1].id: duplicate id "a" (first used by tasks[0]) — fix: give each task a unique id',
    ]);
  });

  it('rejects a bad duration', () => {
    expect(problems({ tasks: [task('a', { estimate: '1h30' })] })).toEqual([
      'plan.yaml task "a" estimate: bad duration "1h30" — fix: write e.g. 45m, 1h30m, 90s or 250ms: each unit once, the largest first',
    ]);
    expect(problems({ tasks: [task('a', { timeout: '5 minutes' })] })).toEqual([
      'plan.yaml task "a" timeout: expected a duration like 45m, 1h30m, 90s or 250ms — fix: write a duration like 45m, 1h30m, 90s or 250ms',
    ]);
  });

  it('an unknown field inside a nested mapping is checked against that mapping, with did-you-mean', () => {
    expect(
      problems({
        budget: { dollars: 5 },
        defaults: { backoff: { inital: '2s' } },
        tasks: [task('a', { backoff: { intial: '2s' }, limits: { memroy: '2GB' } })],
      }),
    ).toEqual([
      'plan.yaml defaults.backoff.inital: unknown field "inital" — fix: did you mean "initial"?',
      'plan.yaml budget.dollars: unknown field "dollars" — fix: remove it (known fields: usd, tokens)',
      'plan.yaml task "a" backoff.intial: unknown field "intial" — fix: did you mean "initial"?',
      'plan.yaml task "a" limits.memroy: unknown field "memroy" — fix: did you mean "memory"?',
    ]);
  });

  it('refuses writes and outputs on a task of an executor that only answers (an LLM API): they could never hold', () => {
    const catalog: ExecutorCatalog = new Map([...executors, ['api', { requires: 'prompt', answersOnly: true }]]);
    const ask = { id: 'ask', executor: 'api', prompt: 'write the server', writes: ['src/**'], outputs: ['src/x.ts'] };
    expect(problems({ tasks: [ask] }, catalog)).toEqual(
      ['writes', 'outputs'].map(
        (f) =>
          `plan.yaml task "ask" ${f}: executor "api" only answers (in text or JSON) and changes no file, so ${f} could never hold — fix: give the task to an agent that edits files (executor: claude, codex or gemini), or remove ${f}`,
      ),
    );
    expect(problems({ tasks: [{ id: 'ask', executor: 'api', prompt: 'review' }] }, catalog)).toEqual([]);
  });

  it("refuses an agent CLI's maxTurns, permissionMode and allowedTools on an API task; model, budget and outputSchema it uses", () => {
    const catalog: ExecutorCatalog = new Map([...executors, ['api', { requires: 'prompt', answersOnly: true }]]);
    const ask = {
      id: 'ask',
      executor: 'api',
      prompt: 'review',
      maxTurns: 3,
      permissionMode: 'plan',
      allowedTools: ['Read'],
    };
    expect(problems({ tasks: [ask] }, catalog)).toEqual(
      ['maxTurns', 'permissionMode', 'allowedTools'].map(
        (f) =>
          `plan.yaml task "ask" ${f}: executor "api" only answers (one API call: no turns, no tools), so ${f}, an agent CLI's field, would do nothing on it — fix: remove ${f}, or give the task to an agent CLI (executor: claude, codex or gemini)`,
      ),
    );
    const used = { model: 'm', budget: { usd: 1 }, outputSchema: { type: 'object' }, timeout: '1m', retries: 2 };
    expect(problems({ tasks: [{ id: 'ask', executor: 'api', prompt: 'review', ...used }] }, catalog)).toEqual([]);
    // In defaults they are for the plan's agent tasks; an agent task keeps them.
    const agent = {
      id: 'code',
      executor: 'claude',
      prompt: 'code',
      maxTurns: 3,
      permissionMode: 'plan',
      allowedTools: ['Read'],
    };
    const defaults = { maxTurns: 3, permissionMode: 'plan', allowedTools: ['Read'] };
    expect(problems({ defaults, tasks: [{ id: 'ask', executor: 'api', prompt: 'review' }, agent] }, catalog)).toEqual(
      [],
    );
  });

  it('refuses env and shell on an API task, which runs no process; defaults.env and cwd stay allowed', () => {
    const catalog: ExecutorCatalog = new Map([...executors, ['api', { requires: 'prompt', answersOnly: true }]]);
    const ask = { id: 'ask', executor: 'api', prompt: 'review', env: { MODE: 'strict' }, shell: true };
    expect(problems({ tasks: [ask] }, catalog)).toEqual(
      ['env', 'shell'].map(
        (f) =>
          `plan.yaml task "ask" ${f}: executor "api" only answers (one API call, no process), so ${f}, which sets up a task's process, would do nothing on it — fix: remove ${f}, or give the task to a command or an agent CLI (executor: shell, claude, codex or gemini)`,
      ),
    );
    // defaults.env is for the plan's commands and agents: it leaves the API task valid, as does its cwd.
    const plan = {
      defaults: { env: { MODE: 'strict' } },
      tasks: [{ id: 'ask', executor: 'api', prompt: 'review', cwd: 'docs' }, task('build', { env: { CI: '1' } })],
    };
    expect(problems(plan, catalog)).toEqual([]);
  });

  it('refuses writes and outputs that leave the plan’s folder: `..` that climbs out once normalised, absolute and drive paths', () => {
    const plan = {
      tasks: [
        task('a', { writes: ['../other/x.txt', 'src/**', 'a/../b.txt', './c/./d/../e'] }),
        task('b', { writes: ['/etc/passwd', 'C:\\Users\\x', 'd:/x', '\\\\host\\share\\x'] }),
        task('c', { outputs: ['../../secret', 'dist/app.js', 'x/../../y', 'a\\..\\..\\y'] }),
        task('d', { writes: ['src/{a,../../b}/*.ts', 'src/**/../../z', '{/etc,src}/x'] }),
      ],
    };
    const climbs = (id: string, field: string, k: number, path: string, bound = "the plan's folder") =>
      `plan.yaml task "${id}" ${field}[${k}]: ${JSON.stringify(path)} climbs out of ${bound}: a task ${field === 'writes' ? 'writes' : 'produces'} files only inside it — fix: name a path inside ${bound}, relative to the task's folder (e.g. ${field === 'writes' ? 'src/**' : 'dist/app.js'}), or remove it`;
    const absolute = (id: string, k: number, path: string) =>
      `plan.yaml task "${id}" writes[${k}]: ${JSON.stringify(path)} is an absolute path: a task writes files only inside the plan's folder — fix: name a path inside the plan's folder, relative to the task's folder (e.g. src/**), or remove it`;
    expect(problems(plan)).toEqual([
      climbs('a', 'writes', 0, '../other/x.txt'),
      absolute('b', 0, '/etc/passwd'),
      absolute('b', 1, 'C:\\Users\\x'),
      absolute('b', 2, 'd:/x'),
      absolute('b', 3, '\\\\host\\share\\x'),
      climbs('c', 'outputs', 0, '../../secret'),
      climbs('c', 'outputs', 2, 'x/../../y'),
      climbs('c', 'outputs', 3, 'a\\..\\..\\y'),
      climbs('d', 'writes', 0, 'src/{a,../../b}/*.ts'),
      climbs('d', 'writes', 1, 'src/**/../../z'), // ** may be no folder: that is ../z
      absolute('d', 2, '{/etc,src}/x'),
    ]);
  });

  it("reads writes and outputs from the task's folder: `..` back into the plan's folder is fine, out of a cwd outside it is not", () => {
    expect(
      problems({ tasks: [task('a', { cwd: 'web/app', writes: ['../common/**'], outputs: ['../../out.txt'] })] }),
    ).toEqual([]);
    expect(problems({ defaults: { cwd: 'web' }, tasks: [task('a', { outputs: ['../x', '../../x'] })] })).toEqual([
      `plan.yaml task "a" outputs[1]: "../../x" climbs out of the plan's folder: a task produces files only inside it — fix: name a path inside the plan's folder, relative to the task's folder (e.g. dist/app.js), or remove it`,
    ]);
    expect(problems({ tasks: [task('a', { cwd: '../lib', writes: ['src/**', '../x'] })] })).toEqual([
      `plan.yaml task "a" writes[1]: "../x" climbs out of the task's folder (cwd: ../lib): a task writes files only inside it — fix: name a path inside the task's folder (cwd: ../lib), relative to it (e.g. src/**), or remove it`,
    ]);
  });

  it("refuses a budget or an agent's field on a shell task, a budget no task can reach, and a pool named like a profile's", () => {
    const agent = { id: 'r', prompt: 'review', executor: 'claude' };
    expect(problems({ tasks: [task('a', { budget: { usd: 1 } }), agent] })).toEqual([
      'plan.yaml task "a" budget: a command reports no tokens or cost, so a budget on it would never stop it — fix: put budget on agent or API tasks, or on the plan (budget: at the top)',
    ]);
    expect(problems({ tasks: [task('a', { model: 'opus', maxTurns: 3, permissionMode: 'plan' })] })).toEqual(
      ['model', 'maxTurns', 'permissionMode'].map(
        (f) =>
          `plan.yaml task "a" ${f}: a command is no agent: ${f} would do nothing on it — fix: remove ${f}, or make the task an agent's (prompt: "…", executor: claude)`,
      ),
    );
    // A task that expands the plan may add agent tasks for the budget to bound.
    expect(problems({ budget: { usd: 1 }, tasks: [task('a', { expands: true })] })).toEqual([]);
    // In defaults they are for the plan's agent tasks; a budget of the plan bounds its agent and API tasks.
    expect(problems({ defaults: { model: 'opus' }, budget: { usd: 1 }, tasks: [task('a'), agent] })).toEqual([]);
    expect(problems({ budget: { usd: 1 }, defaults: { budget: { usd: 1 } }, tasks: [task('a')] })).toEqual(
      ['budget', 'defaults.budget'].map(
        (f) =>
          `plan.yaml ${f}: no task here reports tokens or cost (commands and gates do not), so this budget would never stop anything — fix: remove it, or give it agent or API tasks to bound`,
      ),
    );
    expect(
      problems({ profiles: { cpu: 1 }, pools: { 'profile:cpu': 3 }, tasks: [task('a', { profile: 'cpu' })] }),
    ).toEqual([
      'plan.yaml pools.profile:cpu: pool names starting with "profile:" are the profiles\' own (profiles: {cpu: N} makes that pool) — fix: rename the pool, or cap the profile under profiles',
    ]);
  });

  it('refuses a timeout of 0, which would stop the task as it starts (stallAfter: 0 is no watchdog)', () => {
    expect(problems({ tasks: [task('a', { timeout: '0s' })] })).toEqual([
      'plan.yaml task "a" timeout: timeout 0 would stop the task as it starts — fix: give the longest the task may take, e.g. 30m, or leave timeout out for none',
    ]);
    expect(problems({ tasks: [task('a', { stallAfter: 0 })] })).toEqual([]);
  });

  it('refuses run and prompt on one task: its executor would ignore one of them', () => {
    expect(problems({ tasks: [task('a', { prompt: 'also this' })] })).toEqual([
      expect.stringContaining('plan.yaml task "a" prompt: a task runs a command or gives a prompt, not both'),
    ]);
  });

  it('names an unknown executor and suggests the closest one', () => {
    expect(problems({ tasks: [{ id: 'a', executor: 'claud', prompt: 'hi' }] })).toEqual([
      'plan.yaml task "a" executor: unknown executor "claud" — fix: did you mean "claude"?',
    ]);
    expect(problems({ tasks: [{ id: 'a', executor: 'terraform', run: 'x' }] })).toEqual([
      'plan.yaml task "a" executor: unknown executor "terraform" — fix: use one of: shell, claude',
    ]);
  });

  it('says what an executor needs that the task lacks', () => {
    expect(problems({ tasks: [{ id: 'a', executor: 'claude', run: 'x' }] })).toEqual([
      'plan.yaml task "a" prompt: executor "claude" needs a prompt — fix: add prompt: "<what the agent should do>"',
    ]);
    expect(problems({ tasks: [{ id: 'a', prompt: 'hi' }] })).toEqual([
      'plan.yaml task "a" executor: a task with a prompt needs an executor — fix: set executor: claude | codex | gemini | anthropic | openai (or defaults.executor)',
    ]);
  });

  it('passes on what an executor’s own check finds', () => {
    const strict: ExecutorCatalog = new Map([
      [
        'shell',
        {
          requires: 'run' as const,
          check: (t) =>
            typeof t.run === 'string' && t.run.includes('|') && t.shell !== true
              ? [{ field: 'run', message: 'a pipe needs a shell', fix: 'set shell: true' }]
              : [],
        },
      ],
    ]);
    expect(problems({ tasks: [task('a', { run: 'ls | wc -l' })] }, strict)).toEqual([
      'plan.yaml task "a" run: a pipe needs a shell — fix: set shell: true',
    ]);
  });

  // A pool no task used was accepted, and capped nothing (a `profiles` cap no task has was refused).
  it("refuses a pool no task uses, counting defaults.uses and an executor's provider pool as uses", () => {
    expect(problems({ pools: { gpu: 1, net: 2 }, tasks: [task('a', { uses: { net: 1 } })] })).toEqual([
      'plan.yaml pools.gpu: no task uses pool gpu, so pools.gpu would cap nothing — fix: give the tasks it should cap uses: {gpu: 1} (or defaults.uses), or remove pools.gpu',
    ]);
    expect(problems({ pools: { gpu: 1 }, defaults: { uses: { gpu: 1 } }, tasks: [task('a')] })).toEqual([]);
    const api: ExecutorCatalog = new Map([...executors, ['api', { requires: 'prompt' as const, provider: 'acme' }]]);
    const ask = { id: 'ask', executor: 'api', prompt: 'hi' };
    expect(problems({ pools: { acme: 2 }, tasks: [ask] }, api)).toEqual([]);
    // A task that expands the plan may add tasks that use it.
    expect(problems({ pools: { gpu: 1 }, tasks: [task('a', { expands: true })] })).toEqual([]);
  });

  it('names an unknown pool and a task that needs more of a pool than exists', () => {
    // The only task that means to use gpu misspells it: one line, not also "pools.gpu would cap nothing".
    expect(problems({ pools: { gpu: 1 }, tasks: [task('train', { uses: { gpus: 1 } })] })).toEqual([
      'plan.yaml task "train" uses.gpus: unknown pool "gpus" — fix: did you mean "gpu"?',
    ]);
    const other = task('eval', { uses: { gpu: 1 } });
    expect(problems({ pools: { gpu: 1 }, tasks: [task('train', { uses: { gpus: 1 } }), other] })).toEqual([
      'plan.yaml task "train" uses.gpus: unknown pool "gpus" — fix: did you mean "gpu"?',
    ]);
    expect(problems({ tasks: [task('train', { uses: { gpu: 1 } })] })).toEqual([
      'plan.yaml task "train" uses.gpu: unknown pool "gpu" — fix: declare it under pools: {gpu: <capacity>}',
    ]);
    expect(problems({ pools: { gpu: 1 }, tasks: [task('train', { uses: { gpu: 2 } })] })).toEqual([
      'plan.yaml task "train" uses.gpu: needs 2 units of pool "gpu" but it has only 1 — fix: lower uses.gpu to at most 1 or raise pools.gpu',
    ]);
    expect(problems({ pools: { claude: 2 }, defaults: { uses: { claude: 3 } }, tasks: [task('a')] })).toEqual([
      'plan.yaml task "a" uses.claude: needs 3 units of pool "claude" but it has only 2 — fix: lower uses.claude to at most 2 or raise pools.claude',
    ]);
  });

  it('names an unknown field and suggests the field meant, in a task, the defaults and the plan', () => {
    expect(problems({ worker: 3, defaults: { retires: 1 }, tasks: [task('a', { need: [] })] })).toEqual([
      'plan.yaml defaults.retires: unknown field "retires" — fix: did you mean "retries"?',
      'plan.yaml task "a" need: unknown field "need" — fix: did you mean "needs"?',
      'plan.yaml worker: unknown field "worker" — fix: did you mean "workers"?',
    ]);
    expect(problems({ tasks: [task('a', { xyzzy: 1 })] })[0]).toMatch(
      /^plan\.yaml task "a" xyzzy: unknown field "xyzzy" — fix: remove it \(known fields: id, title, run, prompt, needs, after, /,
    );
  });

  it('points at the character where a `when` condition goes wrong', () => {
    const fix = ' — fix: write e.g. vars.flag, !vars.flag, vars.env == "prod" && tasks.build.succeeded';
    expect(problems({ tasks: [task('a', { when: 'vars.x & vars.y' })] })).toEqual([
      `plan.yaml task "a" when: bad condition at character 8: unexpected "&"${fix}`,
    ]);
    expect(problems({ tasks: [task('a', { when: 'vars.x &&' })] })).toEqual([
      `plan.yaml task "a" when: bad condition at character 10: unexpected end of condition${fix}`,
    ]);
    expect(problems({ tasks: [task('a', { when: '(vars.x || vars.y' })] })).toEqual([
      `plan.yaml task "a" when: bad condition at character 18: expected ")" at the end${fix}`,
    ]);
    expect(problems({ tasks: [task('a', { when: 'security == true' })] })).toEqual([
      `plan.yaml task "a" when: bad condition at character 1: unknown name "security": use vars.<name>, env.<NAME> or tasks.<id>.<field>${fix}`,
    ]);
  });

  it('rejects a `when` that reads a task it does not wait for', () => {
    expect(problems({ tasks: [task('build'), task('deploy', { when: 'tasks.build.succeeded' })] })).toEqual([
      'plan.yaml task "deploy" when: condition reads task "build" which is not in needs or after — fix: add "build" to after (or needs) so it has finished when the condition is checked',
    ]);
    expect(
      problems({ tasks: [task('build'), task('deploy', { after: ['build'], when: 'tasks.biuld.succeeded' })] }),
    ).toEqual([
      'plan.yaml task "deploy" when: condition reads tasks.biuld.succeeded: unknown task "biuld" — fix: did you mean "build"?',
    ]);
    expect(
      problems({ tasks: [task('build'), task('deploy', { after: ['build'], when: 'tasks.build.succeeded' })] }),
    ).toEqual([]);
  });

  it('rejects task ids that could escape the run folder', () => {
    const rule =
      'task ids use letters, digits, ".", "_" and "-", start with a letter or digit, and contain no ".." — fix: use letters, digits, ".", "_" and "-" (e.g. build-api)';
    for (const id of ['api/v2', '..', '../etc', 'a..b', '.hidden', 'C:\\x', ''])
      expect(problems({ tasks: [task(id)] })).toEqual([`plan.yaml task "${id}" id: ${rule}`]);
    expect(problems({ tasks: [task('build-api'), task('v1.2'), task('x_y'), task('a.')] })).toEqual([]);
  });

  it('accepts only ids that name a folder directly inside the run folder', () => {
    const idChars = fc.constantFrom('a', 'Z', '7', '.', '-', '_', '/', '\\', ' ', '\0', '~', ':');
    fc.assert(
      fc.property(fc.string({ unit: idChars, maxLength: 8 }), (id) => {
        if (!TaskIdSchema.safeParse(id).success) return;
        expect(id).not.toMatch(/^\.{1,2}$/);
        expect(id).not.toMatch(/[/\\\0:~ ]|\.\./);
        expect(id.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('reports every problem at once, not just the first', () => {
    expect(
      problems({
        tasks: [
          task('a', { needs: ['b'] }),
          { id: 'c', executor: 'codex', prompt: 'x' },
          task('d', { estimate: '1h30' }),
        ],
      }),
    ).toEqual([
      'plan.yaml task "a" needs[0]: unknown task "b" — fix: use the id of a task in this plan',
      'plan.yaml task "c" executor: unknown executor "codex" — fix: use one of: shell, claude',
      'plan.yaml task "d" estimate: bad duration "1h30" — fix: write e.g. 45m, 1h30m, 90s or 250ms: each unit once, the largest first',
    ]);
  });

  it('asks for at least one task', () => {
    expect(problems({ tasks: [] })).toEqual([
      'plan.yaml tasks: a plan needs at least one task — fix: a plan needs `tasks:` with at least one task',
    ]);
  });
});

describe('compilePlan: a valid plan', () => {
  it('applies defaults, --set overrides and measured history', () => {
    const plan = compilePlan(
      {
        vars: { env: 'dev', level: 1 },
        defaults: { retries: 2, timeout: '10m', env: { CI: true } },
        tasks: [
          task('build', { estimate: '90s', when: 'vars.env == "prod" && vars.level >= 1' }),
          task('test', { needs: ['build'], retries: 0, env: { N: 4 } }),
        ],
      },
      { executors, vars: { env: 'prod' }, history: new Map([['test', 4_000]]) },
    );
    expect(plan.workers).toBe(4);
    expect(plan.name).toBe('plan');
    expect(plan.vars).toEqual({ env: 'prod', level: 1 });
    const [build, test] = plan.graph.tasks;
    expect(build).toMatchObject({
      executor: 'shell',
      title: 'build',
      retries: 2,
      estimateMs: 90_000,
      timeoutMs: 600_000,
      env: { CI: 'true' },
      needs: [],
      after: [],
    });
    expect(test).toMatchObject({ retries: 0, estimateMs: 4_000, env: { CI: 'true', N: '4' }, needs: ['build'] });
    expect(build?.backoff).toEqual({ initialMs: 1000, maxMs: 300_000, factor: 2, jitter: true });
  });

  it('refuses shell on an agent task and defaults no task reads, one line each', () => {
    const withApi: ExecutorCatalog = new Map([
      ...executors,
      ['openai', { requires: 'prompt' as const, answersOnly: true }],
    ]);
    const agent = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      executor: 'claude',
      prompt: 'go',
      ...extra,
    });
    expect(problems({ tasks: [agent('a', { shell: true })] })).toEqual([
      'plan.yaml task "a" shell: executor "claude" runs no command (it is given a prompt), so shell would do nothing — fix: remove shell; it is for tasks with run',
    ]);
    expect(problems({ defaults: { shell: true, permissionMode: 'plan' }, tasks: [agent('a')] })).toEqual([
      'plan.yaml defaults.shell: no task of this plan runs a command (run:), so shell would do nothing — fix: remove defaults.shell',
    ]);
    expect(
      problems(
        {
          defaults: { model: 'm', maxTurns: 3, allowedTools: ['Bash'] },
          tasks: [task('a'), { id: 'b', executor: 'openai', prompt: 'hi' }],
        },
        withApi,
      ),
    ).toEqual([
      "plan.yaml defaults.maxTurns: no task of this plan is an agent CLI task (claude, codex, gemini), so maxTurns would do nothing — fix: remove defaults.maxTurns: it is an agent CLI's field",
      "plan.yaml defaults.allowedTools: no task of this plan is an agent CLI task (claude, codex, gemini), so allowedTools would do nothing — fix: remove defaults.allowedTools: it is an agent CLI's field",
    ]);
    expect(problems({ defaults: { model: 'm' }, tasks: [task('a')] })).toEqual([
      'plan.yaml defaults.model: no task of this plan gives a prompt (agent or API tasks), so model would do nothing — fix: remove defaults.model: a command has no model',
    ]);
    // Each acts on some task of these plans, or on the tasks one that expands may add.
    expect(problems({ defaults: { shell: true, model: 'm', maxTurns: 3 }, tasks: [task('a'), agent('b')] })).toEqual(
      [],
    );
    expect(problems({ defaults: { model: 'm', maxTurns: 3 }, tasks: [task('a', { expands: true })] })).toEqual([]);
  });

  it('backoff: an initial delay longer than the default max waits that long; one longer than a max given is refused', () => {
    const backoffOf = (b: Record<string, unknown>) =>
      compilePlan({ tasks: [task('a', { backoff: b })] }, { executors }).graph.tasks[0]?.backoff;
    // The default max (5m) does not cut an initial delay of 10m down to 5m.
    expect(backoffOf({ initial: '10m' })).toEqual({ initialMs: 600_000, maxMs: 600_000, factor: 2, jitter: true });
    expect(backoffOf({ initial: '2s', max: '1m', factor: 3, jitter: false })).toEqual({
      initialMs: 2_000,
      maxMs: 60_000,
      factor: 3,
      jitter: false,
    });
    expect(
      problems({ defaults: { backoff: { max: '1s' } }, tasks: [task('a', { backoff: { initial: '10m' } })] }),
    ).toEqual([
      'plan.yaml task "a" backoff.initial: initial delay 10m00s is longer than backoff.max 1.00s, so no retry would wait that long — fix: lower backoff.initial to at most 1.00s, or raise backoff.max',
    ]);
  });

  it('every task gets what defaults set unless it sets its own', () => {
    const plan = compilePlan(
      {
        profiles: { cpu: 2 },
        pools: { db: 1 },
        defaults: {
          profile: 'cpu',
          class: 'P1',
          estimate: '7m',
          stallAfter: '2m',
          labels: ['gpu'],
          resume: 'never',
          fixAttempts: 5,
          cache: false,
          uses: { db: 1 },
        },
        tasks: [
          task('a'),
          task('b', {
            class: 'P3',
            estimate: '1m',
            stallAfter: 0,
            labels: [],
            resume: 'auto',
            fixAttempts: 0,
            cache: true,
          }),
        ],
      },
      { executors },
    );
    const [a, b] = plan.graph.tasks;
    expect(a).toMatchObject({
      class: 'P1',
      estimateMs: 420_000,
      stallAfterMs: 120_000,
      labels: ['gpu'],
      resume: 'never',
      fixAttempts: 5,
      cache: false,
      uses: { db: 1, 'profile:cpu': 1 },
    });
    expect(b).toMatchObject({
      class: 'P3',
      estimateMs: 60_000,
      labels: [],
      resume: 'auto',
      fixAttempts: 0,
      cache: true,
    });
    expect(b?.stallAfterMs).toBeUndefined();
  });

  it('compiles every plan the random-plan arbitrary makes', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 30 }), ({ spec, graph }) => {
        const { issues, plan } = checkPlan(spec, { executors });
        expect(issues).toEqual([]);
        expect(plan?.graph.tasks.length).toBe(graph.tasks.length);
      }),
      { numRuns: 50 },
    );
  });
});

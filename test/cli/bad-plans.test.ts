import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const cases: [string, string, RegExp][] = [
  [
    'bad YAML',
    'name: x\ntasks:\n  - id: a\n    run: [true\n',
    /^plan\.yaml:\d+:\d+: bad YAML: .+ — fix: close the \[ … \] list with \]$/m,
  ],
  [
    'unknown dependency',
    'tasks:\n  - id: build\n    run: "true"\n  - id: test\n    run: "true"\n    needs: [biuld]\n',
    /^plan\.yaml:6:13 task "test" needs\[0\]: unknown task "biuld" — fix: did you mean "build"\?$/m,
  ],
  [
    'cycle',
    'tasks:\n  - { id: a, run: "true", needs: [c] }\n  - { id: b, run: "true", needs: [a] }\n  - { id: c, run: "true", needs: [b] }\n',
    /^plan\.yaml:2:\d+ task "a" needs\[0\]: dependency cycle a → b → c → a — fix: remove one of these dependencies$/m,
  ],
  [
    'duplicate id',
    'tasks:\n  - { id: a, run: "true" }\n  - { id: a, run: "true" }\n',
    /^plan\.yaml:3:\d+ task "a" tasks\[1\]\.id: duplicate id "a" \(first used by tasks\[0\]\) — fix: give each task a unique id$/m,
  ],
  [
    'bad duration',
    'tasks:\n  - { id: a, run: "true", estimate: 45 minutes }\n',
    /^plan\.yaml:2:\d+ task "a" estimate: expected a duration like 45m, 1h30m, 90s or 250ms — fix: write a duration like 45m, 1h30m, 90s or 250ms$/m,
  ],
  // `1m1m` was read as 2m, `30m1h` as 1h30m, and a backoff's `1h30` as the default 1s.
  ...(
    [
      ['estimate', 'estimate: 1m1m', 'estimate'],
      ['timeout', 'timeout: 30m1h', 'timeout'],
      ['stallAfter', 'stallAfter: 5s5s', 'stallAfter'],
      ['backoff.initial', 'backoff: { initial: 1h30 }', 'backoff\\.initial'],
      ['backoff.max', 'backoff: { max: 1m 1m }', 'backoff\\.max'],
    ] as const
  ).map(([name, field, at]): [string, string, RegExp] => [
    `malformed duration in ${name}`,
    `tasks:\n  - id: a\n    run: "true"\n    ${field}\n`,
    new RegExp(
      `^plan\\.yaml:4:\\d+ task "a" ${at}: bad duration "${field.replace(/^.*?: (\{ \w+: )?| \}$/g, '')}" — fix: write e\\.g\\. 45m, 1h30m, 90s or 250ms: each unit once, the largest first\n$`,
    ),
  ]),
  // A cap no task has the profile of was accepted, and capped nothing.
  [
    'a profiles cap no task has the profile of',
    'profiles: { cpu: 2, io: 1 }\ntasks:\n  - { id: a, run: "true", profile: io }\n',
    /^plan\.yaml:1:13 profiles\.cpu: no task has profile: cpu, so profiles\.cpu would cap nothing — fix: give the tasks it should cap profile: cpu \(or defaults\.profile\), or remove profiles\.cpu\n$/,
  ],
  // A pool no task used was accepted, and capped nothing.
  [
    'a pool no task uses',
    'pools: { gpu: 1, net: 2 }\ntasks:\n  - { id: a, run: "true", uses: { net: 1 } }\n',
    /^plan\.yaml:1:10 pools\.gpu: no task uses pool gpu, so pools\.gpu would cap nothing — fix: give the tasks it should cap uses: \{gpu: 1\} \(or defaults\.uses\), or remove pools\.gpu\n$/,
  ],
  // A variable nothing read was accepted, and did nothing; a `{{goal}}` in a plan file stays as written.
  [
    'a variable no condition reads',
    'vars: { deploy: false, level: 1 }\ntasks:\n  - { id: a, run: "true", when: vars.deploy }\n',
    /^plan\.yaml:1:24 vars\.level: no condition reads vars\.level, so it would do nothing — fix: read it in a when, gate or loop\.until \(e\.g\. when: vars\.level\), or remove vars\.level\n$/,
  ],
  [
    'a variable only a {{placeholder}} names',
    'vars: { goal: csv }\ntasks:\n  - { id: a, run: "echo {{goal}}" }\n',
    /^plan\.yaml:1:9 vars\.goal: no condition reads vars\.goal, so it would do nothing — fix: \{\{goal\}\} in a task is not filled in from vars \(only weft init fills a template's in\): write the value there, and remove vars\.goal\n$/,
  ],
  // Tasks keyed by id, as other tools write them: the fix said "a plan needs `tasks:`", which it has.
  [
    'tasks as a mapping by id',
    'tasks:\n  build:\n    run: "true"\n',
    /^plan\.yaml:1:1 tasks: expected a list, got a mapping — fix: write tasks as a list, each with its id: `- id: build` and its fields under it\n$/,
  ],
  // An empty file was "expected a mapping, got null — fix: a plan needs `tasks:`".
  [
    'an empty file',
    '',
    /^plan\.yaml \(plan\): is empty \(or holds only comments\) — fix: write a plan: `tasks:` with at least one task \(`weft init` writes one from a template\)\n$/,
  ],
  [
    'a file of comments only',
    '# a plan, one day\n',
    /^plan\.yaml \(plan\): is empty \(or holds only comments\) — fix: write a plan/,
  ],
  [
    'unknown executor',
    'tasks:\n  - { id: a, run: "true", executor: shel }\n',
    /^plan\.yaml:2:\d+ task "a" executor: unknown executor "shel" — fix: did you mean "shell"\?$/m,
  ],
  [
    'unknown pool',
    'pools: { claude: 2 }\ntasks:\n  - { id: a, run: "true", uses: { cluade: 1 } }\n',
    /^plan\.yaml:3:\d+ task "a" uses\.cluade: unknown pool "cluade" — fix: did you mean "claude"\?$/m,
  ],
  [
    'pool too small',
    'pools: { gpu: 1 }\ntasks:\n  - { id: a, run: "true", uses: { gpu: 2 } }\n',
    /^plan\.yaml:3:\d+ task "a" uses\.gpu: needs 2 units of pool "gpu" but it has only 1 — fix: lower uses\.gpu to at most 1 or raise pools\.gpu$/m,
  ],
  [
    'unknown field',
    'tasks:\n  - { id: a, run: "true", neds: [b] }\n',
    /^plan\.yaml:2:\d+ task "a" neds: unknown field "neds" — fix: did you mean "needs"\?$/m,
  ],
  [
    'id escaping the run folder',
    'tasks:\n  - { id: ../../etc, run: "true" }\n',
    /^plan\.yaml:2:\d+ task "\.\.\/\.\.\/etc" id: task ids use letters, digits/m,
  ],
  [
    'misspelt permission mode (taken for the default, it gave a review agent write access)',
    'tasks:\n  - { id: a, prompt: review only, executor: claude, permissionMode: readonly }\n',
    /^plan\.yaml:2:\d+ task "a" permissionMode: "readonly" is not one of plan, read-only, .+ — fix: did you mean "read-only"\?$/m,
  ],
  [
    "an agent CLI's field on an API task (one call: no turns, no tools)",
    'tasks:\n  - { id: a, prompt: review only, executor: anthropic, permissionMode: plan }\n',
    /^plan\.yaml:2:\d+ task "a" permissionMode: executor "anthropic" only answers \(one API call: no turns, no tools\), so permissionMode, an agent CLI's field, would do nothing on it — fix: remove permissionMode, or give the task to an agent CLI \(executor: claude, codex or gemini\)$/m,
  ],
  [
    'shell syntax without shell',
    'tasks:\n  - { id: a, run: "ls | wc -l" }\n',
    /^plan\.yaml:2:\d+ task "a" run: command uses "\|", which needs a shell — fix: set shell: true, or write run as an argv list$/m,
  ],
  [
    "writes outside the plan's folder",
    'tasks:\n  - id: a\n    run: "true"\n    writes: [src/**, ../other/x.txt]\n',
    /^plan\.yaml:4:22 task "a" writes\[1\]: "\.\.\/other\/x\.txt" climbs out of the plan's folder: a task writes files only inside it — fix: name a path inside the plan's folder, relative to the task's folder \(e\.g\. src\/\*\*\), or remove it$/m,
  ],
  [
    'writes an absolute path',
    'tasks:\n  - { id: a, run: "true", writes: [/etc/passwd] }\n',
    /^plan\.yaml:2:\d+ task "a" writes\[0\]: "\/etc\/passwd" is an absolute path: a task writes files only inside the plan's folder — fix: /m,
  ],
  [
    "outputs outside the plan's folder",
    'tasks:\n  - { id: a, run: "true", outputs: [../../secret] }\n',
    /^plan\.yaml:2:\d+ task "a" outputs\[0\]: "\.\.\/\.\.\/secret" climbs out of the plan's folder: a task produces files only inside it — fix: /m,
  ],
  // Its fix was the one for a bad character: "use letters, digits, …".
  [
    'an id over 100 characters',
    `tasks:\n  - { id: ${'a'.repeat(101)}, run: "true" }\n`,
    /^plan\.yaml:2:\d+ task "a+…" id: task ids are at most 100 characters — fix: shorten it to at most 100 characters$/m,
  ],
  // These three were "has the wrong type" / zod's "Invalid input: expected …", each with "see `weft schema`".
  [
    'a list for a value that is a string, a number or a boolean',
    'vars: { tags: [a, b] }\ntasks:\n  - { id: a, run: "true" }\n',
    /^plan\.yaml:1:\d+ vars\.tags: expected a string, a number or true or false, got a list — fix: write a string, a number or true or false$/m,
  ],
  [
    'approval that is not "required"',
    'tasks:\n  - { id: a, run: "true", approval: yes }\n',
    /^plan\.yaml:2:\d+ task "a" approval: expected "required", got string "yes" — fix: write approval: required$/m,
  ],
  // These were zod's "Too small: expected number to be >=0" with "fix: see `weft schema` for the expected shape".
  [
    'negative retries',
    'tasks:\n  - { id: a, run: "true", retries: -1 }\n',
    /^plan\.yaml:2:\d+ task "a" retries: must be at least 0, got number -1 — fix: write 0 or more$/m,
  ],
  [
    'fixAttempts over its most',
    'tasks:\n  - { id: a, run: "true", fixAttempts: 50 }\n',
    /^plan\.yaml:2:\d+ task "a" fixAttempts: must be at most 20, got number 50 — fix: write 20 or less$/m,
  ],
  [
    'a pool of no units',
    'pools: { gpu: 0 }\ntasks:\n  - { id: a, run: "true" }\n',
    /^plan\.yaml:1:\d+ pools\.gpu: must be more than 0, got number 0 — fix: write a number above 0$/m,
  ],
  [
    'an empty writes glob',
    'tasks:\n  - { id: a, run: "true", writes: [""] }\n',
    /^plan\.yaml:2:\d+ task "a" writes\[0\]: is empty — fix: write a value, or remove it$/m,
  ],
  [
    'a label with a space',
    'tasks:\n  - { id: a, run: "true", labels: ["gpu x"] }\n',
    /^plan\.yaml:2:\d+ task "a" labels\[0\]: a label is letters, digits, `_`, `\.` or `-` — fix: name the label like gpu or linux-x64$/m,
  ],
  [
    'a memory limit that is no size',
    'tasks:\n  - { id: a, run: "true", limits: { memory: 2XB } }\n',
    /^plan\.yaml:2:\d+ task "a" limits\.memory: expected a size like 2GB, 512MB or 100M — fix: write a size like 2GB, 512MB or 100M \(a number is bytes\)$/m,
  ],
  [
    'a loop that repeats nothing',
    'loop: { repeat: [], until: tasks.a.succeeded, max: 2 }\ntasks:\n  - { id: a, run: "true" }\n',
    /^plan\.yaml:1:\d+ loop\.repeat: a loop repeats at least one task — fix: list the tasks each iteration runs again, e\.g\. repeat: \[code, review\]$/m,
  ],
  [
    'resume that is neither auto nor never',
    'tasks:\n  - { id: a, run: "true", resume: sometimes }\n',
    /^plan\.yaml:2:\d+ task "a" resume: "sometimes" is not one of auto, never — fix: use auto or never$/m,
  ],
];

describe('bad plans get one clear line per problem and exit 2, and nothing is written', () => {
  it.each(cases)('%s', async (_name, text, expected) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), text);
    for (const command of ['validate', 'run', 'estimate']) {
      const r = await weft([command, 'plan.yaml'], { cwd: project });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
      expect(r.stdout).toBe('');
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  it("an agent CLI's fields on an LLM API task: each refused where it is; what an API call reads is not", async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      [
        'defaults: { maxTurns: 20 }', // for agent tasks, and this plan has none
        'tasks:',
        '  - id: ask',
        '    executor: openai',
        '    prompt: Score the design',
        '    model: gpt-5-mini',
        '    maxTurns: 5',
        '    permissionMode: read-only',
        '    allowedTools: [Read]',
        '    outputSchema: { type: object, properties: { score: { type: number } } }',
        '    budget: { usd: 0.5 }',
        '',
      ].join('\n'),
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      "plan.yaml:1:13 defaults.maxTurns: no task of this plan is an agent CLI task (claude, codex, gemini), so maxTurns would do nothing — fix: remove defaults.maxTurns: it is an agent CLI's field",
      ...[
        ['7:5', 'maxTurns'],
        ['8:5', 'permissionMode'],
        ['9:5', 'allowedTools'],
      ].map(
        ([at, f]) =>
          `plan.yaml:${at} task "ask" ${f}: executor "openai" only answers (one API call: no turns, no tools), so ${f}, an agent CLI's field, would do nothing on it — fix: remove ${f}, or give the task to an agent CLI (executor: claude, codex or gemini)`,
      ),
    ]);
    // model, prompt, outputSchema and budget are what the call uses.
    writeFileSync(
      join(project, 'plan.yaml'),
      'tasks:\n  - { id: ask, executor: anthropic, prompt: hi, model: claude-sonnet-4-6, budget: { usd: 0.5 }, outputSchema: { type: object } }\n',
    );
    expect(await weft(['validate', 'plan.yaml'], { cwd: project })).toMatchObject({ code: 0 });
  });

  it('env and shell on an LLM API task are refused where they are (it runs no process); defaults.env and cwd are not', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      [
        'defaults: { env: { CI: "1" } }', // for the plan's commands and agents
        'tasks:',
        '  - id: ask',
        '    executor: anthropic',
        '    prompt: Score the design',
        '    env: { MODE: strict }',
        '    shell: true',
        '',
      ].join('\n'),
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual(
      [
        ['6:5', 'env'],
        ['7:5', 'shell'],
      ].map(
        ([at, f]) =>
          `plan.yaml:${at} task "ask" ${f}: executor "anthropic" only answers (one API call, no process), so ${f}, which sets up a task's process, would do nothing on it — fix: remove ${f}, or give the task to a command or an agent CLI (executor: shell, claude, codex or gemini)`,
      ),
    );
    writeFileSync(
      join(project, 'plan.yaml'),
      'defaults: { env: { CI: "1" } }\ntasks:\n  - { id: ask, executor: anthropic, prompt: hi, cwd: . }\n  - { id: build, run: "true" }\n',
    );
    expect(await weft(['validate', 'plan.yaml'], { cwd: project })).toMatchObject({ code: 0 });
  });

  it('a .json plan must be JSON: a trailing comma or a comment is refused at its line and column (YAML took them)', async () => {
    const project = tempProject();
    const trailing = '{\n  "name": "p",\n  "tasks": [\n    { "id": "a", "run": "true" },\n  ]\n}\n';
    writeFileSync(join(project, 'plan.json'), trailing);
    for (const command of ['validate', 'run', 'estimate']) {
      const r = await weft([command, 'plan.json'], { cwd: project });
      expect(r, command).toMatchObject({
        code: 2,
        stdout: '',
        stderr: 'plan.json:4:33: bad JSON: a comma before "]": JSON allows no trailing comma — fix: remove the comma\n',
      });
    }
    const json = await weft(['validate', 'plan.json', '--json'], { cwd: project });
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: false,
      issues: [
        {
          file: 'plan.json',
          line: 4,
          column: 33,
          message: 'bad JSON: a comma before "]": JSON allows no trailing comma',
        },
      ],
    });
    writeFileSync(join(project, 'comment.json'), '{\n  // the plan\n  "tasks": [{ "id": "a", "run": "true" }]\n}\n');
    expect((await weft(['validate', 'comment.json'], { cwd: project })).stderr).toBe(
      'comment.json:2:3: bad JSON: a comment: JSON has none — fix: remove it, or write the plan as YAML (.yaml)\n',
    );
    writeFileSync(join(project, 'yaml.json'), 'tasks:\n  - { id: a, run: "true" }\n');
    expect((await weft(['validate', 'yaml.json'], { cwd: project })).stderr).toBe(
      'yaml.json:1:1: bad JSON: not JSON from its start: expected a value, found "tasks" without quotes — fix: write the plan as JSON, or name the file .yaml if it is YAML\n',
    );
    expect(existsSync(join(project, '.weft'))).toBe(false);
    // The same text in a YAML file is YAML, which allows it.
    writeFileSync(join(project, 'plan.yaml'), trailing);
    expect(await weft(['validate', 'plan.yaml'], { cwd: project })).toMatchObject({ code: 0 });
  });

  it("writes and outputs whose `..` stays inside the plan's folder are fine, and run makes them there", async () => {
    const project = tempProject();
    mkdirSync(join(project, 'web'));
    const plan = `tasks:
  - id: a
    cwd: web
    run: [node, -e, "require('fs').mkdirSync('../common'); require('fs').writeFileSync('../common/x.txt', 'x')"]
    writes: [a/../b.txt, ../common/**]
    outputs: [../common/x.txt]
`;
    writeFileSync(join(project, 'plan.yaml'), plan);
    const validate = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    const run = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(project, 'common', 'x.txt'))).toBe(true);
  });

  it('validate --json lists the issues', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), cases[1]?.[1] ?? '');
    const r = await weft(['validate', 'plan.yaml', '--json'], { cwd: project });
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    // The error object every command's --json failure has, too.
    expect(out.error).toMatchObject({ code: 'WEFT_PLAN_INVALID', issues: out.issues });
    expect(out).toMatchObject({
      valid: false,
      issues: [
        {
          file: 'plan.yaml',
          line: 6,
          task: 'test',
          field: 'needs[0]',
          message: 'unknown task "biuld"',
          fix: 'did you mean "build"?',
        },
      ],
    });
  });

  it('lists every problem at once, in file order, even when the schema already rejects the plan', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      'workers: two\ntasks:\n  - { id: build, run: "true", needs: [setup] }\n  - { id: test, run: "true", retries: lots, needs: [biuld] }\n',
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      'plan.yaml:1:1 workers: expected a number, got string "two" — fix: use a whole number from 1 to 1024',
      'plan.yaml:3:39 task "build" needs[0]: unknown task "setup" — fix: use the id of a task in this plan',
      'plan.yaml:4:30 task "test" retries: expected a number, got string "lots" — fix: write a number',
      'plan.yaml:4:53 task "test" needs[0]: unknown task "biuld" — fix: did you mean "build"?',
    ]);
  });

  it('a bad weft.config.yaml gets the same treatment: every problem, where it is, how to fix it', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(
      join(project, 'weft.config.yaml'),
      'planer: claude\nexecutors:\n  openai:\n    baseURL: http://localhost:1\n    model: 4\n  claud: { model: x }\n',
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      'weft.config.yaml:1:1 planer: unknown field "planer" — fix: did you mean "planner"?',
      'weft.config.yaml:4:5 executors.openai.baseURL: unknown field "baseURL" — fix: did you mean "baseUrl"?',
      'weft.config.yaml:5:5 executors.openai.model: expected a string, got number 4 — fix: see `weft schema --config`, or "What to configure" in the README',
      'weft.config.yaml:6:3 executors.claud: unknown field "claud" — fix: did you mean "claude"?',
    ]);
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  it('validate -C reads the weft.config.yaml of the folder named, and names it by its path from where weft runs', async () => {
    const above = tempProject();
    mkdirSync(join(above, 'app'));
    writeFileSync(join(above, 'app', 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(join(above, 'app', 'weft.config.yaml'), 'executors:\n  claude: { modle: x }\n');
    // Without -C the folder above is the project: no config there, the plan is valid.
    expect((await weft(['validate', 'app/plan.yaml'], { cwd: above })).code).toBe(0);
    const r = await weft(['validate', 'app/plan.yaml', '-C', 'app'], { cwd: above });
    // It said weft.config.yaml:2:13, a file that is not in the folder weft ran in.
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'app/weft.config.yaml:2:13 executors.claude.modle: unknown field "modle" — fix: did you mean "model"?\n',
    });
  });

  // `planner: claud` passed `weft validate` and `weft run` silently; only `weft plan` found it.
  it('a planner in weft.config.yaml that cannot plan is refused by every command that reads the file, with did-you-mean', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(join(project, 'weft.config.yaml'), 'planner: claud\n');
    for (const args of [
      ['validate', 'plan.yaml'],
      ['run', 'plan.yaml'],
    ]) {
      const r = await weft(args, { cwd: project });
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 2,
        stderr:
          'weft.config.yaml:1:1 planner: "claud" is not one of claude, codex, gemini, anthropic, openai — fix: did you mean "claude"?\n',
      });
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  it('a journal URL weft does not know, in weft.config.yaml or WEFT_DATABASE_URL, is a usage error: one line, exit 2', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(join(project, 'weft.config.yaml'), 'database: mysql://x@localhost/db\n');
    const fromConfig = await weft(['run', 'plan.yaml'], { cwd: project, env: { WEFT_DATABASE_URL: undefined } });
    expect(fromConfig).toMatchObject({ code: 2, stdout: '' });
    expect(fromConfig.stderr).toBe(
      'weft.config.yaml:1:1 database: expected postgres://…, sqlite:<file> or memory: — fix: see `weft schema --config`, or "What to configure" in the README\n',
    );
    writeFileSync(join(project, 'weft.config.yaml'), '');
    const fromEnv = await weft(['runs'], { cwd: project, env: { WEFT_DATABASE_URL: 'mysql://u:pw@h/db' } });
    expect(fromEnv).toMatchObject({ code: 2, stdout: '' });
    expect(fromEnv.stderr).toMatch(/^weft: unknown journal URL `mysql:\/\/\*\*\*@h\/db`\n/);
  });

  // It crashed: "internal error — please report it: Error: EISDIR …" and a stack, exit 70.
  it('a weft.config.yaml that is a folder is one line, exit 2, for every command that reads it', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    mkdirSync(join(project, 'weft.config.yaml'));
    for (const args of [['validate', 'plan.yaml'], ['run', 'plan.yaml'], ['runs']]) {
      const r = await weft(args, { cwd: project });
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 2,
        stderr:
          'weft.config.yaml: not a regular file (a folder?) — fix: make weft.config.yaml a YAML file, or remove it for the defaults\n',
      });
    }
  });

  it("a weft.config.yaml that is not YAML is the config's problem, not the plan's: exit 2, its line", async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(join(project, 'weft.config.yaml'), 'executors: { claude: { model: x }\n');
    const line = /^weft\.config\.yaml:2:1: bad YAML: .+ — fix: close the \{ … \} mapping with \}$/;
    // `validate --json` must not answer {"valid": false, "file": "plan.yaml"}: the plan was never checked.
    const validate = await weft(['validate', 'plan.yaml', '--json'], { cwd: project });
    expect(validate.code).toBe(2);
    // --json errors are JSON: the config's error, not the plan's verdict.
    expect(JSON.parse(validate.stdout)).toMatchObject({
      error: { code: 'WEFT_CONFIG_INVALID', issues: [{ file: 'weft.config.yaml', line: 2 }] },
    });
    expect(validate.stdout).not.toContain('"valid"');
    expect(validate.stderr.split('\n').filter((l) => l !== '')).toEqual([expect.stringMatching(line)]);
    const run = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr.split('\n').filter((l) => l !== '')).toEqual([expect.stringMatching(line)]);
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  it('validate refuses what run would refuse from the repository around the plan; without git it stays quiet', async () => {
    const outer = tempProject();
    const repo = join(outer, 'repo');
    mkdirSync(repo);
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'i'], {
      cwd: repo,
    });
    writeFileSync(join(repo, 'out.yaml'), 'tasks:\n  - { id: b, run: "true", writes: [x], cwd: ../ }\n');
    writeFileSync(
      join(repo, 'copy.yaml'),
      'workspace: { copy: [.env] }\ntasks:\n  - { id: b, run: "true", writes: [x] }\n',
    );
    for (const [file, says] of [
      ['out.yaml', `task "b" cwd: works in ${outer}, outside the repository ${repo} that holds the plan`],
      ['copy.yaml', `workspace.copy[0]: .env is not in ${repo}, so it cannot be copied into worktrees`],
    ] as [string, string][]) {
      const validate = await weft(['validate', file], { cwd: repo });
      const run = await weft(['run', file], { cwd: repo });
      expect([validate.code, run.code], file).toEqual([2, 2]);
      expect(validate.stderr).toContain(says);
      expect(run.stderr).toContain(says);
    }
    writeFileSync(join(outer, 'agent.yaml'), 'tasks:\n  - { id: b, run: "true", writes: [x] }\n');
    expect(await weft(['validate', 'agent.yaml'], { cwd: outer })).toMatchObject({ code: 0, stderr: '' });
  });

  it('a secret of the environment in an error (a path, an id) is masked, on stderr and in --json', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", cwd: nowhere-supersecret123 }\n');
    const env = { MY_API_KEY: 'supersecret123' };
    const plain = await weft(['validate', 'plan.yaml'], { cwd: project, env });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('nowhere-***');
    const json = await weft(['run', 'plan.yaml', '--json'], { cwd: project, env });
    const unknown = await weft(['status', 'x-supersecret123'], { cwd: project, env });
    const validateJson = await weft(['validate', 'plan.yaml', '--json'], { cwd: project, env });
    expect(validateJson.code).toBe(2);
    for (const r of [plain, json, unknown, validateJson]) expect(r.stdout + r.stderr).not.toContain('supersecret123');
    expect(JSON.parse(json.stdout).error.issues[0].message).toContain('nowhere-***');
  });

  it('a missing file and a bad flag are usage errors', async () => {
    const missing = await weft(['run', 'nope.yaml'], { cwd: tempProject() });
    expect(missing).toMatchObject({
      code: 2,
      stderr: 'weft: nope.yaml: no such file\n  pass the path of a plan file, e.g. examples/app.yaml\n',
    });
    const badJobs = await weft(['run', 'x.yaml', '-j', '0'], { cwd: tempProject() });
    expect(badJobs.code).toBe(2);
    expect(badJobs.stderr).toContain('-j expects a whole number of workers from 1 to 1024, got "0"');
  });

  it('schema prints the JSON Schema generated from the plan schema', async () => {
    const r = await weft(['schema']);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.tasks.items.properties).toHaveProperty('needs');
    expect(schema.properties.tasks.items.properties.estimate.description).toMatch(/critical-path ordering/);
    expect(schema.properties.tasks.items.additionalProperties).toBe(false);
  });
});

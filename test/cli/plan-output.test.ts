import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { FakeLlmServer, step } from '../support/fake-llm/fake-llm-server.js';

beforeAll(ensureBuilt);

/** A planner that would be paid if weft got that far: its API points nowhere that answers. */
const env = { ANTHROPIC_API_KEY: 'sk-ant-test-000000', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };

/** The fix line under a refused --attempts. */
const ATTEMPTS_FIX = '  --attempts takes digits only, e.g. --attempts 3 (the default)\n';

describe('weft plan refuses, before the planner is asked, a plan it could not save or would overwrite', () => {
  it('an existing plan.yaml (also from weft run --goal) is kept, one line, exit 2', async () => {
    const project = tempProject();
    const mine = 'name: mine\ntasks:\n  - { id: precious, run: "true" }\n';
    writeFileSync(join(project, 'plan.yaml'), mine);
    for (const args of [
      ['plan', 'a todo app', '--planner', 'anthropic'],
      ['run', '--goal', 'a todo app', '--planner', 'anthropic', '--yes'],
    ]) {
      const r = await weft(args, { cwd: project, env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(
        `weft: ${join(project, 'plan.yaml')} already exists\n  name another file (weft plan -o other.yaml, or weft run other.yaml --goal …), or overwrite it with weft plan --force\n`,
      );
    }
    expect(readFileSync(join(project, 'plan.yaml'), 'utf8')).toBe(mine);
  });

  it('-C: the plan goes into that project folder, not the current one', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks: []\n');
    const r = await weft(['plan', 'a todo app', '--planner', 'anthropic', '-C', project], { cwd: tempProject(), env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`weft: ${join(project, 'plan.yaml')} already exists`);
  });

  it('an -o it cannot write, and an empty goal, are usage errors, not a stack trace after the planner was paid', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'file'), '');
    const cannot = await weft(['plan', 'x', '--planner', 'anthropic', '-o', 'file/plan.yaml'], { cwd: project, env });
    expect(cannot.code).toBe(2);
    expect(cannot.stderr).toMatch(/^weft: cannot write the plan to .*file\/plan\.yaml: .*\n {2}pass -o with a path/);
    mkdirSync(join(project, 'plans'));
    const folder = await weft(['plan', 'x', '--planner', 'anthropic', '-o', 'plans', '--force'], { cwd: project, env });
    expect(folder).toMatchObject({ code: 2, stderr: expect.stringMatching(/^weft: \S+plans is a folder\n/) });
    const empty = await weft(['plan', '  ', '--planner', 'anthropic'], { cwd: project, env });
    expect(empty).toMatchObject({ code: 2, stderr: expect.stringMatching(/^weft: the goal is empty\n/) });
  });

  it('a planner that cannot plan, or a typo of one, and --attempts that is no count: one line each, exit 2', async () => {
    const project = tempProject();
    const plan = (...args: string[]) => weft(['plan', 'x', ...args], { cwd: project, env });
    const typo = await plan('--planner', 'clade');
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toMatch(
      /^weft: --planner: "clade" is not an executor that can plan\n {2}did you mean "claude"\? planners: /,
    );
    expect(typo.stderr).not.toMatch(/planners: .*\bshell\b/);
    const shell = await plan('--planner', 'shell');
    expect(shell.stderr).toMatch(/^weft: --planner: "shell" is not an executor that can plan\n/);
    for (const attempts of ['abc', '0', '1.5']) {
      const r = await plan('--planner', 'anthropic', '--attempts', attempts);
      expect(r).toMatchObject({
        code: 2,
        stderr: `weft: --attempts expects a whole number from 1 to 21, got "${attempts}"\n${ATTEMPTS_FIX}`,
      });
    }
    // The flag is named first, even when no planner could be chosen (it was the planner's error).
    expect(await plan('--planner', 'clade', '--attempts', '0')).toMatchObject({
      code: 2,
      stderr: `weft: --attempts expects a whole number from 1 to 21, got "0"\n${ATTEMPTS_FIX}`,
    });
  });

  it('weft run --goal refuses an --attempts that is no count the same way, before the planner is asked', async () => {
    const project = tempProject();
    for (const attempts of ['abc', '0', '22']) {
      const r = await weft(['run', '--goal', 'x', '--planner', 'anthropic', '--attempts', attempts], {
        cwd: project,
        env,
      });
      expect(r).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `weft: --attempts expects a whole number from 1 to 21, got "${attempts}"\n${ATTEMPTS_FIX}`,
      });
    }
  });
});

describe('--attempts reaches the planner', () => {
  /** An answer the planner is told to fix every time: a needs b, b needs a. */
  const cyclic = {
    analysis: { complexity: 'simple', reasons: ['two steps'], taskCount: 2 },
    tasks: [
      { id: 'a', title: 'A', prompt: 'Do a.', needs: ['b'], estimate: '10m' },
      { id: 'b', title: 'B', prompt: 'Do b.', needs: ['a'], estimate: '10m' },
    ],
  };

  // `weft run --goal` had no --attempts (commander refused it as unknown): only `weft plan` could change the count.
  for (const [command, args] of [
    ['weft plan', ['plan', 'a todo app']],
    ['weft run --goal', ['run', '--goal', 'a todo app', '--yes']],
  ] as const)
    for (const attempts of [1, 2])
      it(`${command} --attempts ${attempts}: the planner answers ${attempts} time(s), then weft gives up`, async (ctx) => {
        const llm = await FakeLlmServer.start();
        ctx.onTestFinished(() => llm.close());
        const planner = llm.script({ provider: 'anthropic' }, step.json(cyclic, { times: attempts }));
        const project = tempProject();
        const r = await weft([...args, '--planner', 'anthropic', '--attempts', String(attempts)], {
          cwd: project,
          env: { ANTHROPIC_API_KEY: 'sk-ant-test-000000', ANTHROPIC_BASE_URL: llm.url },
        });
        expect(r.code, r.stderr).toBe(1);
        // What it was told is said here: the journal (and so `weft status`) keeps only "did not pass its check".
        expect(r.stderr).toBe(
          `weft: the planner (anthropic) did not produce a valid plan in ${attempts === 1 ? '1 answer' : '2 answers'}; its last answer was told:\n` +
            '  The plan is not valid:\n' +
            '  - plan task "a" needs[0]: dependency cycle a → b → a — fix: remove one of these dependencies\n',
        );
        expect(planner.requests).toHaveLength(attempts);
        expect(llm.verify()).toEqual([]);
      });
});

/** A planner's answer of one review task per id. */
const reviews = (...ids: string[]) => ({
  analysis: { complexity: 'simple', reasons: ['reviews'], taskCount: ids.length },
  tasks: ids.map((id) => ({ id, title: `Review ${id}`, prompt: `Review ${id}.`, estimate: '5m' })),
});

/** A fake Anthropic API for one test (closed after it), and the env that points weft at it. */
async function fakeLlm(ctx: TestContext) {
  const llm = await FakeLlmServer.start();
  ctx.onTestFinished(() => llm.close());
  return { llm, fake: { ANTHROPIC_API_KEY: 'sk-ant-test-000000', ANTHROPIC_BASE_URL: llm.url } };
}

describe('weft run --goal', () => {
  it("hands the planned run weft run's own options (--sequential, --fail-fast): they were dropped", async (ctx) => {
    const { llm, fake } = await fakeLlm(ctx);
    llm.script({ provider: 'anthropic' }, step.json(reviews('a', 'b')), step.text('ok', { times: 2 }));
    const project = tempProject();
    const args = ['run', '--goal', 'review', '--planner', 'anthropic', '--yes', '--json'];
    const flags = ['--sequential', '--fail-fast', '--no-isolation'];
    const r = await weft([...args, ...flags], { cwd: project, env: fake });
    expect(r.code, r.stderr).toBe(0);
    const created = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type?: string; mode?: string; options?: Record<string, unknown> })
      .filter((e) => e.type === 'run.created');
    // The planner's own run, then the planned one.
    expect(created).toHaveLength(2);
    expect(created[1]).toMatchObject({ mode: 'sequential', options: { failFast: true } });
    expect(llm.verify()).toEqual([]);
  });
});

describe('weft run --goal --set', () => {
  it('is refused before the planner is asked (a planned plan declares no vars): exit 2, no request, no plan', async (ctx) => {
    const { llm, fake } = await fakeLlm(ctx);
    // What the planner would answer, were it asked: the old weft paid for it, then refused --set.
    const planner = llm.script({ provider: 'anthropic' }, step.json(reviews('review')));
    const project = tempProject();
    const r = await weft(['run', '--goal', 'review', '--planner', 'anthropic', '--yes', '--set', 'env=prod'], {
      cwd: project,
      env: fake,
    });
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'weft: --set does not go with --goal: a planned plan declares no vars for it to set\n  write the plan first (weft plan "<goal>" -o plan.yaml), declare its vars, then weft run plan.yaml --set name=value\n',
    });
    expect(planner.requests).toHaveLength(0);
    expect(llm.requests).toHaveLength(0);
    expect(existsSync(join(project, 'plan.yaml'))).toBe(false);
  });
});

describe('-o into folders that are not there yet', () => {
  /** An answer the planner never gets right: a needs b, b needs a. */
  const cyclic = {
    analysis: { complexity: 'simple', reasons: ['two steps'], taskCount: 2 },
    tasks: [
      { id: 'a', title: 'A', prompt: 'Do a.', needs: ['b'], estimate: '10m' },
      { id: 'b', title: 'B', prompt: 'Do b.', needs: ['a'], estimate: '10m' },
    ],
  };

  it('a planner that fails leaves no folder behind (weft plan -o, weft run <file> --goal)', async (ctx) => {
    const { llm, fake } = await fakeLlm(ctx);
    const planner = llm.script({ provider: 'anthropic' }, step.json(cyclic, { times: 2 }));
    const project = tempProject();
    for (const args of [
      ['plan', 'a todo app', '-o', 'some/new/folder/plan.yaml'],
      ['run', 'some/new/folder/plan.yaml', '--goal', 'a todo app', '--yes'],
    ]) {
      const r = await weft([...args, '--planner', 'anthropic', '--attempts', '1'], { cwd: project, env: fake });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^weft: the planner \(anthropic\) did not produce a valid plan in 1 answer;/);
      expect(existsSync(join(project, 'some')), args.join(' ')).toBe(false);
    }
    expect(planner.requests).toHaveLength(2);
    expect(llm.verify()).toEqual([]);
  });

  it('a plan the planner got right is written there, the folders made', async (ctx) => {
    const { llm, fake } = await fakeLlm(ctx);
    llm.script({ provider: 'anthropic' }, step.json(reviews('review')));
    const project = tempProject();
    const args = ['plan', 'review', '--planner', 'anthropic', '--executor', 'anthropic', '-o', 'some/new/plan.yaml'];
    const r = await weft(args, { cwd: project, env: fake });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(project, 'some/new/plan.yaml'), 'utf8')).toContain('id: review');
    expect(llm.verify()).toEqual([]);
  });
});

describe('weft plan -o plan.json', () => {
  it('saves the plan as JSON (a .json plan must be JSON), which validates', async (ctx) => {
    const { llm, fake } = await fakeLlm(ctx);
    llm.script({ provider: 'anthropic' }, step.json(reviews('review')));
    const project = tempProject();
    const args = ['plan', 'review the design', '--planner', 'anthropic', '--executor', 'anthropic', '-o', 'plan.json'];
    const r = await weft(args, { cwd: project, env: fake });
    expect(r.code, r.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(join(project, 'plan.json'), 'utf8')) as { tasks: { id: string }[] };
    expect(saved.tasks.map((t) => t.id)).toEqual(['review']);
    expect(await weft(['validate', 'plan.json'], { cwd: project, env: fake })).toMatchObject({ code: 0, stderr: '' });
    expect(llm.verify()).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TaskContext } from '../../core/ports/executor.js';
import type { ResolvedTask } from '../../core/plan/graph.js';
import { ShellExecutor } from './shell-executor.js';
import { helperPrograms } from '../process/helper-programs.js';
import { parseCommand } from './command.js';
import { testContext, testTask } from '../testing/task-context.js';
import { isRunning } from '../testing/task-like-process.js';

function task(partial: Partial<ResolvedTask> & { id: string }): ResolvedTask {
  return testTask({ executor: 'shell', ...partial });
}

function context(
  t: ResolvedTask,
  options: { signal?: AbortSignal; runDir?: string; workdir?: string } = {},
): TaskContext {
  const dir = options.workdir ?? mkdtempSync(join(tmpdir(), 'weft-shell-'));
  return testContext(t, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    runDir: options.runDir,
    baseDir: dir,
    workdir: dir,
  });
}

/** Running and not a zombie (a killed process whose parent has not reaped it yet is dead to us). */

describe.each(
  (
    [
      ['through python spawn helpers', 'python'],
      ['through bash spawn helpers', 'bash'],
      ['spawned by Node', false],
    ] as const
  ).filter(([, kind]) => kind === false || helperPrograms(kind).length > 0),
)('ShellExecutor, tasks %s', (_, spawnHelper) => {
  const shell = new ShellExecutor({ killGraceMs: 500, spawnHelper });
  afterAll(() => shell.endRun());

  it('runs argv without a shell: metacharacters in arguments stay literal', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const outcome = await shell.run(context(task({ id: 'echo', run: ['echo', 'a; rm -rf / && $HOME'] }), { runDir }));
    expect(outcome.ok).toBe(true);
    expect(readFileSync(join(runDir, 'tasks', 'echo', '1.stdout.log'), 'utf8')).toBe('a; rm -rf / && $HOME\n');
    if (outcome.ok) expect(outcome.result).toMatchObject({ exitCode: 0, text: 'a; rm -rf / && $HOME' });
  });

  it('keeps exit code and stderr tail of a failing command, with logs on disk', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const outcome = await shell.run(
      context(task({ id: 'bad', run: ['sh', '-c', 'echo oops >&2; exit 7'] }), { runDir }),
    );
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.failure.exitCode).toBe(7);
      expect(outcome.failure.message).toMatch(/^exited with code 7 after/);
      expect(outcome.failure.stderrTail).toBe('oops');
    }
    expect(readFileSync(join(runDir, 'tasks', 'bad', '1.stderr.log'), 'utf8')).toBe('oops\n');
  });

  it('passes env and cwd', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const workdir = mkdtempSync(join(tmpdir(), 'weft-cwd-'));
    const outcome = await shell.run(
      context(task({ id: 'env', run: ['sh', '-c', 'pwd; echo $GREETING-$WEFT_TASK_ID'], env: { GREETING: 'hi' } }), {
        runDir,
        workdir,
      }),
    );
    expect(outcome.ok).toBe(true);
    expect(
      readFileSync(join(runDir, 'tasks', 'env', '1.stdout.log'), 'utf8')
        .trim()
        .split('\n'),
    ).toEqual([workdir, 'hi-env']);
  });

  it('runs through /bin/sh only with shell: true', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const outcome = await shell.run(
      context(task({ id: 'piped', run: 'echo one two | wc -w', shell: true }), { runDir }),
    );
    expect(outcome.ok).toBe(true);
    expect(readFileSync(join(runDir, 'tasks', 'piped', '1.stdout.log'), 'utf8').trim()).toBe('2');
  });

  it('with shell: true and a list, keeps each word whole (spaces, quotes, $, a script for sh -c)', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const words = ['file with spaces.txt', "it's", '$HOME', '"q"', '', '*', 'x;y'];
    const listed = task({ id: 'listed', run: ['printf', '[%s]', ...words], shell: true });
    expect((await shell.run(context(listed, { runDir }))).ok).toBe(true);
    expect(readFileSync(join(runDir, 'tasks', 'listed', '1.stdout.log'), 'utf8')).toBe(
      words.map((w) => `[${w}]`).join(''),
    );
    const script = task({ id: 'script', run: ['sh', '-c', 'echo "one two"'], shell: true });
    expect((await shell.run(context(script, { runDir }))).ok).toBe(true);
    expect(readFileSync(join(runDir, 'tasks', 'script', '1.stdout.log'), 'utf8')).toBe('one two\n');
  });

  it('says clearly when the command does not exist', async () => {
    const outcome = await shell.run(context(task({ id: 'nope', run: ['definitely-not-a-command-xyz'] })));
    expect(outcome).toMatchObject({
      ok: false,
      failure: { message: 'command not found: definitely-not-a-command-xyz' },
    });
  });

  it('leaves nothing a task started running once the task has exited', async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'weft-cwd-'));
    const outcome = await shell.run(
      context(task({ id: 'leaves', run: ['sh', '-c', 'sleep 60 & echo $! > child.pid'] }), { workdir }),
    );
    expect(outcome.ok).toBe(true);
    const child = Number(readFileSync(join(workdir, 'child.pid'), 'utf8'));
    for (let i = 0; i < 50 && isRunning(child); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isRunning(child)).toBe(false);
  });

  it('kills the whole process group when aborted (timeout or Ctrl-C)', async () => {
    const workdir = mkdtempSync(join(tmpdir(), 'weft-cwd-'));
    const controller = new AbortController();
    // The task starts a grandchild in the background and records both pids.
    const run = shell.run(
      context(task({ id: 'group', run: ['sh', '-c', 'sleep 60 & echo $! > child.pid; echo $$ > parent.pid; wait'] }), {
        signal: controller.signal,
        workdir,
      }),
    );
    // parent.pid is written after child.pid: once it holds a pid, both files are complete.
    const written = (): boolean =>
      existsSync(join(workdir, 'parent.pid')) && readFileSync(join(workdir, 'parent.pid'), 'utf8').endsWith('\n');
    for (let i = 0; i < 1000 && !written(); i++) await new Promise((r) => setTimeout(r, 20));
    const child = Number(readFileSync(join(workdir, 'child.pid'), 'utf8'));
    const parent = Number(readFileSync(join(workdir, 'parent.pid'), 'utf8'));
    expect(isRunning(child)).toBe(true);
    controller.abort({ kind: 'timeout', ms: 100 });
    const outcome = await run;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.failure.timedOut).toBe(true);
      expect(outcome.failure.signal).toBe('SIGTERM');
    }
    for (let i = 0; i < 50 && (isRunning(child) || isRunning(parent)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(isRunning(child)).toBe(false);
    expect(isRunning(parent)).toBe(false);
  });

  it('escalates to SIGKILL when a task ignores SIGTERM', async () => {
    const controller = new AbortController();
    const workdir = mkdtempSync(join(tmpdir(), 'weft-cwd-'));
    const run = shell.run(
      context(
        task({ id: 'stubborn', run: ['sh', '-c', 'trap "" TERM; touch ready; while true; do sleep 0.05; done'] }),
        { signal: controller.signal, workdir },
      ),
    );
    for (let i = 0; i < 100 && !readdirSync(workdir).includes('ready'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    controller.abort({ kind: 'cancelled', reason: 'test' });
    const outcome = await run;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.failure.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
  it('keeps arguments literal: spaces, newlines, quotes, $(…), globs', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const args = ['  lead', 'a\nb', `it's "x"`, '$(touch pwned)', '*', '-n', ''];
    const outcome = await shell.run(
      context(
        task({
          id: 'args',
          run: ['node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...args],
        }),
        { runDir },
      ),
    );
    expect(outcome.ok).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, 'tasks', 'args', '1.stdout.log'), 'utf8'))).toEqual(args);
  });

  it('tells a death by signal from an exit code', async () => {
    const killed = await shell.run(context(task({ id: 'segv', run: ['sh', '-c', 'kill -SEGV $$'] })));
    expect(killed).toMatchObject({
      ok: false,
      failure: { signal: 'SIGSEGV', exitCode: null, message: expect.stringMatching(/^killed by SIGSEGV/) },
    });
    const exited = await shell.run(context(task({ id: 'exit139', run: ['sh', '-c', 'echo late >&2; exit 139'] })));
    expect(exited).toMatchObject({ ok: false, failure: { signal: null, exitCode: 139, stderrTail: 'late' } });
  });

  it('gives the task the environment a plain spawn would: the base one, its env and WEFT_* (WEFT_OUTPUT always; no WEFT_INPUTS without needs, no WEFT_FEEDBACK on a first attempt)', async () => {
    // `_` aside: bash drops it (a shell sets it to the command it runs; what the coordinator inherited is stale).
    const { _: _stale, ...inherited } = process.env;
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      OVERRIDDEN: 'base',
      'NOT-AN-IDENTIFIER': 'y',
      IFS: ':',
      SHLVL: '7',
      PWD: '/somewhere',
      OLDPWD: undefined,
    };
    const local = new ShellExecutor({ env, spawnHelper });
    const runDir = mkdtempSync(join(tmpdir(), 'weft-run-'));
    const print = ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))'];
    try {
      expect(
        (
          await local.run(
            context(task({ id: 'env', run: print, env: { ADDED: 'a b', OVERRIDDEN: 'task' } }), { runDir }),
          )
        ).ok,
      ).toBe(true);
      const seen = JSON.parse(readFileSync(join(runDir, 'tasks', 'env', '1.stdout.log'), 'utf8')) as Record<
        string,
        string
      >;
      const { OLDPWD: _none, ...expected } = env;
      expect(seen).toEqual({
        ...expected,
        ADDED: 'a b',
        OVERRIDDEN: 'task',
        WEFT_RUN_ID: 'r1',
        WEFT_TASK_ID: 'env',
        WEFT_ATTEMPT: '1',
        WEFT_WORKER: '0',
        WEFT_OUTPUT: join(runDir, 'tasks', 'env', '1.output.json'),
      });
    } finally {
      await local.endRun();
    }
  });
});

describe('parseCommand', () => {
  it('splits quoted arguments', () => {
    expect(parseCommand(`git commit -m "fix: a b" --author='x y'`)).toEqual({
      argv: ['git', 'commit', '-m', 'fix: a b', '--author=x y'],
    });
  });
  it.each([
    ['ls | wc', 'uses "|", which needs a shell'],
    ['make && make install', 'uses "&&", which needs a shell'],
    ['echo $HOME', 'uses $HOME, which only a shell expands'],
    ['rm *.o', 'uses the glob "*.o", which only a shell expands'],
  ])('refuses shell syntax in %s', (run, error) => {
    expect(parseCommand(run)).toEqual({ error });
  });
  // Was "command empty command — fix: set shell: true, …", and with shell: true a blank run passed (and did nothing).
  it('validation refuses a blank command, with or without a shell, and says to write one', () => {
    const check = new ShellExecutor().info.check;
    const blank = { field: 'run', message: 'command is empty', fix: 'write the command to run, e.g. run: npm test' };
    expect(check({ id: 'x', run: ' ' })).toEqual([blank]);
    expect(check({ id: 'x', run: ' \t', shell: true })).toEqual([blank]);
    expect(check({ id: 'x', run: [' '], shell: true })).toEqual([blank]);
    expect(check({ id: 'x', run: 'true', shell: true })).toEqual([]);
  });
  it('validation tells the user to opt in to a shell', () => {
    const issues = new ShellExecutor().info.check({ id: 'x', run: 'ls | wc' });
    expect(issues).toEqual([
      {
        field: 'run',
        message: 'command uses "|", which needs a shell',
        fix: 'set shell: true, or write run as an argv list',
      },
    ]);
  });
});

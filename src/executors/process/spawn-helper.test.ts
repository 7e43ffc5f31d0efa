import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SpawnHelperPool, type HelperRequest } from './spawn-helper.js';
import {
  encodeBaseEnv,
  encodeRequest,
  findBash,
  findPython,
  helperPrograms,
  type HelperProgram,
} from './helper-programs.js';
import { isRunning } from '../testing/task-like-process.js';

const bash = findBash();
const python = findPython();
/** Each program on its own, where this machine has it (python: Linux with python3). */
const only = (kind: 'bash' | 'python'): readonly HelperProgram[] => helperPrograms(kind);
const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

function request(argv: string[], cwd: string, signal = new AbortController().signal): HelperRequest {
  return { argv, cwd, env: {}, stdout: join(cwd, 'out.log'), stderr: join(cwd, 'err.log'), signal, killGraceMs: 200 };
}

/**
 * Runs `test` with a pool of `programs` (helpers started with `baseEnv`) and a fresh folder for the
 * tasks to work in; the pool is closed afterwards, whatever happens.
 */
async function withPool(
  programs: readonly HelperProgram[],
  test: (pool: SpawnHelperPool, cwd: string) => Promise<void>,
  baseEnv: () => NodeJS.ProcessEnv = () => process.env,
): Promise<void> {
  const pool = new SpawnHelperPool(programs, baseEnv);
  const cwd = mkdtempSync(join(tmpdir(), 'weft-helper-test-'));
  try {
    await test(pool, cwd);
  } finally {
    await pool.close();
  }
}

describe.each([
  ['bash', bash === undefined],
  ['python', python === undefined],
] as const)('SpawnHelperPool, %s helpers', (kind, missing) => {
  if (missing) return void it.skip(`${kind} is not installed`);
  const programs = only(kind);

  it('fails the running task when its helper dies, kills what it started, and starts a new helper', async () => {
    await withPool(programs, async (pool, cwd) => {
      const run = pool.run(request(['sh', '-c', 'echo $PPID > helper.pid; echo $$ > task.pid; sleep 30'], cwd));
      await waitFor(
        () => existsSync(join(cwd, 'task.pid')) && readFileSync(join(cwd, 'task.pid'), 'utf8').endsWith('\n'),
      );
      const helper = Number(readFileSync(join(cwd, 'helper.pid'), 'utf8'));
      const task = Number(readFileSync(join(cwd, 'task.pid'), 'utf8'));
      process.kill(helper, 'SIGKILL');
      const exit = await run;
      expect(exit).toMatchObject({ kind: 'helper-died', started: true, detail: 'SIGKILL' });
      await waitFor(() => !isRunning(task));
      expect(isRunning(task)).toBe(false);
      expect(await pool.run(request(['sh', '-c', 'exit 3'], cwd))).toEqual({
        kind: 'exited',
        code: 3,
        startedAt: expect.any(Number),
        endedAt: expect.any(Number),
      });
    });
  });

  it('leaves no helper behind after close', async () => {
    const pool = new SpawnHelperPool(programs, () => process.env);
    const cwd = mkdtempSync(join(tmpdir(), 'weft-helper-test-'));
    const [a, b] = await Promise.all([
      pool.run(request(['sh', '-c', 'echo $PPID > a.pid'], cwd)),
      pool.run(request(['sh', '-c', 'echo $PPID > b.pid'], cwd)),
    ]);
    const ran = { startedAt: expect.any(Number), endedAt: expect.any(Number) };
    expect([a, b]).toEqual([
      { kind: 'exited', code: 0, ...ran },
      { kind: 'exited', code: 0, ...ran },
    ]);
    const helpers = ['a.pid', 'b.pid'].map((f) => Number(readFileSync(join(cwd, f), 'utf8')));
    expect(new Set(helpers).size).toBe(2); // one per task running at once
    expect(helpers.every(isRunning)).toBe(true);
    await pool.close();
    expect(helpers.some(isRunning)).toBe(false);
  });

  it("says when the task's process was forked and reaped, by the helper's clock", async () => {
    await withPool(programs, async (pool, cwd) => {
      const before = Date.now();
      const exit = await pool.run(request(['sleep', '0.2'], cwd));
      const after = Date.now();
      const { startedAt = NaN, endedAt = NaN } = exit ?? {};
      expect([before <= startedAt, endedAt - startedAt >= 200, endedAt <= after]).toEqual([true, true, true]);
    });
  });

  it('reports a missing command or working directory without running anything', async () => {
    await withPool(programs, async (pool, cwd) => {
      expect(await pool.run(request(['no-such-command-xyz'], cwd))).toEqual({ kind: 'not-found' });
      expect(await pool.run(request(['./missing.sh'], cwd))).toEqual({ kind: 'not-found' });
      expect(await pool.run(request(['true'], join(cwd, 'gone')))).toEqual({ kind: 'no-cwd' });
      expect(await pool.run({ ...request(['true'], cwd), stdout: join(cwd, 'no', 'such', 'dir.log') })).toEqual({
        kind: 'no-log-file',
      });
    });
  });

  it('passes argv verbatim, applies the env changes to the base env, and runs the task in its own group with stdin /dev/null', async () => {
    await withPool(
      programs,
      async (pool, cwd) => {
        const tricky = 'a b\n$(touch pwned) `id` \'"; *';
        const script =
          'printf "%s|" "$1" "$KEEP" "${DROP-unset}" "$NEW" > out.txt; ps -o pgid= -p $$ > pgid.txt; echo $$ > pid.txt; cat > stdin.txt';
        const exit = await pool.run({
          ...request(['sh', '-c', script, 'sh', tricky], cwd),
          env: { NEW: 'v=1 2' },
        });
        expect(exit).toMatchObject({ kind: 'exited', code: 0 });
        expect(readFileSync(join(cwd, 'out.txt'), 'utf8')).toBe(`${tricky}|base|x|v=1 2|`);
        expect(existsSync(join(cwd, 'pwned'))).toBe(false);
        expect(readFileSync(join(cwd, 'pgid.txt'), 'utf8').trim()).toBe(
          readFileSync(join(cwd, 'pid.txt'), 'utf8').trim(),
        );
        expect(readFileSync(join(cwd, 'stdin.txt'), 'utf8')).toBe('');
        const unset = await pool.run({ ...request(['sh', '-c', 'echo "${DROP-unset}" > drop.txt'], cwd), env: {} });
        expect(unset).toMatchObject({ kind: 'exited', code: 0 });
        expect(readFileSync(join(cwd, 'drop.txt'), 'utf8')).toBe('x\n');
      },
      () => ({ ...process.env, KEEP: 'base', DROP: 'x' }),
    );
  });

  it('tells a task killed by a signal from one that exited with 128 + n, and a file it cannot run', async () => {
    await withPool(programs, async (pool, cwd) => {
      expect(await pool.run(request(['sh', '-c', 'kill -TERM $$'], cwd))).toMatchObject({
        kind: 'signaled',
        signal: 'SIGTERM',
      });
      expect(await pool.run(request(['sh', '-c', 'exit 143'], cwd))).toMatchObject({ kind: 'exited', code: 143 });
      writeFileSync(join(cwd, 'not-executable.sh'), 'echo hi\n');
      expect(await pool.run(request(['./not-executable.sh'], cwd))).toMatchObject({ kind: 'exited', code: 126 });
      expect(readFileSync(join(cwd, 'err.log'), 'utf8')).toMatch(/[Pp]ermission denied/);
    });
  });

  it('finds a command on PATH again once the one found before is gone, and reads a relative PATH folder from each cwd', async () => {
    await withPool(programs, async (pool, cwd) => {
      const tool = (dir: string, says: string): void => {
        mkdirSync(join(cwd, dir), { recursive: true });
        writeFileSync(join(cwd, dir, 'weft-tool'), `#!/bin/sh\necho ${says} > "$1"\n`, { mode: 0o755 });
      };
      const said = (file: string): string => readFileSync(join(cwd, file), 'utf8').trim();
      tool('first', 'first');
      tool('second', 'second');
      const onPath = (path: string, out: string, dir = cwd): HelperRequest => ({
        ...request(['weft-tool', join(cwd, out)], dir),
        env: { PATH: `${path}:/usr/bin:/bin` },
      });
      const absolute = `${join(cwd, 'first')}:${join(cwd, 'second')}`;
      expect(await pool.run(onPath(absolute, 'a.txt'))).toMatchObject({ kind: 'exited', code: 0 });
      rmSync(join(cwd, 'first', 'weft-tool'));
      expect(await pool.run(onPath(absolute, 'b.txt'))).toMatchObject({ kind: 'exited', code: 0 });
      expect([said('a.txt'), said('b.txt')]).toEqual(['first', 'second']);
      // `bin` is each task's own cwd's bin, before `second`: found in `second` from x, in y/bin from y.
      mkdirSync(join(cwd, 'x'));
      tool('y/bin', 'y');
      for (const d of ['x', 'y'])
        expect(await pool.run(onPath(`bin:${join(cwd, 'second')}`, `${d}.txt`, join(cwd, d)))).toMatchObject({
          kind: 'exited',
          code: 0,
        });
      expect([said('x.txt'), said('y.txt')]).toEqual(['second', 'y']);
    });
  });

  it('sends only what changes, and leaves to plain spawn what bash cannot pass on', () => {
    expect(SpawnHelperPool.envChanges({ A: '1', B: '2', PWD: '/p' }, { A: '3', B: '2', C: '4' })).toEqual({
      sets: ['A=3', 'C=4', 'PWD=/p'],
      unsets: ['OLDPWD', 'SHLVL'],
    });
    expect(SpawnHelperPool.envChanges({ A: '1' }, { 'B-C': '2' })).toBeUndefined();
    expect(SpawnHelperPool.envChanges({ A: '1' }, { UID: '0' })).toBeUndefined();
    expect(SpawnHelperPool.envChanges({ SHELLOPTS: 'xtrace' }, {})).toBeUndefined();
  });

  it('never sends a NUL in an env name or value: it would smuggle in another variable', async () => {
    expect(SpawnHelperPool.envChanges({}, { A: 'x\0B=injected' })).toBeUndefined();
    expect(SpawnHelperPool.envChanges({}, { 'A\0B': '1' })).toBeUndefined();
    await withPool(programs, async (pool, cwd) => {
      // Refused (left to plain spawn, which refuses it too), so nothing ran with B set.
      const argv = ['sh', '-c', 'echo "B=$B" > env.txt'];
      expect(await pool.run({ ...request(argv, cwd), env: { A: 'x\0B=injected' } })).toBeUndefined();
      expect(existsSync(join(cwd, 'env.txt'))).toBe(false);
      expect(await pool.run({ ...request(argv, cwd), env: { A: 'x' } })).toMatchObject({ kind: 'exited', code: 0 });
      expect(readFileSync(join(cwd, 'env.txt'), 'utf8')).toBe('B=\n');
    });
  });
});

describe.skipIf(bash === undefined)('SpawnHelperPool, a helper that cannot start', () => {
  it('is not started again: the task and the next ones run on the next program', async () => {
    const broken: HelperProgram = { kind: 'python', file: '/bin/sh', args: ['-c', 'exit 3'] };
    await withPool([broken, ...only('bash')], async (pool, cwd) => {
      expect(await pool.run(request(['sh', '-c', 'exit 4'], cwd))).toMatchObject({ kind: 'exited', code: 4 });
      expect(pool.program.kind).toBe('bash');
      expect(await pool.run(request(['true'], cwd))).toMatchObject({ kind: 'exited', code: 0 });
    });
  });
});

describe.skipIf(python === undefined)('the python helper, when weft dies while a task runs', () => {
  it('stops the task’s group itself at end of input, before weft has even read the pid, and exits', async () => {
    const [program] = only('python');
    const cwd = mkdtempSync(join(tmpdir(), 'weft-helper-test-'));
    // The helper as a dead weft leaves it: its stdin is closed once the task has been forked, and no one reads its answers.
    const helper = spawn(program?.file as string, program?.args ?? [], { stdio: ['pipe', 'ignore', 'ignore'] });
    const fields = { cwd, stdout: join(cwd, 'out.log'), stderr: join(cwd, 'err.log'), sets: [], unsets: [] };
    helper.stdin.write(encodeBaseEnv({ PATH: process.env.PATH ?? '' }));
    helper.stdin.write(encodeRequest({ ...fields, argv: ['sh', '-c', 'sleep 30 & echo $! > sleep.pid; wait'] }));
    const file = join(cwd, 'sleep.pid');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'));
    const sleeper = Number(readFileSync(file, 'utf8'));
    const exited = new Promise((r) => helper.once('exit', r));
    helper.stdin.end();
    await exited;
    await waitFor(() => !isRunning(sleeper));
    expect(isRunning(sleeper)).toBe(false);
    rmSync(cwd, { recursive: true, force: true });
  });
});

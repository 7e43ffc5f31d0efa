import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, startWeft, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const plan = (joinCommand = 'cat out-a.txt out-b.txt > all.txt') =>
  [
    'tasks:',
    `  - { id: gen-a, run: [sh, -c, 'cat src/a.txt > out-a.txt; echo gen-a >> ran.txt'], inputs: [src/a.txt], writes: [out-a.txt] }`,
    `  - { id: gen-b, run: [sh, -c, 'cat src/b.txt > out-b.txt; echo gen-b >> ran.txt'], inputs: [src/b.txt], writes: [out-b.txt] }`,
    `  - { id: join, run: [sh, -c, '${joinCommand}; echo join >> ran.txt'], needs: [gen-a, gen-b], cache: true, writes: [all.txt] }`,
    `  - { id: report, run: [sh, -c, 'echo report >> ran.txt'], needs: [join], inputs: [all.txt] }`,
  ].join('\n');

async function runOnce(project: string, extra: string[] = []): Promise<{ ran: string[]; stdout: string }> {
  rmSync(join(project, 'ran.txt'), { force: true });
  // --no-cache leaves nothing to explain (the two together are refused).
  const explain = extra.includes('--no-cache') ? [] : ['--explain-cache'];
  const r = await weft(['run', 'plan.yaml', ...explain, ...extra], { cwd: project });
  expect(r.code).toBe(0);
  const ran = existsSync(join(project, 'ran.txt'))
    ? readFileSync(join(project, 'ran.txt'), 'utf8').trim().split('\n').filter(Boolean).sort()
    : [];
  return { ran, stdout: r.stdout };
}

describe('task cache', () => {
  it('re-runs exactly the task whose input changed and its dependents, and says why', async () => {
    const project = tempProject();
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src/a.txt'), 'A\n');
    writeFileSync(join(project, 'src/b.txt'), 'B\n');
    writeFileSync(join(project, 'plan.yaml'), plan());

    expect((await runOnce(project)).ran).toEqual(['gen-a', 'gen-b', 'join', 'report']);

    // Nothing changed: every cached task hits; files they wrote are restored.
    rmSync(join(project, 'all.txt'));
    const second = await runOnce(project);
    expect(second.ran).toEqual([]);
    expect(readFileSync(join(project, 'all.txt'), 'utf8')).toBe('A\nB\n');
    expect(second.stdout).toContain('cache join: hit: nothing that decides its result changed');

    // One input changes: that task, and what depends on it, run again.
    writeFileSync(join(project, 'src/b.txt'), 'B2\n');
    const third = await runOnce(project);
    expect(third.ran).toEqual(['gen-b', 'join', 'report']);
    expect(third.stdout).toContain('cache gen-a: hit');
    expect(third.stdout).toContain('cache gen-b: miss: input src/b.txt changed');
    expect(third.stdout).toContain("cache join: miss: dependency gen-b's result changed");
    expect(readFileSync(join(project, 'all.txt'), 'utf8')).toBe('A\nB2\n');

    // One task's command changes: only it and its dependents.
    writeFileSync(join(project, 'plan.yaml'), plan('cat out-b.txt out-a.txt > all.txt'));
    const fourth = await runOnce(project);
    expect(fourth.ran).toEqual(['join', 'report']);
    expect(fourth.stdout).toContain('cache join: miss: command changed');

    // --no-cache runs everything.
    expect((await runOnce(project, ['--no-cache'])).ran).toEqual(['gen-a', 'gen-b', 'join', 'report']);
    // and asking why tasks hit or missed with the cache off is refused, not answered with silence.
    const both = await weft(['run', 'plan.yaml', '--explain-cache', '--no-cache'], { cwd: project });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'weft: --explain-cache says why cached tasks hit or missed, but --no-cache turns the cache off\n  give one of them\n',
    );
  });

  it('cache: false runs a task with inputs every time (in defaults too), while one without it hits', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'in.txt'), 'IN\n');
    const line = (id: string, extra = '') =>
      `  - { id: ${id}, run: [sh, -c, 'echo ${id} >> ran.txt'], inputs: [in.txt]${extra} }`;
    writeFileSync(join(project, 'plan.yaml'), ['tasks:', line('kept'), line('fresh', ', cache: false')].join('\n'));
    expect((await runOnce(project)).ran).toEqual(['fresh', 'kept']);
    expect((await runOnce(project)).ran).toEqual(['fresh']);
    writeFileSync(
      join(project, 'plan.yaml'),
      ['defaults: { cache: false }', 'tasks:', line('kept'), line('fresh', ', cache: true')].join('\n'),
    );
    // fresh was never saved: it runs once more, then hits; kept now runs every time.
    expect((await runOnce(project)).ran).toEqual(['fresh', 'kept']);
    expect((await runOnce(project)).ran).toEqual(['kept']);
  });

  it('declaring outputs on a cached task misses once, keeps the file, and restores it after', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'in.txt'), 'IN\n');
    const gen = (extra: string) =>
      `tasks:\n  - { id: gen, run: [sh, -c, 'cat in.txt > gen.out; echo gen >> ran.txt'], inputs: [in.txt]${extra} }\n`;
    writeFileSync(join(project, 'plan.yaml'), gen(''));
    expect((await runOnce(project)).ran).toEqual(['gen']);

    // The entry saved without `outputs` holds no file: it must not hit once gen.out is declared.
    writeFileSync(join(project, 'plan.yaml'), gen(', outputs: [gen.out]'));
    rmSync(join(project, 'gen.out'));
    const declared = await runOnce(project);
    expect(declared.ran).toEqual(['gen']);
    expect(declared.stdout).toContain('cache gen: miss: outputs changed');
    expect(declared.stdout).not.toContain('declared outputs are missing');

    rmSync(join(project, 'gen.out'));
    const restored = await runOnce(project);
    expect(restored.ran).toEqual([]);
    expect(readFileSync(join(project, 'gen.out'), 'utf8')).toBe('IN\n');
  });

  it('a cached task after an uncached one that writes a file runs again when that file changed (on weft/<run> too)', async () => {
    // gen is not cached: it runs every time, and what it writes differs; use copies it and is cached.
    const repo = tempRepo({
      'README.md': '# project\n',
      'stamp.txt': 'one\n',
      'plan.yaml': [
        'tasks:',
        `  - { id: gen, run: [sh, -c, 'cat stamp.txt > gen.txt'], writes: [gen.txt] }`,
        `  - { id: use, run: [sh, -c, 'cp gen.txt use.txt'], needs: [gen], cache: true, writes: [use.txt] }`,
      ].join('\n'),
    });
    const run = async (): Promise<{ stdout: string; gen: string; use: string }> => {
      const r = await weft(['run', 'plan.yaml', '--explain-cache'], { cwd: repo.dir });
      expect(r.code, r.stderr).toBe(0);
      const branch = /result +branch (\S+)/.exec(r.stdout)?.[1] ?? '';
      return {
        stdout: r.stdout,
        gen: repo.git('show', `${branch}:gen.txt`),
        use: repo.git('show', `${branch}:use.txt`),
      };
    };
    expect(await run()).toMatchObject({ gen: 'one', use: 'one' });
    // Nothing changed: use hits, and what it restores is what gen wrote again.
    const same = await run();
    expect(same.stdout).toContain('cache use: hit: nothing that decides its result changed');
    expect(same).toMatchObject({ gen: 'one', use: 'one' });

    writeFileSync(join(repo.dir, 'stamp.txt'), 'two\n');
    repo.commit('two');
    const changed = await run();
    expect(changed.stdout).toContain('cache use: miss: gen.txt (written by gen) changed');
    expect(changed).toMatchObject({ gen: 'two', use: 'two' });
  });
});

describe('--no-cache across a resume', () => {
  it('a run started with --no-cache and interrupted runs its remaining tasks on resume, not from the cache', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'in.txt'), 'x\n');
    writeFileSync(
      join(project, 'plan.yaml'),
      [
        'tasks:',
        `  - { id: slow, run: [sh, -c, 'echo slow >> ran.txt; if [ -e hang ]; then sleep 30; fi'], inputs: [in.txt] }`,
        `  - { id: after, run: [sh, -c, 'echo after >> ran.txt'], inputs: [in.txt], needs: [slow] }`,
      ].join('\n'),
    );
    const ran = () =>
      existsSync(join(project, 'ran.txt'))
        ? readFileSync(join(project, 'ran.txt'), 'utf8').trim().split('\n').sort()
        : [];
    // A first run fills the cache with every task.
    expect((await weft(['run', 'plan.yaml'], { cwd: project })).code).toBe(0);
    rmSync(join(project, 'ran.txt'));
    writeFileSync(join(project, 'hang'), '');
    const first = startWeft(['run', 'plan.yaml', '--no-cache'], project);
    for (let end = Date.now() + 20_000; !ran().includes('slow');) {
      if (Date.now() > end) throw new Error('slow never started');
      await new Promise((r) => setTimeout(r, 25));
    }
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(130);
    rmSync(join(project, 'hang'));
    rmSync(join(project, 'ran.txt'));
    const resumed = await weft(['resume'], { cwd: project });
    expect(resumed.code, resumed.stderr).toBe(0);
    // Before, the resume took slow and after from the first run's cache: "(cached)", and neither ran.
    expect(resumed.stdout).not.toContain('(cached)');
    expect(ran()).toEqual(['after', 'slow']);
  });
});

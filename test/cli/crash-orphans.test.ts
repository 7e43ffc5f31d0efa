import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sleep, startCli } from '../crash/crash-kit.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';
import { isRunning } from '../../src/executors/testing/task-like-process.js';

beforeAll(ensureBuilt);

/** The pid a task wrote to `<name>.pid` in the project, once it is there. */
async function pidFrom(project: string, name: string): Promise<number> {
  const file = join(project, `${name}.pid`);
  for (let i = 0; i < 800 && !(existsSync(file) && readFileSync(file, 'utf8').endsWith('\n')); i++) await sleep(25);
  return Number(readFileSync(file, 'utf8'));
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !check(); await sleep(50))
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The orphan reapers (`weft-reaper <pid>`) of weft process `pid` that are running. */
function reapersOf(pid: number): number[] {
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('weft-reaper');
      return at >= 0 && argv[at + 1] === String(pid) && isRunning(Number(name)) ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

// Each task starts a sleep of a minute in its process group and waits for it: `calm` as most
// commands do, `stubborn` ignoring SIGTERM (its sleep inherits that), so only SIGKILL ends it.
const PLAN = {
  workers: 2,
  tasks: [
    { id: 'calm', run: ['sh', '-c', 'if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 60 & echo $! > calm.pid; wait; fi'] },
    {
      id: 'stubborn',
      run: ['sh', '-c', `if [ "$WEFT_ATTEMPT" = 1 ]; then trap '' TERM; sleep 60 & echo $! > stubborn.pid; wait; fi`],
    },
  ],
};

describe('weft killed by SIGKILL while tasks run', () => {
  // The default (a spawn helper forks each task) and Node spawning each task itself (the agents' way).
  for (const helper of [undefined, '0'])
    it(`leaves no task process behind: SIGTERM at once, SIGKILL 3 s later to what ignores it (WEFT_SPAWN_HELPER=${helper ?? 'default'})`, async () => {
      const project = tempProject('weft-orphans-');
      writeFileSync(join(project, 'plan.yaml'), JSON.stringify(PLAN));
      const cli = startCli(['run', 'plan.yaml'], project, 60_000, { WEFT_SPAWN_HELPER: helper });
      const calm = await pidFrom(project, 'calm');
      const stubborn = await pidFrom(project, 'stubborn');
      expect(reapersOf(cli.child.pid as number)).toHaveLength(1);
      // Weft records a task's group with the reaper just after the fork: the kill comes after that
      // (a kill within that moment leaves the task to `weft resume`, with Node spawning it).
      await sleep(500);
      const killedAt = Date.now();
      cli.child.kill('SIGKILL');
      expect((await cli.done).signal).toBe('SIGKILL');

      await until('the calm task to be stopped', () => !isRunning(calm), 10_000);
      await until('the task that ignores SIGTERM to be killed', () => !isRunning(stubborn), 15_000);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2_900); // it had its grace
      await until('the reaper to exit', () => reapersOf(cli.child.pid as number).length === 0, 5_000);

      // Nothing is left for the resume to stop; it runs both tasks again, from the journal.
      const resumed = await weft(['resume', '--no-progress'], { cwd: project, env: { WEFT_DATABASE_URL: undefined } });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).not.toContain('left running');
      expect(resumed.stdout).toMatch(/✓ calm .*\n/);
      expect(resumed.stdout).toMatch(/✓ stubborn .*\n/);
    }, 60_000);
});

describe('the orphan reaper', () => {
  it('ends with weft when the run ends as usual, killing nothing', async () => {
    const project = tempProject('weft-orphans-');
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({
        tasks: [
          { id: 'a', run: ['sh', '-c', 'echo a'] },
          // A process the task leaves in the background, outside its group: not weft's to kill.
          { id: 'b', run: ['sh', '-c', 'setsid sleep 30 & echo $! > bg.pid; sleep 0.5'] },
        ],
      }),
    );
    const cli = startCli(['run', 'plan.yaml'], project);
    let reapers: number[] = [];
    await until('the reaper to start', () => (reapers = reapersOf(cli.child.pid as number)).length === 1, 10_000);
    expect((await cli.done).code).toBe(0);
    await until('the reaper to exit', () => reapers.every((p) => !isRunning(p)), 5_000);
    const bg = await pidFrom(project, 'bg');
    expect(isRunning(bg)).toBe(true);
    process.kill(bg, 'SIGKILL');
  }, 60_000);
});

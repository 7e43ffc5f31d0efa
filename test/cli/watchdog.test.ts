import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const summaryOf = (project: string): { tasks: { id: string; state: string; attempts: number; reason?: string }[] } => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

describe('the watchdog: stallAfter on real processes', () => {
  it('stops a silent task after stallAfter, says so, and retries it; a task printing every 200 ms is left alone', async () => {
    const project = tempProject();
    // The chatty one prints every 200 ms for 3 s, under a stallAfter of 2 s (not 1 s: on a loaded
    // machine a fork can take a second). The silent one sleeps on its first attempt only, so its retry succeeds.
    writeFileSync(
      join(project, 'plan.yaml'),
      `workers: 2
tasks:
  - id: silent
    shell: true
    run: 'if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 60; fi; test -f "$WEFT_FEEDBACK" && echo resumed'
    stallAfter: 1s
    retries: 1
    backoff: { initial: 10ms, jitter: false }
  - id: chatty
    shell: true
    run: 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo $i; sleep 0.2; done'
    stallAfter: 2s
`,
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/silent attempt 1 stalled: no progress for \d+(\.\d+)?s; stopping it/);
    expect(r.stdout).toMatch(/silent attempt 1 failed: stalled: no progress \(no output, no agent event\) for \d/);
    expect(r.stdout).not.toMatch(/chatty attempt \d stalled/);
    const tasks = summaryOf(project).tasks;
    expect(tasks.find((t) => t.id === 'silent')).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(tasks.find((t) => t.id === 'chatty')).toMatchObject({ state: 'succeeded', attempts: 1 });
    const runs = readdirSync(join(project, '.weft', 'runs'));
    // The retry was told why (WEFT_FEEDBACK holds the note) and printed so.
    expect(
      readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'tasks', 'silent', '2.stdout.log'), 'utf8'),
    ).toBe('resumed\n');
  });

  it('refuses a stallAfter that is not a duration, naming the field', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", stallAfter: soon }\n');
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan\.yaml:2:\d+.*stallAfter/);
  });
});

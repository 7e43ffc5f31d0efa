import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

interface Summary {
  readonly retries: number;
  readonly preemptions: number;
  readonly tasks: { id: string; state: string; attempts: number; preemptedBy?: string[] }[];
}

const runDirOf = (project: string): string => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return join(project, '.weft', 'runs', runs[0] as string);
};

describe('priority classes: a P0 preempts a running P2 on real processes', () => {
  it('stops the P2 for the P0 on one worker, runs the P0, then runs the P2 again to success; summary and report say so', async () => {
    const project = tempProject();
    // hotfix (P0) starts first (class before anything), fails at once and retries 1 s later; by
    // then batch (P2) holds the only worker: it is stopped, hotfix runs, then batch runs again.
    writeFileSync(
      join(project, 'plan.yaml'),
      `tasks:
  - id: batch
    class: P2
    shell: true
    run: 'echo "start $WEFT_ATTEMPT" >> batch.log; sleep 3; echo "done $WEFT_ATTEMPT" >> batch.log'
  - id: hotfix
    class: P0
    shell: true
    run: 'if [ "$WEFT_ATTEMPT" = 1 ]; then exit 1; fi; echo fixed > hotfix.txt'
    retries: 1
    backoff: { initial: 1s, jitter: false }
`,
    );
    const r = await weft(['run', 'plan.yaml', '-j', '1'], { cwd: project, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/batch attempt 1 preempted by P0 task hotfix; it runs again later/);
    expect(r.stdout).toMatch(/preempted {4}batch \(by hotfix\)/);
    // The first batch was stopped mid-sleep; the second ran from the start and finished.
    expect(readFileSync(join(project, 'batch.log'), 'utf8')).toBe('start 1\nstart 2\ndone 2\n');
    expect(readFileSync(join(project, 'hotfix.txt'), 'utf8')).toBe('fixed\n');
    const summary = JSON.parse(readFileSync(join(runDirOf(project), 'summary.json'), 'utf8')) as Summary;
    expect(summary.preemptions).toBe(1);
    expect(summary.retries).toBe(1); // hotfix's own retry; batch's re-run is not one
    expect(summary.tasks.find((t) => t.id === 'batch')).toMatchObject({
      state: 'succeeded',
      attempts: 2,
      preemptedBy: ['hotfix'],
    });
    const md = await weft(['report', '--format', 'md'], { cwd: project });
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('batch attempt 1 preempted by P0 task hotfix; it ran again');
    expect(md.stdout).toMatch(/\| Preemptions \| 1 \|/);
  });

  it('refuses a class that is not P0–P3, naming the field', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", class: urgent }\n');
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan\.yaml:2:\d+.*class/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

// Silent on its first attempt only: the watchdog stops it after 1s, the retry succeeds. `stuck` stays
// silent with no retry left.
const PLAN = `workers: 2
tasks:
  - id: silent
    shell: true
    run: 'if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 60; fi; echo done'
    stallAfter: 1s
    retries: 1
    backoff: { initial: 10ms, jitter: false }
  - id: stuck
    run: [sleep, "60"]
    stallAfter: 1s
`;

const LINE = String.raw`attempt 1 stalled \(no progress for [\d.]+s\)`;

describe('stalls in the summary, the reports and weft status', () => {
  it('shows each stall and what came of it: retried as attempt 2, or failed with no retries left', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), PLAN);
    const run = await weft(['run', 'plan.yaml'], { cwd: project, timeoutMs: 120_000 });
    expect(run.code).toBe(1);

    const runs = readdirSync(join(project, '.weft', 'runs'));
    const summary = JSON.parse(
      readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'),
    ) as { tasks: { id: string; stalls?: unknown }[] };
    const stallsOf = (id: string) => summary.tasks.find((t) => t.id === id)?.stalls;
    expect(stallsOf('silent')).toEqual([{ attempt: 1, silentMs: expect.any(Number), then: 'retried', next: 2 }]);
    expect(stallsOf('stuck')).toEqual([{ attempt: 1, silentMs: expect.any(Number), then: 'failed' }]);
    expect((stallsOf('silent') as { silentMs: number }[])[0]?.silentMs).toBeGreaterThanOrEqual(1000);

    const md = await weft(['report', '--format', 'md', '-o', 'report.md'], { cwd: project });
    expect(md.code).toBe(0);
    const markdown = readFileSync(join(project, 'report.md'), 'utf8');
    expect(markdown).toMatch(
      new RegExp(`## Stalls\\n\\n- silent ${LINE}: retried as attempt 2\\n- stuck ${LINE}: failed, no retries left\\n`),
    );

    const html = await weft(['report', '--format', 'html', '-o', 'report.html'], { cwd: project });
    expect(html.code).toBe(0);
    const page = readFileSync(join(project, 'report.html'), 'utf8');
    expect(page).toMatch(
      new RegExp(`<li class="stall" data-task="silent" data-then="retried">silent ${LINE}: retried as attempt 2</li>`),
    );
    expect(page).toMatch(new RegExp(`<li class="stall" data-task="stuck" data-then="failed">stuck ${LINE}`));

    const json = await weft(['report', '--json'], { cwd: project });
    const report = JSON.parse(json.stdout) as { tasks: { id: string; stalls: unknown[] }[] };
    expect(report.tasks.find((t) => t.id === 'silent')?.stalls).toEqual(stallsOf('silent'));
    expect(report.tasks.find((t) => t.id === 'stuck')?.stalls).toEqual(stallsOf('stuck'));

    const status = await weft(['status'], { cwd: project });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`silent .*2 attempts\\n\\s+${LINE}: retried as attempt 2\\n`));
    expect(status.stdout).toMatch(new RegExp(`stuck .*1 attempt.*\\n\\s+${LINE}: failed, no retries left\\n`));
  });
});

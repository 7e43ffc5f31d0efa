import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** Reviewers as shell stand-ins printing their JSON verdict; a gate on them; a deploy behind the gate. */
function reviewPlan(score: number, veto: string): string {
  const out = (o: object) => `[node, -e, 'console.log(JSON.stringify(${JSON.stringify(o)}))']`;
  return `tasks:
  - id: ui
    run: ${out({ score })}
    outputSchema: { type: object, properties: { score: { type: number } } }
  - id: security
    run: ${out(veto === '' ? {} : { veto })}
    outputSchema: { type: object, properties: { veto: { type: string } } }
  - id: approve
    gate: tasks.ui.output.score >= 6 && !tasks.security.output.veto
  - { id: deploy, needs: [approve], run: [node, -e, 'require("fs").writeFileSync("deployed", "yes")'] }
`;
}

function project(plan: string): string {
  const dir = tempProject('weft-gates-');
  mkdirSync(join(dir, 'plans'));
  writeFileSync(join(dir, 'plans', 'review.yaml'), plan);
  return dir;
}

describe('gates on the CLI', () => {
  it('a gate runs nothing, so it needs no worktree: none is made in a repository, no warning outside one', async () => {
    const plan = `tasks:\n  - { id: a, run: "true" }\n  - { id: b, needs: [a], gate: tasks.a.succeeded }\n`;
    const outside = project(plan);
    const r = await weft(['run', 'plans/review.yaml'], { cwd: outside });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const repo = project(plan);
    execFileSync('git', ['init', '-q'], { cwd: repo });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init'], {
      cwd: repo,
    });
    const inRepo = await weft(['run', 'plans/review.yaml'], { cwd: repo });
    expect([inRepo.code, inRepo.stderr]).toEqual([0, '']);
    expect(existsSync(join(repo, '.weft', 'worktrees'))).toBe(false);
  });

  it('a blocked gate: exit 4, the failing parts with their values in the live lines, summary, status and reports', async () => {
    const dir = project(reviewPlan(4, 'SQL built from input'));
    const r = await weft(['run', 'plans/review.yaml', '--no-isolation'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(4);
    const why = "tasks.ui.output.score = 4 < 6; tasks.security.output.veto = 'SQL built from input'";
    expect(r.stdout).toContain(`⊘ approve blocked: ${why}`);
    expect(r.stdout).toContain('deploy skipped: dependency "approve" was blocked');
    expect(r.stdout).toMatch(/Run \S+ blocked — approve blocked: tasks\.ui\.output\.score = 4 < 6/);
    expect(r.stdout).toMatch(/tasks +2 succeeded, 0 failed, 1 skipped, 1 blocked of 4/);
    const runId = /Run (\S+) blocked/.exec(r.stdout)?.[1] ?? '';
    const summary = JSON.parse(readFileSync(join(dir, '.weft', 'runs', runId, 'summary.json'), 'utf8')) as {
      status: string;
      counts: { blocked: number };
      tasks: { id: string; state: string; blockedBy?: string[] }[];
    };
    expect(summary.status).toBe('blocked');
    expect(summary.counts.blocked).toBe(1);
    expect(summary.tasks.find((t) => t.id === 'approve')).toMatchObject({
      state: 'blocked',
      blockedBy: ['tasks.ui.output.score = 4 < 6', "tasks.security.output.veto = 'SQL built from input'"],
    });

    const status = await weft(['status', runId], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`approve blocked: ${why}`);
    expect(status.stdout).toMatch(/⊘ approve +blocked/);

    const md = await weft(['report', runId, '--format', 'md', '-o', 'r.md'], { cwd: dir });
    expect(md.code).toBe(0);
    const text = readFileSync(join(dir, 'r.md'), 'utf8');
    expect(text).toContain('## Gates, approvals, scores and preemptions');
    expect(text).toContain(`- approve blocked: ${why.replace('<', '&lt;')}`);
    const json = await weft(['report', runId, '--json'], { cwd: dir });
    const report = JSON.parse(json.stdout) as { run: { status: string }; tasks: { id: string; blockedBy: unknown }[] };
    expect(report.run.status).toBe('blocked');
    expect(report.tasks.find((t) => t.id === 'approve')?.blockedBy).toHaveLength(2);
    const html = await weft(['report', runId, '--format', 'html', '-o', 'r.html'], { cwd: dir });
    expect(html.code).toBe(0);
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain('Gates, approvals, scores and preemptions');
  }, 180_000);

  it('a gate that holds: exit 0 and the deploy behind it ran', async () => {
    const dir = project(reviewPlan(8, ''));
    const r = await weft(['run', 'plans/review.yaml', '--no-isolation'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'plans', 'deployed'), 'utf8')).toBe('yes');
  }, 180_000);

  it('a typo in a gate: one line naming the file, the field and the fix, exit 2, nothing runs', async () => {
    const dir = project(reviewPlan(8, '').replace('score >= 6', 'scroe >= 6'));
    const r = await weft(['run', 'plans/review.yaml', '--no-isolation'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/plans\/review\.yaml:\d+:\d+ task "approve" gate: .*scroe.*did you mean "score"\?/),
    ]);
    expect(r.stdout).toBe('');
  });
});

describe('scores on the CLI', () => {
  it('a score below minScore goes back to the script with WEFT_FEEDBACK naming it; every score is in the summary and reports', async () => {
    // The stand-in scores 4, then 7 once it was told (WEFT_FEEDBACK is set on a fix attempt).
    const script = `const fs = require("fs"); const told = process.env.WEFT_FEEDBACK ? fs.readFileSync(process.env.WEFT_FEEDBACK, "utf8") : ""; fs.writeFileSync(process.env.WEFT_OUTPUT, JSON.stringify({ score: told.includes("scored 4") ? 7 : 4 }))`;
    const dir = project(`tasks:
  - id: ui
    run: [node, -e, '${script}']
    outputSchema: { type: object, properties: { score: { type: number } } }
    score: score
    minScore: 6
`);
    const r = await weft(['run', 'plans/review.yaml', '--no-isolation'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('score 4 is below minScore 6');
    expect(r.stdout).toMatch(/scores +ui: 4 → 7/);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    const md = await weft(['report', runId, '--format', 'md', '-o', 'r.md'], { cwd: dir });
    expect(md.code).toBe(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('- ui scored 4 → 7');
    const json = JSON.parse((await weft(['report', runId, '--json'], { cwd: dir })).stdout) as {
      tasks: { id: string; attempts: { score: number | null }[] }[];
    };
    expect(json.tasks[0]?.attempts.map((a) => a.score)).toEqual([4, 7]);
  }, 180_000);
});

describe('weft estimate with gates and approvals', () => {
  it('says what it assumes: gates pass and approvals are given at once (a gate takes no time)', async () => {
    const dir = project(`tasks:
  - { id: ui, run: "true", estimate: 2m, outputSchema: { type: object, properties: { score: { type: number } } } }
  - { id: ok, gate: tasks.ui.output.score >= 6 }
  - { id: deploy, needs: [ok], run: "true", estimate: 1m, approval: required }
`);
    const r = await weft(['estimate', 'plans/review.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('predicted makespan  3m00s');
    expect(r.stdout).toContain('assumes             gates pass at once (ok); approvals are given at once (deploy)');
    const json = JSON.parse((await weft(['estimate', 'plans/review.yaml', '--json'], { cwd: dir })).stdout) as {
      assumes: string[];
    };
    expect(json.assumes).toEqual(['gates pass at once (ok)', 'approvals are given at once (deploy)']);
  });
});

import { copyFileSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, ROOT, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const summaryOf = (project: string): Record<string, unknown> & { tasks: { id: string; files?: unknown }[] } => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

const PLAN = `tasks:
  - id: add
    run: [node, -e, "const fs = require('fs'); fs.mkdirSync('src'); fs.writeFileSync('src/a.txt', '1\\\\n2\\\\n'); fs.writeFileSync('src/b.txt', '3\\\\n')"]
    writes: [src/**]
  - id: edit
    needs: [add]
    run: [node, -e, "require('fs').writeFileSync('README.md', '# weft project\\\\n')"]
    writes: [README.md]
  - id: look
    run: "true"
`;

describe('summary.json has the files and lines each worktree task changed, and the total', () => {
  it('per task from git\'s numstat of its merge, summed for the run, and a "changes" line in the summary', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'plan.yaml': PLAN });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  changes      3 files, +4 −1 lines\n');
    const summary = summaryOf(repo.dir);
    expect(summary.files).toEqual({ changed: 3, added: 4, removed: 1 });
    const byId = new Map(summary.tasks.map((t) => [t.id, t]));
    expect(byId.get('add')?.files).toEqual({ changed: 2, added: 3, removed: 0 });
    expect(byId.get('edit')?.files).toEqual({ changed: 1, added: 1, removed: 1 });
    expect(byId.get('look')?.files).toBeUndefined(); // ran in place: weft did not see what it changed
    // The same figures git gives for the run's branch against where it started.
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('diff', '--shortstat', `main...weft/${runId}`)).toBe(
      '3 files changed, 4 insertions(+), 1 deletion(-)',
    );
  });

  it('a file two tasks changed counts once in the total, as in git (each task keeps its own figures)', async () => {
    const plan = `tasks:
  - id: a
    run: [node, -e, "require('fs').writeFileSync('shared.txt', 'a\\\\n')"]
    writes: [shared.txt]
  - id: b
    needs: [a]
    run: [node, -e, "const fs = require('fs'); fs.appendFileSync('shared.txt', 'b\\\\n'); fs.writeFileSync('b.txt', 'b\\\\n')"]
    writes: [shared.txt, b.txt]
`;
    const repo = tempRepo({ 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('diff', '--shortstat', `main...weft/${runId}`)).toBe('2 files changed, 3 insertions(+)');
    expect(r.stdout).toContain('  changes      2 files, +3 −0 lines\n');
    const summary = summaryOf(repo.dir);
    expect(summary.files).toEqual({ changed: 2, added: 3, removed: 0 });
    const byId = new Map(summary.tasks.map((t) => [t.id, t]));
    expect(byId.get('a')?.files).toEqual({ changed: 1, added: 1, removed: 0 });
    expect(byId.get('b')?.files).toEqual({ changed: 2, added: 2, removed: 0 });
    // weft status and the report read the same journal.
    expect((await weft(['status'], { cwd: repo.dir })).stdout).toContain('  changes      2 files, +3 −0 lines\n');
    expect((await weft(['report', '--format', 'md'], { cwd: repo.dir })).stdout).toContain(
      '| Files changed | 2 (+3 / −0 lines) |',
    );
  });

  it('a run whose worktree tasks all failed merged nothing: 0 files, measured (not "every task ran in place")', async () => {
    const plan = 'tasks:\n  - id: broken\n    run: [sh, -c, "echo x > a.txt; exit 1"]\n    writes: [a.txt]\n';
    const repo = tempRepo({ 'README.md': '# project\n', 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('  changes      0 files, +0 −0 lines\n');
    expect(summaryOf(repo.dir).files).toEqual({ changed: 0, added: 0, removed: 0 });
    const md = (await weft(['report', '--format', 'md'], { cwd: repo.dir })).stdout;
    expect(md).toContain('| Files changed | 0 (+0 / −0 lines) |');
    expect(md).not.toContain('every task ran in place');
  });

  it('a run in a repository whose tasks all ran in place has no files figures either', async () => {
    const plan = 'tasks:\n  - id: look\n    run: [sh, -c, "echo x > a.txt"]\n';
    const repo = tempRepo({ 'README.md': '# project\n', 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('changes ');
    expect(summaryOf(repo.dir)).not.toHaveProperty('files');
  });

  it('a run whose tasks all ran in place has no files figures (not zeros it did not measure)', async () => {
    const project = tempProject(); // no git: every task runs in place
    copyFileSync(join(ROOT, 'examples/app.yaml'), join(project, 'app.yaml'));
    const r = await weft(['run', 'app.yaml'], { cwd: project });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('changes ');
    expect(summaryOf(project)).not.toHaveProperty('files');
  });
});

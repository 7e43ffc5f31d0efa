import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** A task that writes `notes.txt` only, though it declares more; and one that needs it. */
const plan = (extra: string): string => `tasks:
  - id: gen
    run: [node, -e, "require('fs').writeFileSync('notes.txt', 'x')"]
    outputs: [report.md, data/*.json, notes.txt]
${extra}  - id: after
    needs: [gen]
    run: "true"
`;

const summaryOf = (project: string): { tasks: { id: string; state: string; attempts: number; reason?: string }[] } => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

describe('`outputs:` are enforced: a task that ends without a declared output fails naming the missing paths', () => {
  it('in place: the task is sent back fixAttempts times, then fails with the missing paths and its dependents are skipped', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), plan(''));
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '  ✗ gen: finished but its declared outputs are missing: report.md, data/*.json (after 2 fix attempts)\n',
    );
    expect(r.stdout).toContain('↷ after skipped: dependency "gen" failed');
    const gen = summaryOf(project).tasks.find((t) => t.id === 'gen');
    expect(gen).toMatchObject({ state: 'failed', attempts: 3 });
  });

  it('with fixAttempts: 0 it fails at once', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), plan('    fixAttempts: 0\n'));
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(1);
    expect(summaryOf(project).tasks.find((t) => t.id === 'gen')).toMatchObject({
      state: 'failed',
      attempts: 1,
      reason: expect.stringContaining('declared outputs are missing: report.md, data/*.json'),
    });
  });

  it('a task that produces every output (a path, a glob, in its cwd) succeeds', async () => {
    const project = tempProject();
    const make =
      "const fs = require('fs'); fs.mkdirSync('data'); fs.writeFileSync('data/a.json', '{}'); fs.writeFileSync('report.md', '# r')";
    writeFileSync(
      join(project, 'plan.yaml'),
      `tasks:\n  - id: gen\n    cwd: out\n    run: [node, -e, "${make}"]\n    outputs: [report.md, data/*.json]\n`,
    );
    mkdirSync(join(project, 'out'));
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(join(project, 'out', 'report.md'))).toBe(true);
  });

  it('in a worktree: missing outputs are not merged, the task fails naming them, and no result branch is named', async () => {
    const repo = tempRepo({ 'plan.yaml': plan('    writes: [notes.txt, report.md, data/**]\n    fixAttempts: 1\n') });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '  ✗ gen: finished but its declared outputs are missing: report.md, data/*.json (after 1 fix attempt)\n',
    );
    expect(r.stdout).not.toContain('result ');
    expect(
      repo
        .git('branch', '--list', 'weft/*', '--format=%(refname:short)')
        .split('\n')
        .filter((b) => !/--gen--attempt-\d+$/.test(b) && b !== ''),
    ).toEqual([]);
    expect(existsSync(join(repo.dir, 'notes.txt'))).toBe(false);
  });

  it('in a worktree: a task that produces its outputs is merged', async () => {
    const make = "const fs = require('fs'); fs.writeFileSync('report.md', '# r')";
    const repo = tempRepo({
      'plan.yaml': `tasks:\n  - id: gen\n    run: [node, -e, "${make}"]\n    writes: [report.md]\n    outputs: [report.md]\n`,
    });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('show', `weft/${runId}:report.md`)).toBe('# r');
  });
});

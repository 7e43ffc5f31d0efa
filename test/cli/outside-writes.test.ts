import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

interface Summary {
  readonly tasks: readonly { id: string; state: string; attempts: number; reason?: string }[];
}
const summaryOf = (dir: string): Summary => {
  const run = readdirSync(join(dir, '.weft', 'runs'))[0] as string;
  return JSON.parse(readFileSync(join(dir, '.weft', 'runs', run, 'summary.json'), 'utf8')) as Summary;
};
const branches = (repo: ReturnType<typeof tempRepo>): string[] =>
  repo.git('branch', '--list', 'weft/*', '--format=%(refname:short)').split('\n').filter(Boolean);

/** Changes src/api/a.ts (its writes) and README.md (not); on a fix, runs the restore command its feedback gives. */
const API = `tasks:
  - id: api
    writes: [src/api/**]
    run: [sh, -c, 'if [ -n "$WEFT_FEEDBACK" ]; then %FIX%; else echo new > src/api/a.ts; echo stray >> README.md; fi']
`;

describe('a task that changes files outside its writes', () => {
  it('is sent back naming them, fails after its fixes with the paths, and none of its work is merged', async () => {
    const repo = tempRepo({ 'README.md': '# p\n', 'src/api/a.ts': 'old\n', 'plan.yaml': API.replace('%FIX%', 'true') });
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ api: changed files outside its writes (src/api/**): README.md; none of its work was merged (after 2 fix attempts)\n',
    );
    expect(summaryOf(repo.dir).tasks[0]).toMatchObject({ state: 'failed', attempts: 3 });
    expect(r.stdout).not.toContain('result ');
    // Nothing reached the run's branch (gone: it holds nothing); the work stays on the task's branch.
    const runId = /Run (\S+) failed/.exec(r.stdout)?.[1] ?? '';
    expect(branches(repo)).toEqual([`weft/${runId}--api--attempt-3`]);
    expect(repo.git('show', `weft/${runId}--api--attempt-3:README.md`)).toBe('# p\nstray');
    const feedback = readFileSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'api', '2.feedback.txt'), 'utf8');
    expect(feedback).toContain(
      'changed files outside the ones it may write (its `writes`: src/api/**):\n  README.md\n',
    );
    const report = await weft(['report', runId, '--json'], { cwd: repo.dir });
    expect(report.stdout).toContain('"code": "WEFT_OUTSIDE_WRITES"');
  }, 60_000);

  it('is merged once its fix puts those files back with the command its feedback gives', async () => {
    // The fix runs the command the feedback quotes, as an agent would.
    const fix = 'eval "$(sed -n \'s/^Put those files back.*: `\\(git restore[^`]*\\)`.*/\\1/p\' "$WEFT_FEEDBACK")"\n';
    const plan = API.replace('%FIX%', 'sh "$(git rev-parse --show-toplevel)/fix.sh"');
    const repo = tempRepo({ 'README.md': '# p\n', 'src/api/a.ts': 'old\n', 'fix.sh': fix, 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('diff', '--name-only', 'main', `weft/${runId}`)).toBe('src/api/a.ts');
  }, 60_000);

  it('a rename from outside its writes into them takes a file from outside: it is not merged', async () => {
    const plan = `tasks:\n  - { id: move, writes: [docs/**], run: [sh, -c, 'mkdir docs && git mv NOTES.md docs/NOTES.md'], fixAttempts: 0 }\n`;
    const repo = tempRepo({ 'NOTES.md': 'n\n', 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ move: changed files outside its writes (docs/**): NOTES.md; none of its work was merged\n',
    );
  }, 60_000);

  it('its writes are read from its cwd, with .. and extglobs, and its outputs are its to write too', async () => {
    const make = 'echo a > src/a.ts; echo s > ../common/s.txt; echo r > report.md';
    const plan = `tasks:
  - id: pkg
    cwd: pkg
    writes: ["src/@(a|b).ts", ../common/**]
    outputs: [report.md]
    run: [sh, -c, '${make}']
`;
    const repo = tempRepo({ 'pkg/src/a.ts': '0\n', 'common/s.txt': '0\n', 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(repo.git('diff', '--name-only', 'main', `weft/${runId}`).split('\n')).toEqual([
      'common/s.txt',
      'pkg/report.md',
      'pkg/src/a.ts',
    ]);
  }, 60_000);
});

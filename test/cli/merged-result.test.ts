import { mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const summaryOf = (project: string): { tasks: { id: string; where?: string }[] } => {
  const runs = readdirSync(join(project, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(project, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

// deploy copies what it sees (and where it ran) to $DEPLOY_TO; lint records where it ran.
const DEPLOY = `const fs = require('fs'), path = require('path'), to = process.env.DEPLOY_TO;
for (const f of fs.readdirSync('.').filter((f) => f.endsWith('.txt'))) fs.copyFileSync(f, path.join(to, f));
fs.writeFileSync(path.join(to, 'deploy-cwd'), process.cwd());
fs.writeFileSync(path.join(to, 'deploy-head'), require('child_process').execFileSync('git', ['rev-parse', 'HEAD']));`;
const PLAN = `tasks:
  - id: backend
    run: [node, -e, "require('fs').writeFileSync('backend.txt', 'api\\\\n')"]
    writes: [backend.txt]
  - id: frontend
    run: [node, -e, "require('fs').writeFileSync('frontend.txt', 'ui\\\\n')"]
    writes: [frontend.txt]
  - id: deploy
    needs: [backend, frontend]
    run: [node, -e, ${JSON.stringify(DEPLOY)}]
  - id: lint
    run: [node, -e, "require('fs').writeFileSync(require('path').join(process.env.DEPLOY_TO, 'lint-cwd'), process.cwd())"]
`;

describe('a task that waits on isolated tasks runs on the merged result, not in the checkout', () => {
  it('deploy after backend ∥ frontend sees both files at the integration commit; the checkout is untouched', async () => {
    const repo = tempRepo({ 'README.md': '# project\n', 'base.txt': 'base\n', 'plan.yaml': PLAN });
    const out = mkdtempSync(join(tmpdir(), 'weft-deploy-'));
    const r = await weft(['run', 'plan.yaml', '-j', '2'], { cwd: repo.dir, env: { DEPLOY_TO: out } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    const tip = repo.git('rev-parse', `weft/${runId}`);
    // deploy saw every merged file, and the user's files, at the integration branch's tip.
    expect(
      readdirSync(out)
        .filter((f) => f.endsWith('.txt'))
        .sort(),
    ).toEqual(['backend.txt', 'base.txt', 'frontend.txt']);
    expect(readFileSync(join(out, 'backend.txt'), 'utf8')).toBe('api\n');
    expect(readFileSync(join(out, 'frontend.txt'), 'utf8')).toBe('ui\n');
    expect(readFileSync(join(out, 'deploy-head'), 'utf8').trim()).toBe(tip);
    const deployCwd = readFileSync(join(out, 'deploy-cwd'), 'utf8');
    expect(deployCwd).not.toBe(realpathSync(repo.dir));
    expect(deployCwd.startsWith(join(realpathSync(repo.dir), '.weft', 'worktrees', runId))).toBe(true);
    // lint waits on nothing isolated: it ran in the user's checkout.
    expect(readFileSync(join(out, 'lint-cwd'), 'utf8')).toBe(realpathSync(repo.dir));
    // The checkout is as it was: same branch and commit, no new files, nothing modified.
    expect(repo.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect(repo.git('status', '--porcelain', '--', '.', ':!.weft')).toBe(''); // .weft/ is weft's journal
    expect(readdirSync(repo.dir).sort()).toEqual(['.git', '.weft', 'README.md', 'base.txt', 'plan.yaml']);
    // The summary says where each task ran.
    const short = tip.slice(0, 7);
    const where = Object.fromEntries(summaryOf(repo.dir).tasks.map((t) => [t.id, t.where]));
    expect(where).toEqual({
      backend: 'worktree',
      frontend: 'worktree',
      deploy: `merged result @${short}`,
      lint: 'in place',
    });
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n  ran +(backend, frontend|frontend, backend): worktree · deploy: merged result @${short} · lint: in place\\n`,
      ),
    );
  });

  it('a task on the merged result with declared outputs is checked there, and a missing one fails it', async () => {
    const plan = `tasks:
  - id: build
    run: [node, -e, "require('fs').writeFileSync('lib.txt', 'lib\\\\n')"]
    writes: [lib.txt]
  - id: report
    needs: [build]
    run: [node, -e, "require('fs').writeFileSync('report.txt', require('fs').readFileSync('lib.txt'))"]
    outputs: [report.txt]
  - id: broken
    needs: [build]
    run: "true"
    outputs: [never.txt]
`;
    const repo = tempRepo({ 'plan.yaml': plan });
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(1);
    const summary = summaryOf(repo.dir);
    const byId = new Map(summary.tasks.map((t) => [t.id, t]));
    expect(byId.get('report')).toMatchObject({
      state: 'succeeded',
      where: expect.stringMatching(/^merged result @[0-9a-f]{7}$/),
    });
    expect(byId.get('broken')).toMatchObject({ state: 'failed' });
    expect(r.stdout).toContain('never.txt');
    expect(repo.git('status', '--porcelain', '--', '.', ':!.weft')).toBe(''); // .weft/ is weft's journal
  });
});

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

// The set-up stands in for `npm ci`: it counts its runs and makes node_modules/dep.
const SETUP = `const fs = require('fs');
fs.appendFileSync(process.env.SETUP_COUNT, 'ran\\n');
fs.mkdirSync('node_modules/dep', { recursive: true });
fs.writeFileSync('node_modules/dep/index.js', 'module.exports = "dep@" + ' + JSON.stringify(fs.readFileSync('package-lock.json', 'utf8').trim()));`;
// A task's "project test": needs the shared folder and the copied files.
const CHECK = `const fs = require('fs');
const line = [require('dep'), fs.readFileSync('.env', 'utf8').trim(), JSON.parse(fs.readFileSync('config/local.json', 'utf8')).db].join(' | ');
if (process.env.OUT) fs.writeFileSync(require('path').join(process.env.OUT, process.argv[2]), line);
else fs.writeFileSync('out-' + process.argv[2] + '.txt', line + '\\n');`;
const WORKSPACE = `workspace:
  setup: { run: [node, setup.js], key: [package-lock.json], share: [node_modules] }
  copy: [.env, config/local.json]
`;
const task = (id: string): string => `  - { id: ${id}, run: [node, check.js, ${id}], writes: [out-${id}.txt] }\n`;
const PLAN = `${WORKSPACE}tasks:\n${task('a')}${task('b')}${task('c')}  - { id: report, needs: [a, b, c], run: [node, check.js, report] }\n`;

function project(plan: string) {
  const repo = tempRepo({
    '.gitignore': '.env\nconfig/local.json\nnode_modules/\n',
    'package-lock.json': 'v1\n',
    'setup.js': SETUP,
    'check.js': CHECK,
    'plan.yaml': plan,
  });
  repo.write('.env', 'SECRET=local\n');
  repo.write('config/local.json', '{"db": "sqlite://dev"}\n');
  const out = mkdtempSync(join(tmpdir(), 'weft-setup-out-'));
  const count = join(out, 'count');
  const env = { SETUP_COUNT: count, OUT: out };
  return {
    repo,
    out,
    env,
    runs: () => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0),
  };
}

describe('workspace: a set-up shared by every worktree, and files copied in', () => {
  it('runs the set-up once for 3 isolated tasks, again only when its key file changes; every worktree sees it', async () => {
    const { repo, out, env, runs } = project(PLAN);
    const first = await weft(['run', 'plan.yaml', '-j', '3'], { cwd: repo.dir, env: { ...env, OUT: '' } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(runs()).toBe(1);
    const runId = /Run (\S+) succeeded/.exec(first.stdout)?.[1] ?? '';
    // Each task ran its script in its worktree: the shared folder and the copies were there.
    for (const id of ['a', 'b', 'c'])
      expect(repo.git('show', `weft/${runId}:out-${id}.txt`)).toBe('dep@v1 | SECRET=local | sqlite://dev');
    // What weft put in the worktrees is not part of the result.
    const files = repo.git('ls-tree', '-r', '--name-only', `weft/${runId}`).split('\n');
    expect(files.filter((f) => /node_modules|\.env|local\.json/.test(f))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['out-a.txt', 'out-b.txt', 'out-c.txt']));

    // Same lockfile: the set-up is not run again; the task on the merged result sees it too.
    const second = await weft(['run', 'plan.yaml', '-j', '3'], { cwd: repo.dir, env });
    expect(second.code).toBe(0);
    expect(runs()).toBe(1);
    expect(readFileSync(join(out, 'report'), 'utf8')).toBe('dep@v1 | SECRET=local | sqlite://dev');

    // A new lockfile: once more, and the tasks see the new result.
    repo.write('package-lock.json', 'v2\n');
    repo.commit('bump lockfile');
    const third = await weft(['run', 'plan.yaml', '-j', '3'], { cwd: repo.dir, env });
    expect(third.code).toBe(0);
    expect(runs()).toBe(2);
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('dep@v2 | SECRET=local | sqlite://dev');
    expect(readFileSync(join(out, 'report'), 'utf8')).toBe('dep@v2 | SECRET=local | sqlite://dev');
    // The user's checkout never got a node_modules.
    expect(existsSync(join(repo.dir, 'node_modules'))).toBe(false);
  }, 180_000); // three runs of a real CLI on a shared machine

  it('a failing set-up fails the run before any task starts, in one line', async () => {
    const failing = PLAN.replace(
      'run: [node, setup.js]',
      'run: [node, -e, "console.error(\'npm ERR! no network\'); process.exit(3)"]',
    );
    const { repo, out, env } = project(failing);
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^weft: workspace\.setup `node -e .*` failed \(exit code 3\) before any task ran: npm ERR! no network/,
    );
    expect(r.stderr).toMatch(/\.weft\/setup\/[0-9a-f]+\.log/);
    expect(existsSync(join(out, 'a'))).toBe(false);
    expect(repo.git('branch', '--list', 'weft/*')).toBe('');
  });

  it('a copy file that is not in the checkout is refused before anything runs: file, field, fix; exit 2', async () => {
    const { repo, env } = project(PLAN.replace('copy: [.env, config/local.json]', 'copy: [.env, .env.local]'));
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^\/.*plan\.yaml workspace\.copy\[1\]: \.env\.local is not in .* — fix: create it there, or remove it from workspace\.copy\n$/,
    );
  });

  it('a wrong workspace field is one line naming file, field and fix; exit 2', async () => {
    const { repo } = project(
      'workspace:\n  setup: { run: [node, x.js], key: [lock], shre: [x] }\n  copy: [../.env]\ntasks:\n  - { id: a, run: "true" }\n',
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: repo.dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').sort()).toEqual([
      expect.stringMatching(
        /^plan\.yaml:2:\d+ workspace\.setup\.share: expected a list, got nothing — fix: write a list$/,
      ),
      expect.stringMatching(
        /^plan\.yaml:2:\d+ workspace\.setup\.shre: unknown field "shre" — fix: did you mean "share"\?$/,
      ),
      expect.stringMatching(
        /^plan\.yaml:3:\d+ workspace\.copy\[0\]: must be a path relative to the repository top, inside it/,
      ),
    ]);
  });

  it('weft.config.yaml gives the workspace when the plan has none', async () => {
    const { repo, env } = project(PLAN.replace(WORKSPACE, ''));
    writeFileSync(join(repo.dir, 'weft.config.yaml'), WORKSPACE.replace('config/local.json', 'config/missing.json'));
    const r = await weft(['run', 'plan.yaml'], { cwd: repo.dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/weft\.config\.yaml workspace\.copy\[1\]: config\/missing\.json is not in/);
  });
});

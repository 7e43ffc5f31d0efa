import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../core/errors.js';
import { applyRun } from './apply-run.js';
import { GitWorkspace } from './git-workspace.js';
import { resolvedTasks, tempRepo, withoutGitConfig, type TempRepo } from './testing/temp-repo.js';

beforeAll(() => withoutGitConfig());

const repos: TempRepo[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
});

/** A repo whose run "r1" merged one task that added feature.txt. */
async function finishedRun(): Promise<TempRepo> {
  const repo = tempRepo({ 'README.md': '# demo\n' });
  repos.push(repo);
  const ws = await GitWorkspace.open({ runId: 'r1', projectDir: repo.dir });
  const task = resolvedTasks([{ id: 'feature' }]).get('feature')!;
  const dir = await ws.prepare(task, 1, false);
  writeFileSync(join(dir, 'feature.txt'), 'one\ntwo\n');
  expect(await ws.integrate(task, 1, {})).toMatchObject({ ok: true });
  await ws.close();
  return repo;
}

async function refusal(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; hint: string | undefined }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWeftError(error)) throw new Error(`expected a WeftError, got ${String(error)}`);
  return { code: error.code, message: error.message, hint: error.hint };
}

describe('applyRun', () => {
  it('fast-forwards the current branch to weft/<run>', async () => {
    const repo = await finishedRun();
    const before = repo.git('rev-parse', 'HEAD');
    const applied = await applyRun(repo.dir, 'r1', { mode: 'ff' });
    expect(applied).toEqual({
      branch: 'main',
      from: 'weft/r1',
      how: 'fast-forward',
      before,
      after: repo.git('rev-parse', 'weft/r1'),
      files: { changed: 1, added: 2, removed: 0 },
    });
    expect(repo.git('rev-parse', 'main')).toBe(repo.git('rev-parse', 'weft/r1'));
    expect(repo.read('feature.txt')).toBe('one\ntwo\n');
    expect(repo.git('status', '--porcelain')).toBe('');
    // Applying again changes nothing.
    expect(await applyRun(repo.dir, 'r1', { mode: 'ff' })).toMatchObject({ how: 'up-to-date', files: { changed: 0 } });
  });

  it('refuses a dirty working tree and changes nothing', async () => {
    const repo = await finishedRun();
    const before = repo.git('rev-parse', 'HEAD');
    repo.write('README.md', 'local edit\n');
    expect(await refusal(applyRun(repo.dir, 'r1', { mode: 'ff' }))).toMatchObject({
      code: 'WEFT_USAGE',
      message: expect.stringMatching(/has uncommitted changes \(README\.md\)/),
      hint: expect.stringMatching(/commit or stash/),
    });
    expect(repo.git('rev-parse', 'HEAD')).toBe(before);
    expect(repo.read('README.md')).toBe('local edit\n');
  });

  it('refuses to fast-forward a branch that moved on, and merges it in mode merge', async () => {
    const repo = await finishedRun();
    repo.write('NOTES.md', 'meanwhile\n');
    const moved = repo.commit('meanwhile');
    expect(await refusal(applyRun(repo.dir, 'r1', { mode: 'ff' }))).toMatchObject({
      code: 'WEFT_USAGE',
      message: expect.stringMatching(/cannot fast-forward main/),
      hint: expect.stringMatching(/`weft apply --merge` \(mode "merge"/),
    });
    const applied = await applyRun(repo.dir, 'r1', { mode: 'merge' });
    expect(applied).toMatchObject({ how: 'merge', before: moved, files: { changed: 1, added: 2 } });
    expect(repo.git('log', '-1', '--format=%s%n%P')).toBe(
      `Merge weft run r1 (weft/r1)\n${moved} ${repo.git('rev-parse', 'weft/r1')}`,
    );
    expect(repo.read('feature.txt')).toBe('one\ntwo\n');
    expect(repo.read('NOTES.md')).toBe('meanwhile\n');
  });

  it('aborts a merge that conflicts and names the files', async () => {
    const repo = await finishedRun();
    repo.write('feature.txt', 'mine\n');
    const mine = repo.commit('my own feature.txt');
    expect(await refusal(applyRun(repo.dir, 'r1', { mode: 'merge' }))).toMatchObject({
      code: 'WEFT_USAGE',
      message: 'merging weft/r1 into main conflicts in feature.txt; nothing was changed',
    });
    expect(repo.git('rev-parse', 'HEAD')).toBe(mine);
    expect(repo.git('status', '--porcelain')).toBe('');
  });

  it('says so when the run has no branch, or HEAD is detached', async () => {
    const repo = await finishedRun();
    expect(await refusal(applyRun(repo.dir, 'nope', { mode: 'ff' }))).toMatchObject({
      code: 'WEFT_RUN_NOT_FOUND',
      message: expect.stringMatching(/run "nope" has no branch weft\/nope/),
    });
    repo.git('checkout', '-q', '--detach');
    expect(await refusal(applyRun(repo.dir, 'r1', { mode: 'ff' }))).toMatchObject({
      code: 'WEFT_USAGE',
      message: expect.stringMatching(/HEAD .* is detached/),
    });
  });
});

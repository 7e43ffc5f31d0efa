import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitWorkspace } from './git-workspace.js';
import { runChecks } from './merge-checks.js';

describe('workspace options are checked on entry', () => {
  it('GitWorkspace.open: a bad checkTimeoutMs is WEFT_USAGE naming the field, before anything is created', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'weft-ws-options-'));
    await expect(GitWorkspace.open({ runId: 'r1', projectDir, checkTimeoutMs: 0 })).rejects.toMatchObject({
      code: 'WEFT_USAGE',
      message: 'GitWorkspace: expected `checkTimeoutMs` to be a positive integer, got `0`',
    });
    expect(readdirSync(projectDir)).toEqual([]);
  });

  it('runChecks: a bad tailChars or timeoutMs is refused before a check runs', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'weft-checks-options-'));
    const touch = [['touch', 'ran']];
    await expect(runChecks(touch, { cwd, tailChars: -1 })).rejects.toMatchObject({
      code: 'WEFT_USAGE',
      message: 'runChecks: expected `tailChars` to be a non-negative integer, got `-1`',
    });
    await expect(runChecks(touch, { cwd, timeoutMs: 0 })).rejects.toMatchObject({
      code: 'WEFT_USAGE',
      message: 'runChecks: expected `timeoutMs` to be a positive integer, got `0`',
    });
    expect(readdirSync(cwd)).toEqual([]);
    expect(await runChecks(touch, { cwd })).toBeUndefined();
    expect(readdirSync(cwd)).toEqual(['ran']);
  });
});

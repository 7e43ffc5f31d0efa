import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentHomeEntries, findBwrap, refusedWrite, sandboxArgv, sandboxIssues } from './sandbox.js';

const bwrap = findBwrap() as string;

/** Runs `script` with sh under the sandbox `spec`; its exit code and stderr. */
function inSandbox(script: string, spec: Parameters<typeof sandboxArgv>[2]): { code: number | null; stderr: string } {
  const [file, ...args] = sandboxArgv(bwrap, ['/bin/sh', '-c', script], spec) as [string, ...string[]];
  const r = spawnSync(file, args, { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('sandboxArgv under the real bubblewrap', () => {
  it('finds bubblewrap on this machine (it is required for these tests: apt-get install bubblewrap)', () => {
    expect(bwrap).toMatch(/bwrap$/);
  });

  it('lets the process write its folder and the writable ones, and refuses a write elsewhere', () => {
    const root = mkdtempSync(join(tmpdir(), 'weft-sbx-'));
    const work = join(root, 'work');
    const extra = join(root, 'extra');
    mkdirSync(work);
    const ok = inSandbox(`echo a > a.txt && echo b > ${extra}/b.txt`, { workdir: work, writable: [extra], home: root });
    expect(ok).toEqual({ code: 0, stderr: '' });
    expect(existsSync(join(work, 'a.txt'))).toBe(true);
    expect(existsSync(join(extra, 'b.txt'))).toBe(true);
    const refused = inSandbox(`echo x > ${join(root, 'escaped.txt')}`, { workdir: work, home: '/nonexistent-home' });
    expect(refused.code).not.toBe(0);
    expect(existsSync(join(root, 'escaped.txt'))).toBe(false);
    expect(refusedWrite(refused.stderr)).toMatch(/escaped\.txt: Read-only file system/);
  });

  it('hides the home folder, except the entries bound back read-only, and refuses writes under it', () => {
    const home = mkdtempSync(join(tmpdir(), 'weft-home-'));
    writeFileSync(join(home, 'secret'), 'token');
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', 'settings.json'), '{}');
    const work = mkdtempSync(join(tmpdir(), 'weft-sbx-'));
    const [file, ...args] = sandboxArgv(bwrap, ['/bin/sh', '-c', `ls -A ${home}; cat ${home}/.claude/settings.json`], {
      workdir: work,
      home,
      readable: agentHomeEntries('claude', home).readable,
    }) as [string, ...string[]];
    expect(execFileSync(file, args, { encoding: 'utf8' }).split('\n')).toEqual(['.claude', '{}']);
    const write = inSandbox(`echo x > ${home}/.claude/new; echo y > ${home}/other`, {
      workdir: work,
      home,
      readable: agentHomeEntries('claude', home).readable,
    });
    expect(write.stderr.match(/Read-only file system/g)).toHaveLength(2);
  });

  it('asks for bubblewrap at validation when it is missing, and only for sandboxed tasks', () => {
    const saved = process.env.WEFT_BWRAP;
    process.env.WEFT_BWRAP = '/nonexistent/bwrap';
    try {
      expect(sandboxIssues({ id: 'a', sandbox: true })).toEqual([
        expect.objectContaining({ field: 'sandbox', fix: expect.stringContaining('apt-get install bubblewrap') }),
      ]);
      expect(sandboxIssues({ id: 'a' })).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.WEFT_BWRAP;
      else process.env.WEFT_BWRAP = saved;
    }
  });
});

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCli } from './cli-version.js';

/** An executable script in a temp folder. */
const script = (name: string, body: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'weft-cli-version-')), name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
};

describe('checkCli: `<bin> --version`, as the set-up check runs it', () => {
  it('reads the version a CLI prints', async () => {
    expect(await checkCli(script('agent', 'echo "agent-cli 1.2.3 (build 7)"'), process.env)).toEqual({
      ok: true,
      version: '1.2.3',
    });
  });

  it('names a missing binary as missing', async () => {
    const check = await checkCli('/nonexistent/agent-cli', process.env);
    expect(check).toEqual({ ok: false, missing: true, message: '/nonexistent/agent-cli: not found' });
  });

  it("gives a failing CLI's first stderr line", async () => {
    const bin = script('broken', 'echo "config: bad token" >&2; echo more >&2; exit 3');
    expect(await checkCli(bin, process.env)).toEqual({
      ok: false,
      missing: false,
      message: `\`${bin} --version\` failed: config: bad token`,
    });
  });

  // A loaded machine took 30 s to start gemini 3 times at once; that read "failed: Command failed".
  it('says a CLI that did not answer in time was slow, not broken', async () => {
    const bin = script('slow', 'sleep 5');
    expect(await checkCli(bin, process.env, 300)).toEqual({
      ok: false,
      missing: false,
      message: `\`${bin} --version\` did not answer in 0.3 s`,
    });
  });
});

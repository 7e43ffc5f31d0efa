import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { fakeClaude } from '../support/fake-agent.js';
import { ensureBuilt, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

describe('a merge conflict sent back to its task', () => {
  it('reads as a fix, not a failed attempt retried, in the live lines, the summary and the reports', async () => {
    // An agent (no writes: it may change any file) and a script whose writes hold conf.env run at
    // once; the script merges second, conflicts, and resolves it when given the conflict.
    const plan = {
      workers: 2,
      tasks: [
        {
          id: 'late',
          run: [
            'sh',
            '-c',
            'if [ -n "$WEFT_FEEDBACK" ]; then echo both > conf.env; else sleep 1; echo late > conf.env; fi',
          ],
          writes: ['conf.env'],
        },
        { id: 'early', executor: 'claude', prompt: 'write conf.env', env: { FAKE_WORK: 'echo early > conf.env' } },
      ],
    };
    const config = `executors:\n  claude: { bin: "${fakeClaude()}" }\n`;
    const repo = tempRepo({ 'plan.yaml': JSON.stringify(plan), 'weft.config.yaml': config });
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: repo.dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runId = /Run (\S+) succeeded/.exec(r.stdout)?.[1] ?? '';
    expect(r.stdout).toContain(
      `↻ late attempt 1: merging task "late" into weft/${runId} conflicts in conf.env — sent back to late to resolve (fix 1 of 2)`,
    );
    expect(r.stdout).not.toContain('retrying in');
    expect(r.stdout).toContain('  fixes        1 (sent back to their task: conflicts, failed checks, …)\n');
    expect(r.stdout).not.toContain('  retries ');
    const runDir = join(repo.dir, '.weft', 'runs', readdirSync(join(repo.dir, '.weft', 'runs'))[0] as string);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ retries: 0, fixes: 1 });
    const md = await weft(['report', runId, '--format', 'md', '-o', join(runDir, 'r.md')], { cwd: repo.dir });
    expect(md.code, md.stderr).toBe(0);
    const report = readFileSync(join(runDir, 'r.md'), 'utf8');
    expect(report).toContain('| Retries | 0 |');
    expect(report).toContain('| Fixes | 1 (sent back to their task) |');
    expect(repo.git('show', `weft/${runId}:conf.env`)).toBe('both');
  }, 60_000);
});

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft as runWeft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const SECRET = 'sk-ant-test-5f4e3d2c1b0a';
/** The key in the environment, as a user with an API key exported has it; the journal is the project's own SQLite file. */
const weft = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: SECRET }) => runWeft(args, { cwd, env: { WEFT_DATABASE_URL: undefined, ...env } });

/** Every file under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
}

describe('a secret a task prints', () => {
  it('is masked in the live lines, the log files, weft logs, every report and the journal', async () => {
    const project = tempProject('weft-secrets-');
    const plan = { name: 'leaky', tasks: [{ id: 'leak', run: ['sh', '-c', 'echo "key=$ANTHROPIC_API_KEY"; echo "err=$ANTHROPIC_API_KEY" >&2; exit 1'] }] };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const run = await weft(['run', 'plan.yaml', '--no-progress'], project);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('err=***');
    const runId = (JSON.parse((await weft(['runs', '--json'], project)).stdout) as { id: string }[])[0]?.id as string;
    const logs = await weft(['logs', runId, 'leak'], project);
    const stderr = await weft(['logs', runId, 'leak', '--stderr'], project);
    expect([logs.stdout, stderr.stdout]).toEqual(['key=***\n', 'err=***\n']);
    // Reports written by a shell without the key: the files themselves hold no copy.
    for (const format of ['md', 'json', 'html']) {
      const report = await weft(['report', runId, '--format', format, '-o', join(project, `report.${format}`)], project, {});
      expect(report.code, report.stderr).toBe(0);
      expect(readFileSync(join(project, `report.${format}`), 'utf8')).toContain('err=***');
    }
    expect(filesHolding(project, SECRET)).toEqual([]);
    // The masked text is there instead: in the log, the reports and the journal (SQLite, or its WAL until a checkpoint).
    const masked = filesHolding(project, 'err=***').map((p) => p.slice(project.length + 1));
    expect(masked.filter((p) => !p.startsWith('.weft/weft.db')).sort()).toEqual([`.weft/runs/${runId}/tasks/leak/1.stderr.log`, 'report.html', 'report.json', 'report.md']);
    expect(masked.some((p) => p.startsWith('.weft/weft.db'))).toBe(true);
  }, 60_000);

  it('weft logs masks the secrets of its environment in a log an older weft left unmasked', async () => {
    const project = tempProject('weft-secrets-');
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ name: 'old', tasks: [{ id: 't', run: ['true'] }] }));
    expect((await weft(['run', 'plan.yaml', '--no-progress'], project)).code).toBe(0);
    const runId = (JSON.parse((await weft(['runs', '--json'], project)).stdout) as { id: string }[])[0]?.id as string;
    const dir = join(project, '.weft', 'runs', runId, 'tasks', 't');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '1.stdout.log'), `token ${SECRET} in ünïcode\n`);
    expect((await weft(['logs', runId, 't'], project)).stdout).toBe('token *** in ünïcode\n');
    expect((await weft(['logs', runId, 't'], project, {})).stdout).toBe(`token ${SECRET} in ünïcode\n`);
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** An OSC 52 clipboard write (puts `rm -rf ~` on the clipboard), a screen clear and a bell. */
const EVIL = '\\033]52;c;cm0gLXJmIH4=\\007\\033[2J\\007';
const SCRIPT = `printf 'out ${EVIL}ok\\n'; printf 'err ${EVIL}tail\\n' >&2; exit 1`;
const plan = JSON.stringify({ tasks: [{ id: 'evil', run: ['sh', '-c', SCRIPT] }] });

const controls = (text: string): string[] =>
  // eslint-disable-next-line no-control-regex -- what it looks for are control characters
  [...text.matchAll(/\x1b\]52[^\x07]*\x07?|\x1b\[2J|\x07/g)].map((m) => JSON.stringify(m[0]));

describe("a task's terminal control sequences", () => {
  it("never reach the terminal: live board on a real terminal keeps weft's own colours, drops the clipboard write", () => {
    const project = tempProject('weft-ctl-');
    writeFileSync(join(project, 'plan.yaml'), plan);
    // `script` gives weft a real pseudo-terminal, as a user's shell would.
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', WEFT_DATABASE_URL: '' };
    delete env.NO_COLOR;
    const r = spawnSync('script', ['-qec', `${process.execPath} ${CLI} run plan.yaml`, '/dev/null'], {
      cwd: project,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout).toContain('err tail'); // the failure tail, shown
    expect(r.stdout).toContain('\x1b[31m'); // weft's own colours (the failed mark)
    expect(controls(r.stdout)).toEqual([]);
  }, 60_000);

  it('are dropped from the plain lines, weft logs and weft status; the log file keeps the bytes', async () => {
    const project = tempProject('weft-ctl-');
    writeFileSync(join(project, 'plan.yaml'), plan);
    const run = await weft(['run', 'plan.yaml'], { cwd: project, env: { WEFT_DATABASE_URL: '' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('err tail');
    const runId = (JSON.parse((await weft(['runs', '--json'], { cwd: project })).stdout) as { id: string }[])[0]
      ?.id as string;
    const out = await weft(['logs', runId, 'evil'], { cwd: project });
    const err = await weft(['logs', runId, 'evil', '--stderr'], { cwd: project });
    const status = await weft(['status', runId], { cwd: project });
    expect([out.stdout, err.stdout]).toEqual(['out ok\n', 'err tail\n']);
    for (const shown of [run.stdout, out.stdout, err.stdout, status.stdout]) expect(controls(shown)).toEqual([]);
    const file = readFileSync(join(project, '.weft', 'runs', runId, 'tasks', 'evil', '1.stderr.log'), 'utf8');
    expect(controls(file).length).toBeGreaterThan(0);
  }, 60_000);

  it("are dropped from a reason that quotes a task's output, a plan's name, weft runs and the md/html reports", async () => {
    const project = tempProject('weft-ctl-');
    const name = 'evil\x1b[2Jplan';
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({
        name,
        tasks: [
          {
            id: 'sec',
            // The output's JSON escapes stand for a screen clear, a clipboard write and a bell.
            run: ['node', '-e', 'console.log(JSON.stringify({ veto: "bad \\u001b[2J\\u001b]52;c;eA==\\u0007x" }))'],
            outputSchema: { type: 'object' },
          },
          { id: 'approve', gate: '!tasks.sec.output.veto' },
        ],
      }),
    );
    const run = await weft(['run', 'plan.yaml'], { cwd: project, env: { WEFT_DATABASE_URL: '' } });
    expect(run.code).toBe(4);
    expect(run.stdout).toContain('approve blocked');
    const shown = await Promise.all(
      [['status'], ['runs'], ['report', '--format', 'md'], ['report', '--format', 'html', '-o', '-']].map((args) =>
        weft(args, { cwd: project }),
      ),
    );
    for (const r of [run, ...shown]) {
      expect(controls(r.stdout)).toEqual([]);
      expect(r.stdout).not.toContain('\x1b[2J');
    }
  }, 60_000);
});

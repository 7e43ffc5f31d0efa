import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../../src/workspace/testing/temp-repo.js';
import { ensureBuilt, startWeft, tempProject, weft as runWeft } from '../support/weft-cli.js';
import { startCli } from '../crash/crash-kit.js';
import { fakeClaude } from '../support/fake-agent.js';

beforeAll(ensureBuilt);

const SECRET = 'sk-ant-test-5f4e3d2c1b0a';
/** A task's command that writes the key it was given as its structured output `{"t": <key>}`. */
const PRINTS_KEY_AS_OUTPUT = ['sh', '-c', 'printf \'{"t": "%s"}\' "$ANTHROPIC_API_KEY" > "$WEFT_OUTPUT"'];
/** The key in the environment, as a user with an API key exported has it; the journal is the project's own SQLite file. */
const weft = (args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: SECRET }) =>
  runWeft(args, { cwd, env: { WEFT_DATABASE_URL: undefined, ...env } });

/** Every file under `dir` whose bytes contain `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
}

describe('a secret a task prints', () => {
  it('is masked in the live lines, the log files, weft logs, every report and the journal', async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      name: 'leaky',
      tasks: [
        { id: 'leak', run: ['sh', '-c', 'echo "key=$ANTHROPIC_API_KEY"; echo "err=$ANTHROPIC_API_KEY" >&2; exit 1'] },
      ],
    };
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
      const report = await weft(
        ['report', runId, '--format', format, '-o', join(project, `report.${format}`)],
        project,
        {},
      );
      expect(report.code, report.stderr).toBe(0);
      expect(readFileSync(join(project, `report.${format}`), 'utf8')).toContain('err=***');
    }
    expect(filesHolding(project, SECRET)).toEqual([]);
    // The masked text is there instead: in the log, the reports and the journal (SQLite, or its WAL until a checkpoint).
    const masked = filesHolding(project, 'err=***').map((p) => p.slice(project.length + 1));
    expect(masked.filter((p) => !p.startsWith('.weft/weft.db')).sort()).toEqual([
      `.weft/runs/${runId}/tasks/leak/1.stderr.log`,
      'report.html',
      'report.json',
      'report.md',
    ]);
    expect(masked.some((p) => p.startsWith('.weft/weft.db'))).toBe(true);
  }, 60_000);

  it('is masked in the structured output it writes: the journal, a gate quoting it, a dependent, every file', async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      name: 'leaky-output',
      tasks: [
        {
          id: 'mint',
          run: PRINTS_KEY_AS_OUTPUT,
          outputSchema: { type: 'object', properties: { t: { type: 'string', minLength: 10 } } },
        },
        { id: 'check', gate: 'tasks.mint.output.t == "nope"' },
        { id: 'use', needs: ['mint'], run: ['sh', '-c', 'cat "$WEFT_INPUTS"'] },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--json'], project);
    expect(run.code).toBe(4); // the gate blocks
    expect(run.stdout).toContain("tasks.mint.output.t = '***' != 'nope'");
    expect(run.stdout).not.toContain(SECRET);
    const runId = (JSON.parse((await weft(['runs', '--json'], project)).stdout) as { id: string }[])[0]?.id as string;
    const outputFile = join(project, '.weft', 'runs', runId, 'tasks', 'mint', '1.output.json');
    expect(readFileSync(outputFile, 'utf8')).toBe('{"t": "***"}');
    // The schema checked what the task wrote, not the mask: a length limit holds for the real value.
    expect(run.stdout).not.toContain('does not match outputSchema');
    expect((await weft(['logs', 'latest', 'use'], project, {})).stdout).toContain('"t": "***"');
    expect(filesHolding(project, SECRET)).toEqual([]);
  }, 60_000);

  it('is masked in the cache a cached task is stored in (the journal file), and a hit gives the same masked output', async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      name: 'leaky-cached',
      tasks: [
        {
          id: 'mint',
          run: PRINTS_KEY_AS_OUTPUT,
          outputSchema: { type: 'object', properties: { t: { type: 'string' } } },
          cache: true,
        },
        { id: 'use', needs: ['mint'], run: ['sh', '-c', 'cat "$WEFT_INPUTS"'] },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const first = await weft(['run', 'plan.yaml', '--no-progress'], project);
    expect(first.code, first.stderr).toBe(0);
    expect(filesHolding(project, SECRET)).toEqual([]);
    const second = await weft(['run', 'plan.yaml', '--no-progress', '--explain-cache'], project);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('cache mint: hit');
    expect((await weft(['logs', 'latest', 'use'], project, {})).stdout).toContain('"t": "***"');
    expect(filesHolding(project, SECRET)).toEqual([]);
  }, 60_000);

  it('is masked in the conflict feedback kept beside the logs of the task it went back to (WEFT_FEEDBACK)', async () => {
    // Both tasks write the key into one file: an agent, which declares no writes, and a script whose
    // writes hold the file. They run at once; the later one conflicts, and its feedback quotes both lines.
    const write = (who: string): string => `printf "KEY=${who}-%s\\n" "$ANTHROPIC_API_KEY" > conf.env`;
    const plan = {
      name: 'leaky-conflict',
      workers: 2,
      tasks: [
        {
          id: 'late',
          // Its fix sees the real value in WEFT_FEEDBACK while it runs, as in its files.
          run: [
            'sh',
            '-c',
            `if [ -n "$WEFT_FEEDBACK" ]; then grep -c "$ANTHROPIC_API_KEY" "$WEFT_FEEDBACK"; echo KEY=both > conf.env; else sleep 1; ${write('late')}; fi`,
          ],
          writes: ['conf.env'],
        },
        { id: 'early', executor: 'claude', prompt: 'write conf.env', env: { FAKE_WORK: write('early') } },
      ],
    };
    const config = `executors:\n  claude: { bin: "${fakeClaude()}" }\n`;
    const repo = tempRepo({
      'README.md': '# project\n',
      'plan.yaml': JSON.stringify(plan),
      'weft.config.yaml': config,
    });
    const run = await weft(['run', 'plan.yaml', '--no-progress'], repo.dir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('conflicts in conf.env');
    const runId = /Run (\S+) succeeded/.exec(run.stdout)?.[1] ?? '';
    const feedback = readFileSync(join(repo.dir, '.weft', 'runs', runId, 'tasks', 'late', '2.feedback.txt'), 'utf8');
    expect(feedback).toContain('| KEY=early-***');
    expect(feedback).toContain('| KEY=late-***');
    expect((await weft(['logs', runId, 'late', '--attempt', '2'], repo.dir, {})).stdout).toBe('2\n');
    expect(filesHolding(join(repo.dir, '.weft', 'runs'), SECRET)).toEqual([]);
  }, 60_000);

  it('is masked where a gate that read it quotes it: the reason, the journal, status, the summary', async () => {
    const project = tempProject('weft-secrets-');
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 'g', gate: 'env.ANTHROPIC_API_KEY == "nope"' }] }),
    );
    const run = await weft(['run', 'plan.yaml', '--no-progress', '--json'], project);
    expect(run.code).toBe(4);
    expect(run.stdout).toContain("env.ANTHROPIC_API_KEY = '***' != 'nope'");
    expect(run.stdout).not.toContain(SECRET);
    expect((await weft(['status'], project, {})).stdout).not.toContain(SECRET);
    expect(filesHolding(project, SECRET)).toEqual([]);
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

const PASSWORD = 'hunter2-plan-password';

async function until(ok: () => boolean, ms = 20_000): Promise<void> {
  for (let waited = 0; waited < ms && !ok(); waited += 25) await new Promise((r) => setTimeout(r, 25));
}

const latestRun = async (project: string): Promise<string> =>
  (JSON.parse((await weft(['runs', '--json'], project)).stdout) as { id: string }[])[0]?.id as string;

describe('a secret the plan itself holds', () => {
  it("a password in the plan's env is masked in the task's log, the live lines, weft logs and the journal", async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      tasks: [
        {
          id: 'db',
          env: { DB_PASSWORD: PASSWORD },
          run: ['sh', '-c', 'echo "pw=$DB_PASSWORD"; echo "pw=$DB_PASSWORD" >&2; exit 1'],
        },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const run = await weft(['run', 'plan.yaml', '--no-progress'], project, {});
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('pw=***');
    expect(run.stdout).not.toContain(PASSWORD);
    const logs = await weft(['logs', await latestRun(project), 'db'], project, {});
    expect(logs.stdout).toBe('pw=***\n');
    expect(filesHolding(join(project, '.weft'), PASSWORD)).toEqual([]);
  }, 60_000);

  it("while the attempt runs (its log file still raw), weft logs and the report show the plan's password as ***", async () => {
    const project = tempProject('weft-secrets-');
    const script = 'echo "pw=$DB_PASSWORD"; while [ ! -e go ]; do sleep 0.1; done; exit 1';
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 't', env: { DB_PASSWORD: PASSWORD }, run: ['sh', '-c', script] }] }),
    );
    const cli = startCli(['run', 'plan.yaml', '--no-isolation'], project);
    try {
      const runs = join(project, '.weft', 'runs');
      const raw = (): string => {
        const id = existsSync(runs) ? readdirSync(runs)[0] : undefined;
        const file = id === undefined ? '' : join(runs, id, 'tasks', 't', '1.stdout.log');
        return file !== '' && existsSync(file) ? readFileSync(file, 'utf8') : '';
      };
      await until(() => raw().includes('pw='));
      expect(raw()).toBe(`pw=${PASSWORD}\n`); // the attempt goes on: the file is masked when it ends
      const runId = await latestRun(project);
      const logs = await weft(['logs', runId, 't'], project, {});
      expect(logs.stdout).toBe('pw=***\n');
      const report = await weft(['report', runId, '--format', 'md'], project, {});
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).not.toContain(PASSWORD);
    } finally {
      writeFileSync(join(project, 'go'), '');
      await cli.done;
    }
  }, 60_000);

  it('a known key written literally in the plan stays out of weft.db, plan.json and the --json stream; resume still runs with it', async () => {
    const project = tempProject('weft-secrets-');
    // First life: note the key and the password the task got, then wait to be interrupted. Second life: check them.
    const check = `[ "$DB_PASSWORD" = ${PASSWORD} ] && [ "$1" = ${SECRET} ] && echo same > ok`;
    const script = `if [ -e started ]; then ${check}; exit 0; fi; touch started; sleep 30`;
    const plan = { tasks: [{ id: 't', env: { DB_PASSWORD: PASSWORD }, run: ['sh', '-c', script, 'sh', SECRET] }] };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    process.env.ANTHROPIC_API_KEY = SECRET; // startWeft passes the test's environment on
    try {
      const first = startWeft(['run', 'plan.yaml', '--json'], project);
      await until(() => existsSync(join(project, 'started')));
      first.child.kill('SIGINT');
      const r = await first.done;
      expect(r.code).toBe(130);
      expect(r.stdout).toContain('"type":"run.created"');
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stdout).not.toContain(PASSWORD);
      expect(filesHolding(join(project, '.weft'), SECRET)).toEqual([]);
      expect(filesHolding(join(project, '.weft'), PASSWORD)).toEqual([]);
      const planJson = JSON.parse(
        readFileSync(join(project, '.weft', 'runs', await latestRun(project), 'plan.json'), 'utf8'),
      );
      expect(planJson.plan.tasks[0].env).toEqual({ DB_PASSWORD: '***' });
      expect(planJson.plan.tasks[0].run.at(-1)).toBe('***');
      const resumed = await weft(['resume', '--no-progress'], project);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(readFileSync(join(project, 'ok'), 'utf8')).toBe('same\n');
      expect(filesHolding(join(project, '.weft'), SECRET)).toEqual([]);
    } finally {
      delete process.env.ANTHROPIC_API_KEY;
    }
  }, 90_000);

  it('a password written as a number in YAML stays out of weft.db, plan.json and the --json stream; resume still runs with it', async () => {
    const project = tempProject('weft-secrets-');
    const script =
      'if [ -e started ]; then [ "$DB_PASSWORD" = 98765432 ] && echo same > ok; exit 0; fi; touch started; sleep 30';
    writeFileSync(
      join(project, 'plan.yaml'),
      `tasks:\n  - id: t\n    env: { DB_PASSWORD: 98765432 }\n    run: ['sh', '-c', '${script}']\n`,
    );
    const first = startWeft(['run', 'plan.yaml', '--json'], project);
    await until(() => existsSync(join(project, 'started')));
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('"type":"run.created"');
    expect(r.stdout).not.toContain('98765432');
    expect(filesHolding(join(project, '.weft'), '98765432')).toEqual([]);
    const planJson = JSON.parse(
      readFileSync(join(project, '.weft', 'runs', await latestRun(project), 'plan.json'), 'utf8'),
    );
    expect(planJson.plan.tasks[0].env).toEqual({ DB_PASSWORD: '***' });
    const resumed = await weft(['resume', '--no-progress'], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(project, 'ok'), 'utf8')).toBe('same\n');
  }, 90_000);

  it('a resume whose plan file changed since is refused in one line, not run with *** for the password', async () => {
    const project = tempProject('weft-secrets-');
    const plan = { tasks: [{ id: 't', env: { DB_PASSWORD: PASSWORD }, run: ['sleep', '30'] }] };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const first = startWeft(['run', 'plan.yaml', '--no-progress'], project);
    await until(() => first.output().includes('t started'));
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
    // The secrets' values cannot be compared (the journal has none), so the file must be the same plan otherwise.
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify({ tasks: [{ ...plan.tasks[0], run: ['sleep', '31'] }] }));
    const resumed = await weft(['resume'], project, {});
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(
      /the journal keeps the plan's secrets masked \(\*\*\*\), and the plan file they come from \(.*plan\.yaml\) has changed/,
    );
    expect(resumed.stderr).not.toContain('goes on with the plan'); // it does not
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('a resume after only a secret value was edited in the plan file (a rotated key) runs with the new value and says so', async () => {
    const project = tempProject('weft-secrets-');
    const script = 'if [ -e started ]; then printf %s "$DB_PASSWORD" > got; exit 0; fi; touch started; sleep 30';
    const plan = (password: string) => ({
      tasks: [{ id: 't', env: { DB_PASSWORD: password }, run: ['sh', '-c', script] }],
    });
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan(PASSWORD)));
    const first = startWeft(['run', 'plan.yaml', '--no-progress'], project);
    await until(() => existsSync(join(project, 'started')));
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan(`${PASSWORD}-rotated`)));
    const resumed = await weft(['resume', '--no-progress'], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /plan\.yaml changed since run \S+ started; the resume goes on with the plan as it was then, but with the secret values the file holds now/,
    );
    expect(readFileSync(join(project, 'got'), 'utf8')).toBe(`${PASSWORD}-rotated`);
  }, 60_000);
});

describe('the log of an attempt whose weft was killed by SIGKILL', () => {
  it('holds the secret raw until the run is resumed, and *** for good after', async () => {
    const project = tempProject('weft-secrets-');
    // Its output file too, beside the logs: a task writes it before it ends.
    const script =
      'if [ -e started ]; then exit 0; fi; touch started; printf "{\\"pw\\": \\"%s\\"}" "$DB_PASSWORD" > "$WEFT_OUTPUT"; echo "pw=$DB_PASSWORD"; sleep 30';
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 't', env: { DB_PASSWORD: PASSWORD }, run: ['sh', '-c', script] }] }),
    );
    const cli = startCli(['run', 'plan.yaml'], project);
    const runs = join(project, '.weft', 'runs');
    const log = (): string => {
      const id = existsSync(runs) ? readdirSync(runs)[0] : undefined;
      const file = id === undefined ? '' : join(runs, id, 'tasks', 't', '1.stdout.log');
      return file !== '' && existsSync(file) ? readFileSync(file, 'utf8') : '';
    };
    await until(() => log().includes('pw='));
    expect(log()).toBe(`pw=${PASSWORD}\n`); // the task still runs: nobody has masked it yet
    cli.child.kill('SIGKILL');
    await cli.done;
    const resumed = await weft(['resume', '--no-progress'], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(log()).toBe('pw=***\n');
    expect(filesHolding(join(project, '.weft'), PASSWORD)).toEqual([]);
  }, 90_000);
});

describe('weft logs -f across the scrub at the end of an attempt', () => {
  it('goes on after a secret where it left off: nothing after it is lost or garbled', async () => {
    const project = tempProject('weft-secrets-');
    const half = (range: string): string => `$(printf %s "$DB_PASSWORD" | cut -c${range})`;
    const script = `echo "pw=$DB_PASSWORD"; printf "half=%s" "${half('1-6')}"; sleep 1.5; printf "%s done\\n" "${half('7-')}"; echo "after line"`;
    writeFileSync(
      join(project, 'plan.yaml'),
      JSON.stringify({ tasks: [{ id: 't', env: { DB_PASSWORD: PASSWORD }, run: ['sh', '-c', script] }] }),
    );
    const run = startCli(['run', 'plan.yaml'], project);
    const runs = join(project, '.weft', 'runs');
    await until(() => existsSync(runs) && readdirSync(runs).length > 0);
    // Followed from a shell that does not know the plan's secret: it reads the file as the run writes it.
    const follow = startCli(['logs', 'latest', 't', '-f'], project);
    expect((await run.done).code).toBe(0);
    const followed = await follow.done;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/^pw=/);
    expect(followed.stdout.endsWith(' done\nafter line\n')).toBe(true);
  }, 60_000);
});

describe('a secret in a file workspace.copy puts in every worktree', () => {
  const TOKEN = 'tok-from-dotenv-7c6b5a';
  const DOTENV = [
    `DB_PASSWORD=${PASSWORD} # staging`,
    `export API_TOKEN="${TOKEN}"`,
    "PRIVATE_KEY='-----BEGIN KEY-----",
    'bWlpLWtleS1saW5lLW9uZQ==',
    "-----END KEY-----'",
    'PUBLIC_URL=https://example.test/visible',
    '',
  ].join('\n');

  it('is masked in the log, weft logs while it runs, the reports and the journal; other lines stay', async () => {
    const repo = tempRepo({ '.gitignore': '.env\n', 'README.md': '# p\n' });
    repo.write('.env', DOTENV);
    const go = join(repo.dir, 'go'); // untracked: not an uncommitted change of the run
    const script = `cat .env; while [ ! -e ${go} ]; do sleep 0.1; done`;
    writeFileSync(
      join(repo.dir, 'plan.yaml'),
      JSON.stringify({
        workspace: { copy: ['.env'] },
        tasks: [{ id: 't', run: ['sh', '-c', script], writes: ['out'] }],
      }),
    );
    repo.commit('plan');
    const cli = startCli(['run', 'plan.yaml', '--no-progress'], repo.dir);
    try {
      const runs = join(repo.dir, '.weft', 'runs');
      const raw = (): string => {
        const id = existsSync(runs) ? readdirSync(runs)[0] : undefined;
        const file = id === undefined ? '' : join(runs, id, 'tasks', 't', '1.stdout.log');
        return file !== '' && existsSync(file) ? readFileSync(file, 'utf8') : '';
      };
      await until(() => raw().includes('PUBLIC_URL'));
      // The attempt goes on, its log still raw: weft logs, from a shell without these secrets, masks them.
      const live = await weft(['logs', await latestRun(repo.dir), 't'], repo.dir, {});
      expect(live.stdout).not.toContain(TOKEN);
      expect(live.stdout).toContain('API_TOKEN="***"');
    } finally {
      writeFileSync(go, '');
      expect((await cli.done).code).toBe(0);
    }
    const runId = await latestRun(repo.dir);
    const logs = await weft(['logs', runId, 't'], repo.dir, {});
    expect(logs.stdout).toBe(
      [
        'DB_PASSWORD=*** # staging',
        'export API_TOKEN="***"',
        "PRIVATE_KEY='***'", // the whole key, as it is printed; a line of it printed alone is masked too
        'PUBLIC_URL=https://example.test/visible',
        '',
      ].join('\n'),
    );
    const report = await weft(['report', runId, '--format', 'md', '-o', join(repo.dir, 'report.md')], repo.dir, {});
    expect(report.code, report.stderr).toBe(0);
    // Nothing weft keeps holds them: only the copies of .env it put in the worktrees (and the user's own).
    for (const secret of [PASSWORD, TOKEN, 'bWlpLWtleS1saW5lLW9uZQ=='])
      expect(
        filesHolding(repo.dir, secret)
          .map((p) => p.slice(repo.dir.length + 1))
          .filter((p) => !p.endsWith('.env')),
      ).toEqual([]);
  }, 60_000);
  it('in a JSON or YAML copy file (a secret-named key) is masked in the log, weft logs, every report and the journal', async () => {
    const repo = tempRepo({ '.gitignore': 'secrets.json\nconfig/\n', 'README.md': '# p\n' });
    const json = { api_key: 'json-key-3e2d1c', url: 'https://visible.test', db: { password: 'json-pw-9a8b7c' } };
    repo.write('secrets.json', `${JSON.stringify(json, null, 2)}\n`);
    repo.write('config/local.yaml', 'service:\n  name: visible-name\n  auth_token: yaml-tok-6f5e4d\n');
    writeFileSync(
      join(repo.dir, 'plan.yaml'),
      JSON.stringify({
        workspace: { copy: ['secrets.json', 'config'] },
        tasks: [{ id: 't', run: ['sh', '-c', 'cat secrets.json config/local.yaml'], writes: ['out'] }],
      }),
    );
    repo.commit('plan');
    const run = await weft(['run', 'plan.yaml', '--no-progress'], repo.dir, {});
    expect(run.code, run.stderr).toBe(0);
    const runId = await latestRun(repo.dir);
    const logs = await weft(['logs', runId, 't'], repo.dir, {});
    expect(logs.stdout).toContain('"api_key": "***"');
    expect(logs.stdout).toContain('"password": "***"');
    expect(logs.stdout).toContain('"url": "https://visible.test"');
    expect(logs.stdout).toContain('  name: visible-name\n  auth_token: ***\n');
    for (const format of ['md', 'html', 'json'])
      expect(
        (await weft(['report', runId, '--format', format, '-o', join(repo.dir, `r.${format}`)], repo.dir, {})).code,
      ).toBe(0);
    for (const secret of ['json-key-3e2d1c', 'json-pw-9a8b7c', 'yaml-tok-6f5e4d'])
      expect(
        filesHolding(repo.dir, secret)
          .map((p) => p.slice(repo.dir.length + 1))
          .filter((p) => !p.endsWith('secrets.json') && !p.endsWith('local.yaml')),
      ).toEqual([]);
  }, 60_000);

  it('also written literally in the plan, a resume of the unchanged plan just resumes (with the value)', async () => {
    const repo = tempRepo({ '.gitignore': '.env\n', 'README.md': '# p\n' });
    repo.write('.env', `API_TOKEN=${TOKEN}\n`);
    const flag = join(repo.dir, '.git', 'second-life'); // outside the worktrees: b fails until it is there
    writeFileSync(
      join(repo.dir, 'plan.yaml'),
      JSON.stringify({
        workspace: { copy: ['.env'] },
        tasks: [
          { id: 'a', run: ['sh', '-c', `echo ${TOKEN} > a.txt`], writes: ['a.txt'] },
          { id: 'b', run: ['sh', '-c', `test -e ${flag} && cat a.txt > b.txt`], writes: ['b.txt'], needs: ['a'] },
        ],
      }),
    );
    repo.commit('plan');
    expect((await weft(['run', 'plan.yaml', '--no-progress'], repo.dir, {})).code).toBe(1);
    const runId = await latestRun(repo.dir);
    writeFileSync(flag, '');
    const resume = await weft(['resume', runId, '--no-progress'], repo.dir, {});
    expect(resume.stderr).toBe('');
    expect(resume.code).toBe(0);
    expect(repo.git('show', `weft/${runId}:b.txt`)).toBe(TOKEN);
    expect(filesHolding(join(repo.dir, '.weft'), TOKEN).filter((p) => !p.includes('/worktrees/'))).toEqual([]);
  }, 60_000);
});

describe('a secret the workspace set-up prints', () => {
  it("is masked in its log and the line that says it failed: weft's env and the copy files' secrets", async () => {
    const repo = tempRepo({ '.gitignore': '.env\n', 'lock.txt': 'v1\n' });
    repo.write('.env', 'API_TOKEN=tok-the-setup-printed-1\n');
    const setup = ['sh', '-c', 'echo "key=$ANTHROPIC_API_KEY"; cat .env; exit 1'];
    const plan = {
      workspace: { setup: { run: setup, key: ['lock.txt'], share: ['deps'] }, copy: ['.env'] },
      tasks: [{ id: 't', run: ['touch', 'x'], writes: ['x'] }],
    };
    writeFileSync(join(repo.dir, 'plan.yaml'), JSON.stringify(plan));
    repo.commit('plan');
    const run = await weft(['run', 'plan.yaml', '--no-progress'], repo.dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('failed (exit code 1) before any task ran: API_TOKEN=***');
    const log = readdirSync(join(repo.dir, '.weft', 'setup')).find((f) => f.endsWith('.log')) ?? '';
    expect(readFileSync(join(repo.dir, '.weft', 'setup', log), 'utf8')).toBe('key=***\nAPI_TOKEN=***');
    for (const secret of [SECRET, 'tok-the-setup-printed-1'])
      expect(filesHolding(join(repo.dir, '.weft'), secret).filter((p) => !p.endsWith('.env'))).toEqual([]);
  }, 60_000);
});

describe('a var named like a secret', () => {
  const TOKEN = 'tok-set-on-the-command-line-42';
  /** Runs until it is interrupted the first time; the second time it ends at once. */
  const SLOW = ['sh', '-c', 'if [ -e started ]; then exit 0; fi; touch started; sleep 30'];

  it('given with --set stays out of weft.db, plan.json, --json and the reports, also in a condition; a resume needs it again', async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      vars: { api_token: 'none', mode: 'fast' },
      tasks: [
        { id: 'slow', run: SLOW },
        {
          id: 'after',
          after: ['slow'],
          when: `vars.api_token == "${TOKEN}" && vars.mode == "fast"`, // a var no condition reads is refused
          run: ['touch', 'ran-after'],
        },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const first = startWeft(['run', 'plan.yaml', '--json', '--set', `api_token=${TOKEN}`], project);
    await until(() => existsSync(join(project, 'started')));
    first.child.kill('SIGINT');
    const r = await first.done;
    expect(r.code).toBe(130);
    expect(r.stdout).toContain('"vars":{"api_token":"***","mode":"fast"}'); // run.created, as the --json stream gives it
    expect(r.stdout).not.toContain(TOKEN);
    const runId = await latestRun(project);
    const planJson = JSON.parse(readFileSync(join(project, '.weft', 'runs', runId, 'plan.json'), 'utf8'));
    expect(planJson.vars).toEqual({ api_token: '***', mode: 'fast' });
    // Not run with `***` for the token: refused in one line that says what to give.
    const refused = await weft(['resume', '--no-progress'], project, {});
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `run ${runId}: var api_token was given with --set, and the journal keeps its value masked (***)`,
    );
    expect(refused.stderr).toContain(`weft resume ${runId} --set api_token=…`);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const wrong = await weft(['resume', '--set', 'mode=slow'], project, {});
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--set mode: a resume keeps the vars run');
    const resumed = await weft(['resume', '--no-progress', '--set', `api_token=${TOKEN}`], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(join(project, 'ran-after'))).toBe(true); // its condition saw the token itself
    for (const format of ['md', 'json', 'html'])
      expect((await weft(['report', runId, '--format', format], project, {})).stdout).not.toContain(TOKEN);
    expect(filesHolding(join(project, '.weft'), TOKEN)).toEqual([]);
  }, 90_000);

  it('quoted back in a mistake (a wrong --set, a when that compares it wrongly) is *** in weft validate, its --json and weft run', async () => {
    const project = tempProject('weft-secrets-');
    // A number var given a token by --set: the message quotes what was given.
    writeFileSync(
      join(project, 'set.yaml'),
      JSON.stringify({ vars: { api_token: 5 }, tasks: [{ id: 'a', run: 'true', when: 'vars.api_token > 1' }] }),
    );
    // The plan's own password, written again in a condition the message quotes.
    writeFileSync(
      join(project, 'when.yaml'),
      JSON.stringify({
        vars: { db_password: PASSWORD },
        tasks: [{ id: 'a', run: 'true', when: `vars.db_password > "${PASSWORD}"` }],
      }),
    );
    const cases = [
      { args: ['set.yaml', '--set', `api_token=${TOKEN}`], says: '--set api_token=***: expected a decimal number' },
      { args: ['when.yaml'], says: 'condition compares a string with > in vars.db_password > "***"' },
    ];
    for (const { args, says } of cases)
      for (const command of [['validate'], ['validate', '--json'], ['run', '--no-progress']]) {
        const r = await weft([...command, ...args], project, {});
        expect(r.code, command.join(' ')).toBe(2);
        const shown = command.includes('--json')
          ? (JSON.parse(r.stdout) as { issues: { message: string }[] }).issues[0]?.message
          : r.stderr;
        expect(shown, command.join(' ')).toContain(says);
        expect(r.stdout + r.stderr, command.join(' ')).not.toContain(TOKEN);
        expect(r.stdout + r.stderr, command.join(' ')).not.toContain(PASSWORD);
      }
  }, 90_000);

  it('set by the plan itself is masked too, and a resume takes it back from the plan file', async () => {
    const project = tempProject('weft-secrets-');
    const plan = {
      vars: { db_password: PASSWORD },
      tasks: [
        { id: 'slow', run: SLOW },
        { id: 'after', after: ['slow'], when: `vars.db_password == "${PASSWORD}"`, run: ['touch', 'ran-after'] },
      ],
    };
    writeFileSync(join(project, 'plan.yaml'), JSON.stringify(plan));
    const first = startWeft(['run', 'plan.yaml', '--no-progress'], project);
    await until(() => existsSync(join(project, 'started')));
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
    expect(filesHolding(join(project, '.weft'), PASSWORD)).toEqual([]);
    const resumed = await weft(['resume', '--no-progress'], project, {});
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(existsSync(join(project, 'ran-after'))).toBe(true);
    expect(filesHolding(join(project, '.weft'), PASSWORD)).toEqual([]);
  }, 90_000);
});

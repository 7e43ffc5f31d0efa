import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

/** `a: &a [x × 9]`, then ten levels of nine aliases each: billions of copies if expanded. */
function aliasBomb(): string {
  const lines = ['l0: &l0 [x, x, x, x, x, x, x, x, x]'];
  for (let k = 1; k <= 10; k++)
    lines.push(`l${k}: &l${k} [${Array.from({ length: 9 }, () => `*l${k - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\ntasks:\n  - { id: a, run: "true" }\n`;
}

/** [plan text, the one line weft validate prints] — found by the fuzzer, or by reading the code. */
const cases: [string, string, string][] = [
  [
    'a "${" no "}" closes in a command (shell-quote throws on it)',
    'tasks:\n  - id: a\n    run: "echo ${"\n',
    'plan.yaml:3:5 task "a" run: command has a "${" that no "}" closes, which only a shell would try to read — fix: set shell: true, or write run as an argv list',
  ],
  [
    'an undefined alias',
    'tasks:\n  - id: a\n    run: *nope\n',
    'plan.yaml:3:10: bad YAML: alias *nope names no anchor (&nope) before it — fix: fix the syntax at that position',
  ],
  [
    'an alias bomb',
    aliasBomb(),
    'plan.yaml:1:1: bad YAML: its aliases expand into too many copies (an alias bomb?) — fix: fix the syntax at that position',
  ],
  [
    '2,000-deep nesting',
    `tasks:\n  - id: a\n    run: "true"\n    env: ${'['.repeat(2000)}${']'.repeat(2000)}\n`,
    'plan.yaml:4:794: bad YAML: nested deeper than the parser can follow (keep it under 100 levels) — fix: fix the syntax at that position',
  ],
  [
    '300-deep nesting the parser follows',
    `tasks:\n  - id: a\n    run: "true"\n    outputSchema: ${'{a: '.repeat(300)}1${'}'.repeat(300)}\n`,
    'plan.yaml:1:1: bad YAML: nested deeper than 100 levels — fix: nest it at most 100 levels deep',
  ],
  [
    'a 5 MB run string',
    `tasks:\n  - id: a\n    run: "${'x'.repeat(5_000_000)}"\n`,
    'plan.yaml:3:5 task "a" run: command is 5000000 characters long, over the 131072 a command may have — fix: put the script in a file and run that file',
  ],
  [
    'an id with a newline and a NUL',
    'tasks:\n  - id: "a\\nb\\0c"\n    run: "true"\n',
    'plan.yaml:2:5 task "a\\nb\\u0000c" id: task ids use letters, digits, ".", "_" and "-", start with a letter or digit, and contain no ".." — fix: use letters, digits, ".", "_" and "-" (e.g. build-api)',
  ],
  [
    'a NUL in an env value',
    'tasks:\n  - id: a\n    run: [env]\n    env: { A: "x\\0B=injected" }\n',
    'plan.yaml:4:12 task "a" env.A: environment variable A contains a NUL character — fix: remove the NUL (\\u0000): no process environment can hold one',
  ],
  [
    'an env name with =',
    'tasks:\n  - id: a\n    run: [env]\n    env: { "A=B": "1" }\n',
    'plan.yaml:4:12 task "a" env.A=B: environment variable name "A=B" is not allowed (it contains "=") — fix: use letters, digits and _, e.g. NODE_ENV',
  ],
  [
    'an empty env name',
    'tasks:\n  - id: a\n    run: [env]\n    env: { "": "1" }\n',
    'plan.yaml:4:12 task "a" env.: environment variable name "" is empty — fix: use letters, digits and _, e.g. NODE_ENV',
  ],
  [
    'run: [""]',
    'tasks:\n  - id: a\n    run: [""]\n',
    'plan.yaml:3:5 task "a" run: command names no program (it is empty) — fix: put the program first, e.g. run: [npm, test]',
  ],
  [
    'a cwd that does not exist',
    'tasks:\n  - id: a\n    run: "true"\n    cwd: no/such/dir\n',
    'plan.yaml:4:5 task "a" cwd: folder "<dir>/no/such/dir" does not exist — fix: create it, or give cwd relative to the plan\'s folder',
  ],
  [
    'a cwd that is a file',
    'tasks:\n  - id: a\n    run: "true"\n    cwd: plan.yaml\n',
    'plan.yaml:4:5 task "a" cwd: "<dir>/plan.yaml" is a file, not a folder — fix: give cwd the folder the task runs in',
  ],
  [
    'timeout: 25d',
    'tasks:\n  - id: a\n    run: [sleep, "1"]\n    timeout: 25d\n',
    'plan.yaml:4:5 task "a" timeout: timeout 25d is longer than the longest timer, 24d20h31m — fix: use at most 24d, or leave timeout out for none',
  ],
  [
    'a when of thousands of terms',
    `tasks:\n  - id: a\n    run: "true"\n    when: "${'vars.a && '.repeat(3000)}vars.a"\n`,
    'plan.yaml:4:5 task "a" when: bad condition at character 2001: longer than 2000 characters (30006) — fix: write e.g. vars.flag, !vars.flag, vars.env == "prod" && tasks.build.succeeded',
  ],
  [
    'a when of thousands of parentheses',
    `vars: { a: true }\ntasks:\n  - id: a\n    run: "true"\n    when: "${'('.repeat(900)}vars.a${')'.repeat(900)}"\n`,
    'plan.yaml:5:5 task "a" when: bad condition at character 33: nested deeper than 32 levels — fix: write e.g. vars.flag, !vars.flag, vars.env == "prod" && tasks.build.succeeded',
  ],
];

describe('bad input through the real binary: one line, exit 2, never a stack trace or "internal error"', () => {
  it.each(cases)('%s', async (_name, text, line) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), text);
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([line.replace('<dir>', project)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  // A syntax error printed every error the parser met after it too (two lines for one unclosed
  // bracket), each with the fix "fix the syntax at that position", which says nothing.
  it.each([
    [
      'an unclosed [ list',
      'tasks:\n  - id: a\n    run: [echo, hi\n  - id: b\n    run: echo\n',
      'plan.yaml:4:3: bad YAML: Flow sequence in block collection must be sufficiently indented and end with a ] — fix: close the [ … ] list with ]',
    ],
    [
      'a tab',
      'tasks:\n\t- id: a\n    run: echo\n',
      'plan.yaml:2:1: bad YAML: Tabs are not allowed as indentation — fix: indent with spaces, not tabs',
    ],
    [
      'a value holding ": "',
      'tasks:\n  - id: a\n    run: echo a: b\n',
      'plan.yaml:3:10: bad YAML: Nested mappings are not allowed in compact mappings — fix: quote the value: it holds ": " (e.g. run: "echo a: b")',
    ],
    [
      'a key without its colon',
      'tasks:\n  - id: a\n    run echo\n    needs: []\n',
      'plan.yaml:3:5: bad YAML: Implicit keys need to be on a single line — fix: write `key: value` on one line (a key needs a colon and a space after it)',
    ],
  ])('a YAML syntax error (%s) is one line with its fix, for validate, run and estimate', async (_name, text, line) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), text);
    for (const command of ['validate', 'run', 'estimate']) {
      const r = await weft([command, 'plan.yaml'], { cwd: project });
      expect({ command, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        command,
        code: 2,
        stdout: '',
        stderr: `${line}\n`,
      });
    }
  });

  // It said "bad YAML: … — fix: fix the syntax at that position" of a .json file whose syntax is right.
  it('a .json plan nested too deep is bad JSON, to be nested less, not a syntax error of YAML', async () => {
    const project = tempProject();
    const deep = `${'{"a": '.repeat(300)}1${'}'.repeat(300)}`;
    writeFileSync(join(project, 'plan.json'), `{"tasks": [{"id": "a", "run": "true", "outputSchema": ${deep}}]}\n`);
    const r = await weft(['validate', 'plan.json'], { cwd: project });
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'plan.json:1:1: bad JSON: nested deeper than 100 levels — fix: nest it at most 100 levels deep\n',
    });
  });

  it('a cwd that exists, or that a task it waits for may create, is fine', async () => {
    const project = tempProject();
    mkdirSync(join(project, 'app'));
    writeFileSync(
      join(project, 'plan.yaml'),
      'tasks:\n  - { id: a, run: "true", cwd: app }\n  - { id: b, needs: [a], run: "true", cwd: later }\n',
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('/dev/zero, a FIFO, a folder and a file over 64 MB are refused at once, not read', async () => {
    const project = tempProject();
    const fifo = join(project, 'fifo.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    mkdirSync(join(project, 'folder.yaml'));
    truncateSync((writeFileSync(join(project, 'huge.yaml'), ''), join(project, 'huge.yaml')), 64 * 1024 * 1024 + 1);
    const notFile = '— fix: pass the path of a plan file (.yaml or .json)';
    for (const [path, line] of [
      ['/dev/zero', `/dev/zero: not a regular file (a device or FIFO) ${notFile}`],
      ['fifo.yaml', `fifo.yaml: not a regular file (a device or FIFO) ${notFile}`],
      ['folder.yaml', `folder.yaml: a folder, not a plan file ${notFile}; \`weft init\` writes one`],
      [
        'huge.yaml',
        'huge.yaml: 67108865 bytes, over the 64 MB a plan file may have — fix: split the plan, or let a task generate tasks with expands: true',
      ],
    ] as const) {
      for (const command of ['validate', 'run']) {
        const r = await weft([command, path], { cwd: project, timeoutMs: 20_000 });
        expect(r.signal, `${command} ${path}`).toBeNull(); // not killed by the timeout: it did not read for ever
        expect(r.stderr.trim()).toBe(line);
        expect(r.code).toBe(2);
      }
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  // It said "not a regular file (a device, FIFO or folder)" of `weft validate .`.
  it('a folder given for the plan names the plan files in it (those with tasks), without opening a FIFO', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'build.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    writeFileSync(join(project, 'deploy.json'), '{\n  "name": "d",\n  "tasks": []\n}\n');
    writeFileSync(join(project, 'package.json'), '{ "name": "app", "scripts": { "tasks": "x" } }\n');
    writeFileSync(join(project, 'compose.yaml'), 'services:\n  db: { image: postgres }\n');
    expect(spawnSync('mkfifo', [join(project, 'pipe.yaml')]).status).toBe(0);
    for (const command of ['validate', 'run', 'estimate']) {
      const r = await weft([command, '.'], { cwd: project, timeoutMs: 20_000 });
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 2,
        stderr: '.: a folder, not a plan file — fix: pass a plan file in it, e.g. build.yaml, deploy.json\n',
      });
    }
  });

  // An editor's byte-order mark was read as a character of line 1: its columns were one off.
  it('a plan file that starts with a byte-order mark has the columns of one without, YAML and JSON', async () => {
    const project = tempProject();
    const BOM = '\ufeff';
    const plans = [
      ['plan.yaml', 'tasks: [{ id: a, run: "true", nedds: [] }]\n', '1:31'],
      ['plan.json', '{"tasks": [{"id": "a", "run": "true", "nedds": []}]}\n', '1:39'],
    ] as const;
    for (const [name, text, at] of plans) {
      writeFileSync(join(project, name), BOM + text);
      const r = await weft(['validate', name], { cwd: project });
      expect(r.stderr).toBe(`${name}:${at} task "a" nedds: unknown field "nedds" — fix: did you mean "needs"?\n`);
      writeFileSync(join(project, name), BOM + text.replace('nedds', 'needs'));
      expect((await weft(['validate', name], { cwd: project })).code).toBe(0);
    }
  });

  it('a plan written as a script (.ts, .js, .mjs) is refused in one line, not read as YAML', async () => {
    const project = tempProject();
    const script = "export default { name: 'p', tasks: ['a', 'b'].map((id) => ({ id, run: 'true' })) };\n";
    for (const name of ['plan.ts', 'plan.js', 'Plan.MJS']) {
      writeFileSync(join(project, name), script);
      for (const command of ['validate', 'estimate', 'run']) {
        const r = await weft([command, name], { cwd: project });
        expect(r.stderr.trim(), `${command} ${name}`).toBe(
          `${name}: a script, not a plan file: the CLI reads plans written in YAML or JSON — fix: run a plan built in code with the library (runWeft(plan)), or write it out as JSON (JSON.stringify(plan)) and pass that file`,
        );
        expect(r.code).toBe(2);
      }
    }
    expect(existsSync(join(project, '.weft'))).toBe(false);
  });

  // Commander's own line ("error: unknown option '--jbos'" and "(Did you mean --jobs?)") had no
  // `weft:` and, without a near flag, no fix at all.
  it.each([
    [
      ['run', 'plan.yaml', '--jbos', '2'],
      "weft: unknown option '--jbos'\n  did you mean --jobs? `weft run --help` shows its usage",
    ],
    [['run', 'plan.yaml', '--bogus'], "weft: unknown option '--bogus'\n  `weft run --help` shows its usage"],
    [
      ['status', '--jsno'],
      "weft: unknown option '--jsno'\n  did you mean --json? `weft status --help` shows its usage",
    ],
    [['plan'], "weft: missing required argument 'goal'\n  `weft plan --help` shows its usage"],
    [['rnu', 'plan.yaml'], "weft: unknown command 'rnu'\n  did you mean run? `weft --help` lists the commands"],
  ])("a command line the parser refuses (%j) is weft's line and its fix, exit 2", async (args, lines) => {
    const r = await weft(args, { cwd: tempProject() });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 2, stdout: '', stderr: `${lines}\n` });
  });

  // Commander's own words: "option '-j, --jobs <M>' cannot be used with option '--sweep <range>'".
  it("two flags that do not go together say so in weft's words, with the fix, and as JSON", async () => {
    const project = tempProject();
    const r = await weft(['estimate', 'plan.yaml', '--sweep', '1-3', '--jobs', '2', '--json'], { cwd: project });
    const message = '-j and --sweep do not go together: --sweep tries each worker count in its range';
    const hint = 'leave out -j to sweep (e.g. --sweep 1-16), or --sweep to estimate on -j workers';
    expect({ code: r.code, stderr: r.stderr, stdout: JSON.parse(r.stdout) }).toEqual({
      code: 2,
      stderr: `weft: ${message}\n  ${hint}\n`,
      stdout: { error: { code: 'WEFT_USAGE', message, hint } },
    });
  });

  // A flag's value it cannot take was one line with no fix under it.
  it.each([
    [
      ['run', 'plan.yaml', '-j', '0'],
      '-j expects a whole number of workers from 1 to 1024, got "0"',
      '-j takes how many tasks run at once, in digits, e.g. -j 4',
    ],
    [
      ['estimate', 'plan.yaml', '--sweep', '3-1'],
      '--sweep expects a range of worker counts like 1-16, low to high, within 1-1024, got "3-1"',
      'write low-high, e.g. --sweep 1-16 to try every worker count from 1 to 16',
    ],
    [
      ['estimate', 'plan.yaml', '--format', 'xyz'],
      '--format expects plan, stg or wfcommons, got "xyz"',
      'e.g. --format stg, or leave --format out to go by the file: an .stg file, a WfCommons trace (.json), else a plan',
    ],
    [
      ['report', '--format', 'pdf'],
      '--format expects json, md or html, got "pdf"',
      'e.g. --format md; without --format the report is html',
    ],
    [
      ['logs', 'latest', 'a', '--attempt', '0'],
      '--attempt expects an attempt number from 1, got "0"',
      'attempts are numbered 1, 2, … e.g. --attempt 2; leave --attempt out for the latest',
    ],
    [
      ['serve', '--port', '99999'],
      '--port expects a port number from 0 to 65535, got "99999"',
      'e.g. --port 8080, or --port 0 for any free port',
    ],
    [
      ['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0'],
      '--concurrency expects a whole number from 1 to 10000, got "0"',
      '--concurrency takes digits only, e.g. --concurrency 4',
    ],
    [
      ['worker', '--redis', 'redis://127.0.0.1:1', '--lock-ms', '5'],
      '--lock-ms expects a whole number from 1000 to 86400000, got "5"',
      '--lock-ms takes digits only, e.g. --lock-ms 30000',
    ],
    [
      ['plan', 'x', '--attempts', '0'],
      '--attempts expects a whole number from 1 to 21, got "0"',
      '--attempts takes digits only, e.g. --attempts 3 (the default)',
    ],
    [
      ['run', 'plan.yaml', '--run-id', '..'],
      "--run-id expects letters, digits, '-', '_' or '.', got \"..\"",
      "at most 80 of them, with no '..', e.g. --run-id nightly-1; leave --run-id out for a new id",
    ],
  ])('a flag value it cannot take (%j) is its line and a fix line, exit 2', async (args, message, hint) => {
    const r = await weft(args, { cwd: tempProject() });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `weft: ${message}\n  ${hint}\n`,
    });
  });

  // A flag that needs --dispatch, given without it, was one line with no fix under it.
  it.each([
    ['--queue-prefix', 'x'],
    ['--git-remote', '/srv/git/app.git'],
  ])('%s without --dispatch is its line and a fix line, exit 2', async (flag, value) => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    const r = await weft(['run', 'plan.yaml', flag, value], { cwd: project });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: `weft: ${flag} needs --dispatch (or \`dispatch:\` in weft.config.yaml)\n  add --dispatch redis://host:6379, the Redis your workers use, or leave ${flag} out\n`,
    });
  });

  it('an empty --git-remote is its line and a fix line, exit 2', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true" }\n');
    const r = await weft(['run', 'plan.yaml', '--dispatch', 'redis://127.0.0.1:1', '--git-remote='], { cwd: project });
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'weft: --git-remote: expected a git URL or the path of a bare repository, got ""\n  e.g. --git-remote /srv/git/app.git or --git-remote git@host:app.git, or leave it out\n',
    });
  });
});

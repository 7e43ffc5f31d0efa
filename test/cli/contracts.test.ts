import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);
vi.setConfig({ testTimeout: 120_000 });

/**
 * The provider: writes api.json and its output (WEFT_OUTPUT) — a method the contract does not allow
 * until it is given feedback (WEFT_FEEDBACK), unless MODE=never. Consumers log what they were given.
 */
const script = `const fs = require('fs');
const e = process.env;
const read = (v) => (e[v] === undefined ? null : fs.readFileSync(e[v], 'utf8'));
fs.appendFileSync(e.LOG, JSON.stringify({ who: e.WEFT_TASK_ID, attempt: e.WEFT_ATTEMPT, feedback: read('WEFT_FEEDBACK'),
  contracts: JSON.parse(read('WEFT_CONTRACTS') ?? 'null'), inputs: JSON.parse(read('WEFT_INPUTS') ?? 'null') }) + '\\n');
if (e.WEFT_TASK_ID === 'design') {
  const method = e.WEFT_FEEDBACK !== undefined && e.MODE !== 'never' ? 'GET' : 'FETCH';
  const api = { endpoints: [{ method, path: '/todos' }] };
  fs.writeFileSync('api.json', JSON.stringify(api) + '\\n');
  fs.writeFileSync(e.WEFT_OUTPUT, JSON.stringify(api));
}
`;

const CONTRACT = `contracts:
  - name: todo-api
    description: The HTTP API between web and server.
    provider: design
    consumers: [web, server]
    schema:
      type: object
      required: [endpoints]
      properties:
        endpoints:
          type: array
          minItems: 1
          items:
            type: object
            required: [method, path]
            properties: { method: { enum: [GET, POST, DELETE] }, path: { type: string } }
`;

interface Line {
  who: string;
  attempt: string;
  feedback: string | null;
  contracts: Record<string, { role: string; provider: string; consumers: string[]; schema: unknown }> | null;
  inputs: Record<string, { output?: unknown }> | null;
}

function project(mode: string, contracts = CONTRACT): { dir: string; lines: () => Line[] } {
  const dir = tempProject('weft-contracts-');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });
  git('init', '-q');
  writeFileSync(join(dir, 'task.js'), script);
  git('add', '.');
  git('commit', '-qm', 'start');
  const log = join(dir, '..', `${dir.split('/').pop()}.log`);
  writeFileSync(log, '');
  const env = `env: { LOG: ${JSON.stringify(log)}, MODE: ${mode} }`;
  writeFileSync(
    join(dir, 'weft.yaml'),
    `${contracts}defaults: { fixAttempts: 1 }
tasks:
  - { id: design, run: [node, task.js], writes: [api.json], ${env} }
  - { id: web, run: [node, task.js], ${env} }
  - { id: server, run: [node, task.js], ${env} }
  - { id: docs, run: [node, task.js], ${env} }
`,
  );
  const lines = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
  return { dir, lines };
}

const summaryOf = (dir: string) => {
  const runs = readdirSync(join(dir, '.weft', 'runs'));
  return JSON.parse(readFileSync(join(dir, '.weft', 'runs', runs[0] as string, 'summary.json'), 'utf8'));
};

describe('contracts: the provider is checked, a mismatch goes back to it', () => {
  it('broken on the first attempt, fixed with the feedback; consumers start after, with the contract and the verified output', async () => {
    const { dir, lines } = project('once');
    const r = await weft(['run', 'weft.yaml'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '↻ design attempt 1: contract "todo-api" broken: endpoints[0].method: must be one of "GET", "POST" or "DELETE" — sent back to design to fix (fix 1 of 1)',
    );
    expect(r.stdout).toContain('  contract     todo-api ✓ verified: design → web, server (broken once, fixed)');

    const seen = lines();
    const design = seen.filter((l) => l.who === 'design');
    expect(design.map((l) => [l.attempt, l.feedback === null])).toEqual([
      ['1', true],
      ['2', false],
    ]);
    expect(design[1]?.feedback).toContain(
      'Your output breaks the contract "todo-api", which you provide to web and server: endpoints[0].method: must be one of',
    );
    expect(design[0]?.contracts?.['todo-api']).toMatchObject({ role: 'provider', consumers: ['web', 'server'] });
    // Consumers waited for the fixed provider (they did not list it in needs) and got the contract and its output.
    for (const who of ['web', 'server']) {
      const line = seen.find((l) => l.who === who) as Line;
      expect(seen.indexOf(line)).toBeGreaterThan(seen.indexOf(design[1] as Line));
      expect(line.contracts?.['todo-api']).toMatchObject({ role: 'consumer', provider: 'design' });
      expect(line.inputs?.design?.output).toEqual({ endpoints: [{ method: 'GET', path: '/todos' }] });
    }
    // A task on no side gets no WEFT_CONTRACTS, and does not wait.
    expect(seen.find((l) => l.who === 'docs')?.contracts).toBeNull();

    const summary = summaryOf(dir);
    expect(summary.contracts).toEqual([
      {
        name: 'todo-api',
        provider: 'design',
        consumers: ['web', 'server'],
        verdict: 'verified',
        brokenAttempts: 1,
        problem: 'contract "todo-api" broken: endpoints[0].method: must be one of "GET", "POST" or "DELETE"',
      },
    ]);
    // Only the fixed work was merged.
    const branch = execFileSync('git', ['branch', '--list', 'weft/*', '--format=%(refname:short)'], {
      cwd: dir,
      encoding: 'utf8',
    })
      .split('\n')
      .find((b) => /^weft\/[^-]+-[^-]+-[^-]+$/.test(b));
    expect(execFileSync('git', ['show', `${branch}:api.json`], { cwd: dir, encoding: 'utf8' })).toContain('"GET"');
  });

  it('never fixed: the provider fails after its fix attempts, only its consumers are skipped, and every view says broken', async () => {
    const { dir } = project('never');
    const r = await weft(['run', 'weft.yaml'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/tasks +1 succeeded, 1 failed, 2 skipped of 4/);
    expect(r.stdout).toContain(
      '  contract     todo-api ✗ broken: contract "todo-api" broken: endpoints[0].method: must be one of "GET", "POST" or "DELETE" (after 1 fix attempt)',
    );
    const byId = Object.fromEntries(summaryOf(dir).tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.docs).toMatchObject({ state: 'succeeded' });
    expect(byId.web).toMatchObject({ state: 'skipped' });
    expect(byId.design).toMatchObject({ state: 'failed', attempts: 2 });

    const status = await weft(['status'], { cwd: dir });
    expect(status.stdout).toContain('contract     todo-api ✗ broken');
    const json = JSON.parse((await weft(['report', '--format', 'json'], { cwd: dir })).stdout);
    expect(json.summary.contracts).toMatchObject([{ name: 'todo-api', verdict: 'broken', brokenAttempts: 2 }]);
    const md = (await weft(['report', '--format', 'md'], { cwd: dir })).stdout;
    expect(md).toContain('## Contracts');
    expect(md).toMatch(/\| todo-api \| design \| web, server \| ✗ broken \| 2 \| contract "todo-api" broken: /);
    const htmlFile = (await weft(['report', '--format', 'html'], { cwd: dir })).stdout.trim();
    expect(readFileSync(htmlFile, 'utf8')).toContain(
      '<tr class="contract" data-contract="todo-api" data-verdict="broken">',
    );
  });
});

describe('contracts: schemaFile and mistakes', () => {
  it('schemaFile is read relative to the plan file, run from another folder', async () => {
    const { dir } = project('once', '');
    mkdirSync(join(dir, 'plans', 'contracts'), { recursive: true });
    writeFileSync(
      join(dir, 'plans', 'contracts', 'api.yaml'),
      'type: object\nrequired: [endpoints]\nproperties:\n  endpoints: { type: array, items: { type: object, properties: { method: { enum: [GET] } } } }\n',
    );
    const plan = readFileSync(join(dir, 'weft.yaml'), 'utf8').replaceAll('task.js', '../task.js');
    writeFileSync(
      join(dir, 'plans', 'plan.yaml'),
      `contracts:\n  - { name: api, schemaFile: contracts/api.yaml, provider: design, consumers: [web] }\n${plan}`,
    );
    const r = await weft(['run', 'plans/plan.yaml', '--no-isolation'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('↻ design attempt 1: contract "api" broken: endpoints[0].method:');
    expect(r.stdout).toContain('contract     api ✓ verified: design → web (broken once, fixed)');
  });

  it('a required key the schema lists under no `properties` is still required: `{}` breaks the contract', async () => {
    const dir = tempProject();
    writeFileSync(
      join(dir, 'plan.yaml'),
      `contracts:
  - { name: api, provider: design, consumers: [server], schema: { type: object, required: [endpoints] } }
tasks:
  - { id: design, run: [echo, '{}'], fixAttempts: 0 }
  - { id: server, run: 'true' }
`,
    );
    const r = await weft(['run', 'plan.yaml', '--no-progress'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('contract "api" broken: endpoints');
    expect(r.stdout).not.toContain('✓ verified');
  });

  it('a .json schemaFile must be JSON: a trailing comma or a comment is refused at its line and column (YAML took them)', async () => {
    const dir = tempProject();
    const plan = (file: string) =>
      `contracts:\n  - { name: api, schemaFile: ${file}, provider: build, consumers: [test] }\ntasks:\n  - { id: build, run: 'true' }\n  - { id: test, run: 'true' }\n`;
    writeFileSync(join(dir, 'api.json'), '{\n  "type": "object",\n  "required": ["endpoints"],\n}\n');
    writeFileSync(join(dir, 'plan.yaml'), plan('api.json'));
    for (const command of ['validate', 'run']) {
      const r = await weft([command, 'plan.yaml'], { cwd: dir });
      expect(r, command).toMatchObject({
        code: 2,
        stdout: '',
        stderr:
          'plan.yaml:2:18 contracts[0].schemaFile: api.json:3:28: bad JSON: a comma before "}": JSON allows no trailing comma — fix: remove the comma\n',
      });
    }
    writeFileSync(join(dir, 'commented.json'), '{\n  // what the API returns\n  "type": "object"\n}\n');
    writeFileSync(join(dir, 'plan.yaml'), plan('commented.json'));
    expect(await weft(['validate', 'plan.yaml'], { cwd: dir })).toMatchObject({
      code: 2,
      stderr:
        'plan.yaml:2:18 contracts[0].schemaFile: commented.json:2:3: bad JSON: a comment: JSON has none — fix: remove it, or write the schema as YAML (.yaml)\n',
    });
    writeFileSync(join(dir, 'yaml.json'), 'type: object\n');
    writeFileSync(join(dir, 'plan.yaml'), plan('yaml.json'));
    expect((await weft(['validate', 'plan.yaml'], { cwd: dir })).stderr).toBe(
      'plan.yaml:2:18 contracts[0].schemaFile: yaml.json:1:1: bad JSON: not JSON from its start: expected a value, found "type" without quotes — fix: write the schema as JSON, or name the file .yaml if it is YAML\n',
    );
    // The same schema, as strict JSON or as YAML (comment and all), is read.
    writeFileSync(join(dir, 'api.json'), '{\n  "type": "object",\n  "required": ["endpoints"]\n}\n');
    writeFileSync(join(dir, 'plan.yaml'), plan('api.json'));
    expect(await weft(['validate', 'plan.yaml'], { cwd: dir })).toMatchObject({ code: 0, stderr: '' });
    writeFileSync(join(dir, 'api.yaml'), '# what the API returns\ntype: object\nrequired: [endpoints,]\n');
    writeFileSync(join(dir, 'plan.yaml'), plan('api.yaml'));
    expect(await weft(['validate', 'plan.yaml'], { cwd: dir })).toMatchObject({ code: 0, stderr: '' });
  });

  it('a missing schemaFile, an unknown consumer and a bad schema: one line each, exit 2', async () => {
    const dir = tempProject();
    writeFileSync(
      join(dir, 'plan.yaml'),
      `contracts:
  - { name: a, schemaFile: nope.json, provider: build, consumers: [test] }
  - { name: b, schema: { type: strng }, provider: build, consumers: [tes] }
tasks:
  - { id: build, run: 'true' }
  - { id: test, run: 'true' }
`,
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `plan.yaml:2:16 contracts[0].schemaFile: nope.json: no such file — fix: give the path relative to the plan's folder`,
    );
    expect(r.stderr).toContain(
      'plan.yaml:3:16 contracts[1].schema: schema is not a JSON Schema weft can check: type "strng" is not a JSON Schema type: did you mean "string"?',
    );
    expect(r.stderr).toContain(
      'plan.yaml:3:70 contracts[1].consumers[0]: unknown task "tes" — fix: did you mean "test"?',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

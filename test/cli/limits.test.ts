import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const PLAN = `workers: 2
tasks:
  - id: hog
    run: [node, -e, "const a = []; for (;;) { a.push(Buffer.alloc(8 << 20, 1)); }"]
    limits: { memory: 100MB, cpus: 1 }
  - id: fine
    run: [node, -e, "const b = Buffer.alloc(20 << 20, 1); setTimeout(() => console.log('ok', b.length), 500)"]
    limits: { memory: 400MB }
`;

describe('limits: the OS stops a task over its memory limit; the others go on', () => {
  it('through cgroups: the task allocating past 100MB fails with "memory limit 100MB exceeded"', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), PLAN);
    const r = await weft(['run', 'plan.yaml'], { cwd: project, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ hog memory limit 100MB exceeded \(cgroup v\d\): killed by SIGKILL/);
    expect(r.stdout).toMatch(/✓ fine/);
  });

  it('through rlimits where cgroups cannot be written', async () => {
    const project = tempProject();
    // An address-space rlimit also counts what a runtime only reserves (Node reserves gigabytes), so
    // the fallback suits native programs; python3 asks for what it uses.
    writeFileSync(
      join(project, 'plan.yaml'),
      `workers: 2
tasks:
  - id: hog
    run: [python3, -c, "a = bytearray(600 << 20)"]
    limits: { memory: 300MB }
  - id: fine
    run: [python3, -c, "a = bytearray(20 << 20); print('ok')"]
    limits: { memory: 300MB }
`,
    );
    const r = await weft(['run', 'plan.yaml'], {
      cwd: project,
      env: { WEFT_CGROUP_ROOT: join(project, 'no-cgroups') },
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ hog memory limit 300MB exceeded \(rlimit\)/);
    expect(r.stdout).toMatch(/✓ fine/);
  });

  it('refuses limits.cpus before the run where no cgroup can cap CPUs (rlimits cannot), with the fix (exit 2)', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      'defaults: { limits: { cpus: 1.5 } }\ntasks:\n  - { id: a, run: "true" }\n  - { id: b, run: "true", limits: { memory: 300MB, cpus: 2 } }\n',
    );
    for (const command of ['validate', 'run']) {
      const r = await weft([command, 'plan.yaml'], { cwd: project, env: { WEFT_CGROUP_ROOT: join(project, 'none') } });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(
        /^plan\.yaml:\d+:\d+ task "a" limits\.cpus: needs a cgroup with the cpu controller that weft may create under .*none, and there is none \(rlimits cannot cap CPUs\) — fix: run weft where it may write cgroups/,
      );
      expect(lines[1]).toMatch(/task "b" limits\.cpus:/);
    }
    // Memory alone still falls back to the rlimit: no refusal.
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", limits: { memory: 300MB } }\n');
    const ok = await weft(['validate', 'plan.yaml'], {
      cwd: project,
      env: { WEFT_CGROUP_ROOT: join(project, 'none') },
    });
    expect(ok.code).toBe(0);
  });

  it('refuses a limit that is not a size, naming the field', async () => {
    const project = tempProject();
    writeFileSync(join(project, 'plan.yaml'), 'tasks:\n  - { id: a, run: "true", limits: { memory: lots } }\n');
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/plan\.yaml:2:\d+ task "a" limits\.memory: expected a size like 2GB/);
  });
});

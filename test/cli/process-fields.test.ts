import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, tempProject, weft } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const FIX = 'only shell tasks and agent CLI tasks \\(claude, codex, gemini\\) run a process';

describe('limits and sandbox: where they act, and where they are refused', () => {
  it('refuses limits and sandbox on LLM API tasks at validation, one line each, exit 2', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      `tasks:
  - id: review
    executor: anthropic
    prompt: review it
    limits: { memory: 2GB }
  - id: summary
    executor: openai
    prompt: sum it up
    sandbox: true
`,
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^plan\\.yaml:5:\\d+ task "review" limits: executor "anthropic" runs no process of its own, so limits would do nothing — fix: remove limits from this task: ${FIX}$`,
      ),
    );
    expect(lines[1]).toMatch(/^plan\.yaml:9:\d+ task "summary" sandbox: executor "openai" runs no process of its own/);
  });

  it('refuses defaults.limits in a plan where no task runs a process', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      'defaults:\n  limits: { memory: 2GB }\ntasks:\n  - { id: review, executor: anthropic, prompt: review it }\n',
    );
    const r = await weft(['validate', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      new RegExp(
        `^plan\\.yaml:2:\\d+ defaults\\.limits: no task of this plan runs a process, so limits would do nothing — fix: remove defaults\\.limits: ${FIX}$`,
      ),
    );
  });

  it('applies defaults.limits to every shell task: the one over it fails with "memory limit 100MB exceeded"', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      `defaults:
  limits: { memory: 100MB }
tasks:
  - id: hog
    run: [node, -e, "const a = []; for (;;) { a.push(Buffer.alloc(8 << 20, 1)); }"]
  - id: review
    executor: anthropic
    prompt: review it
    when: false
`,
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project, timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ hog memory limit 100MB exceeded \(cgroup v\d\): killed by SIGKILL/);
  });
});

describe('labels: where they act', () => {
  it('a run without --dispatch says its labelled tasks run here, whatever their labels', async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      'tasks:\n  - { id: train, run: "true", labels: [gpu] }\n  - { id: plain, run: "true" }\n',
    );
    const r = await weft(['run', 'plan.yaml'], { cwd: project });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'weft: labels choose remote workers under --dispatch; this run has none: task train runs here, whatever their labels\n',
    );
  });
});

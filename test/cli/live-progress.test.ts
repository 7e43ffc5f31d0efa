import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, tempProject } from '../support/weft-cli.js';

beforeAll(ensureBuilt);

const session = `weft-live-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
afterAll(() => tmux('kill-session', '-t', session));

describe('live progress on a terminal', () => {
  it("shows each worker's current task, done/total and elapsed time while it runs", async () => {
    const project = tempProject();
    writeFileSync(
      join(project, 'plan.yaml'),
      [
        'workers: 2',
        'tasks:',
        '  - { id: alpha, run: sleep 3 }',
        '  - { id: beta, run: sleep 3 }',
        '  - { id: gamma, run: sleep 0.2, needs: [alpha] }',
      ].join('\n'),
    );
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '100',
      '-y',
      '20',
      '-c',
      project,
      `${process.execPath} ${CLI} run plan.yaml; sleep 30`,
    );
    expect(started.status).toBe(0);
    let screen = '';
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 100));
      screen = tmux('capture-pane', '-p', '-t', session).stdout;
      if (/w0 +alpha/.test(screen) && /w1 +beta/.test(screen)) break;
    }
    expect(screen).toMatch(/0\/3 done · elapsed \d/);
    expect(screen).toMatch(/w0 +alpha \d/);
    expect(screen).toMatch(/w1 +beta \d/);
    for (let i = 0; i < 80 && !screen.includes('Run '); i++) {
      await new Promise((r) => setTimeout(r, 100));
      screen = tmux('capture-pane', '-p', '-t', session).stdout;
    }
    expect(screen).toMatch(/tasks +3 succeeded, 0 failed, 0 skipped of 3/);
    expect(screen).not.toMatch(/w0 +idle/); // the board is cleared at the end
  }, 20_000);
});

/**
 * A check over a real agent's work (#13): the `weft` CLI runs the real `claude` binary against a
 * FakeLlmServer on 127.0.0.1; a shell check that `verifies` the agent's task fails on the merged
 * result, its output goes back into the agent's same session, the fix merges and the check passes.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import { e2eProject, ensureBuilt, jsonLines, sessionsOf, step, worktreeIn, writesFile } from './e2e-kit.js';

beforeAll(ensureBuilt);

/** The check: api.txt must say ok; it says what it found when not. */
const check = `const fs = require('fs');
const v = fs.existsSync('api.txt') ? fs.readFileSync('api.txt', 'utf8').trim() : '(missing)';
if (v !== 'ok') { console.error('BUILD ERROR: api.txt says ' + v); process.exit(1); }
console.log('build ok');
`;

describe('Real claude under a check', () => {
  it('a failing check goes back into the same session, and the fix merges', { timeout: 180_000 }, async (ctx) => {
    const plan = {
      name: 'checked',
      workers: 2,
      tasks: [
        { id: 'backend', executor: 'claude', prompt: 'Write the API [task-backend]' },
        { id: 'build', verifies: ['backend'], run: ['node', 'check.js'] },
      ],
    };
    const p = await e2eProject(ctx, {
      files: { 'check.js': check, 'plan.yaml': `${JSON.stringify(plan, null, 2)}\n` },
    });
    const api = (r: RecordedRequest): string => join(worktreeIn(r, p.repo, 'backend'), 'api.txt');
    const checkTold = (r: RecordedRequest): boolean => r.userTexts.some((u) => u.includes('BUILD ERROR'));
    // The fix's turns carry the first prompt too (same session): its script is matched first.
    const fix = p.llm.script(
      { name: 'fix', match: checkTold },
      (r) => step.tool('Read', { file_path: api(r) }),
      (r) => step.writeFile(api(r), 'ok\n'),
      step.text('api.txt fixed'),
    );
    p.llm.script({ marker: '[task-backend]' }, ...writesFile(p.repo, 'backend', 'api.txt', 'broken\n'));

    const r = await p.weft(['run', 'plan.yaml', '--json']);

    expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    const runId = String(events.find((e) => e.type === 'run.created')?.['runId']);
    // The fix merged, and the check passed on it.
    expect(p.git('show', `weft/${runId}:api.txt`)).toBe('ok\n');
    const ended = (id: string) => events.filter((e) => e.task === id && /^task\.(succeeded|failed)$/.test(e.type));
    expect(ended('build').map((e) => e.type)).toEqual(['task.succeeded']);
    expect(ended('backend').map((e) => e.type)).toEqual(['task.succeeded', 'task.succeeded']);
    // The check's verdict went to backend as a fix…
    expect(events.filter((e) => e.type === 'task.retrying' && e.task === 'backend')).toEqual([
      expect.objectContaining({
        attempt: 1,
        error: expect.objectContaining({ code: 'WEFT_CHECK_FAILED', message: 'check build: broken by backend' }),
      }),
    ]);
    // …in the session the task started (claude --resume), with the check's output in the prompt.
    const first = fix.requests[0] as RecordedRequest;
    const session = first.headers['x-claude-code-session-id'];
    expect(typeof session).toBe('string');
    expect(sessionsOf(p.llm, '[task-backend]')).toEqual(new Set([session]));
    const told = first.userTexts.at(-1) as string;
    expect(told).toContain(`The check "build", which verifies backend, failed on the merged result in weft/${runId}`);
    expect(told).toContain('BUILD ERROR: api.txt says broken');
    expect(fix.requests).toHaveLength(3);
    const sessions = events.filter((e) => e.type === 'task.output' && e.task === 'backend').map((e) => e.sessionId);
    expect(new Set(sessions.filter((s) => s !== undefined))).toEqual(new Set([session]));
    expect(p.llm.verify()).toEqual([]);
  });
});

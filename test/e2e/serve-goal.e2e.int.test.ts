/**
 * `POST /api/runs {goal}` on `weft serve`: the AI planner (the `anthropic` API executor against a
 * FakeLlmServer) plans the goal in a run of its own, then the plan runs under the id the API
 * answered at once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { e2eProject, ensureBuilt, step } from './e2e-kit.js';
import { api, follow, startServe, waitFor } from '../support/serve.js';

beforeAll(ensureBuilt);

const TIMEOUT = 180_000;
const GOAL = 'Build a todo app with a REST API and a web UI';
const PLANNER = 'You are the planner of weft';

const PLAN = {
  analysis: { complexity: 'simple', reasons: ['one API and one UI'], taskCount: 2 },
  tasks: [
    { id: 'api', title: 'REST API', prompt: 'Write the REST API [api-task].', estimate: '20m' },
    { id: 'ui', title: 'Web UI', prompt: 'Write the web UI [ui-task].', needs: ['api'], estimate: '30m' },
  ],
} as const;

describe('weft serve: a run from a goal', () => {
  it(
    'POST /api/runs {goal}: answers the run id at once; the planner run plans it, then the plan runs under that id',
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: PLANNER }, step.json(PLAN));
      p.llm.script({ marker: '[api-task]' }, step.text('API done'));
      p.llm.script({ marker: '[ui-task]' }, step.text('UI done'));
      const s = await startServe(p.repo, { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), WEFT_TOKEN: '' });
      try {
        const bad = await api(s, '/api/runs', { goal: GOAL, planner: 'anthropic', failFast: true });
        expect(bad.status).toBe(400);
        const res = await api(s, '/api/runs', { goal: GOAL, planner: 'anthropic', executor: 'anthropic', workers: 2 });
        expect(res.status, res.text).toBe(201);
        const { runId, plannerRunId } = res.json() as { runId: string; plannerRunId: string };
        expect(plannerRunId).toBe(`${runId}-planner`);
        await waitFor(async () => (await api(s, `/api/runs/${runId}`)).status === 200, 'the planned run', 120_000);
        const end = await follow(s, runId, (type) => type === 'run.finished');
        expect(end.at(-1)?.data).toMatchObject({ status: 'succeeded' });
        const detail = (await api(s, `/api/runs/${runId}`)).json() as {
          run: { workers: number };
          tasks: { id: string; executor: string; state: string }[];
        };
        expect(detail.tasks.map((t) => [t.id, t.executor, t.state])).toEqual([
          ['api', 'anthropic', 'succeeded'],
          ['ui', 'anthropic', 'succeeded'],
        ]);
        expect(detail.run.workers).toBe(2);
        const planner = (await api(s, `/api/runs/${plannerRunId}`)).json() as { run: { status: string } };
        expect(planner.run.status).toBe('succeeded');
        expect(p.llm.verify()).toEqual([]);
      } finally {
        await s.stop();
      }
    },
  );
  it(
    "a detached run's progress notices (not journaled) reach the event stream while it runs",
    { timeout: TIMEOUT },
    async (ctx) => {
      const p = await e2eProject(ctx);
      p.llm.script({ marker: '[write-task]' }, step.text('written'));
      const s = await startServe(p.repo, { ...p.env, XDG_STATE_HOME: join(p.home, 'state'), WEFT_TOKEN: '' });
      try {
        const go = join(p.repo, 'go');
        const plan = {
          name: 'progress',
          tasks: [
            { id: 'wait', run: ['sh', '-c', `while [ ! -f ${go} ]; do sleep 0.05; done`] },
            { id: 'write', needs: ['wait'], executor: 'anthropic', prompt: 'Write it [write-task].' },
          ],
        };
        const res = await api(s, '/api/runs', { plan, isolation: false });
        expect(res.status, res.text).toBe(201);
        const { runId } = res.json() as { runId: string };
        const seen = follow(s, runId, (type) => type === 'run.finished');
        await new Promise((r) => setTimeout(r, 300)); // the stream is open before the task starts
        writeFileSync(go, '');
        const events = await seen;
        expect(events.at(-1)?.data).toMatchObject({ status: 'succeeded' });
        const progress = events.filter((e) => e.type === 'task.progress');
        expect(progress.length).toBeGreaterThan(0);
        expect(progress[0]?.data).toMatchObject({ task: 'write', progress: { kind: 'usage' } });
      } finally {
        await s.stop();
      }
    },
  );
});

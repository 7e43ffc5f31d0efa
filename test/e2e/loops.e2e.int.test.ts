/**
 * The `orion-cycle` template with real agents (#14): the `weft` CLI runs the real `claude` binary
 * against a FakeLlmServer on 127.0.0.1. Security vetoes in iteration 1; the loop runs the group
 * again, each agent in its own session told why; everything passes in iteration 2 and deploy runs once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import { loadTemplate, renderTemplate } from '../../src/plan/templates.js';
import { e2eProject, ensureBuilt, jsonLines, step } from './e2e-kit.js';

beforeAll(ensureBuilt);

const said = (text: string) => (r: RecordedRequest) => r.userTexts.some((u) => u.includes(text));

describe('orion-cycle with the real claude', () => {
  it(
    'vetoed in iteration 1, approved in iteration 2: sessions go on with the feedback, deploy runs once',
    { timeout: 300_000 },
    async (ctx) => {
      const plan = renderTemplate(loadTemplate('orion-cycle'), {
        vars: { goal: 'Add CSV export to the reports page', deploy: 'echo deployed' },
      }).text;
      const p = await e2eProject(ctx, { files: { 'weft.yaml': plan } });
      const code = p.llm.script(
        { name: 'code', match: said('Implement the goal in this repository') },
        step.text('Wrote the CSV export.'),
        step.text('Built the query with parameters.'),
      );
      p.llm.script(
        { name: 'ui', match: said('Review the user interface') },
        step.json({ score: 8, issues: [] }),
        step.json({ score: 8, issues: [] }),
      );
      p.llm.script(
        { name: 'tests', match: said('Write tests for the behaviour') },
        step.json({ passRate: 0.9, failing: [] }),
        step.json({ passRate: 1, failing: [] }),
      );
      const security = p.llm.script(
        { name: 'security', match: said('Review the change for security') },
        step.json({ veto: 'SQL built from input', findings: ['src/export.ts:12 string concatenation'] }),
        step.json({ veto: '', findings: [] }),
      );

      const r = await p.weft(['run', 'weft.yaml', '--json'], 280_000);

      expect(r.code, r.stdout.slice(-3000) + r.stderr).toBe(0);
      const events = jsonLines(r.stdout);
      const ended = events.filter((e) => e.type === 'loop.iteration.ended');
      expect(ended.map((e) => [e['iteration'], e['outcome']])).toEqual([
        [1, 'repeat'],
        [2, 'passed'],
      ]);
      expect(ended[0]?.['reasons']).toEqual(["approve blocked: tasks.security.output.veto = 'SQL built from input'"]);
      expect(events.filter((e) => e.type === 'task.started' && e.task === 'deploy')).toHaveLength(1);
      // Iteration 2 continued code's session, and told it why iteration 1 did not pass.
      const [first, second] = code.requests as [RecordedRequest, RecordedRequest];
      expect(first.headers['user-agent']).toMatch(/^claude-cli\//);
      expect(typeof first.headers['x-claude-code-session-id']).toBe('string');
      expect(second.headers['x-claude-code-session-id']).toBe(first.headers['x-claude-code-session-id']);
      const told = second.userTexts.at(-1) as string;
      expect(told).toContain('This task runs again: iteration 2 of a loop. Feedback on your previous work:');
      expect(told).toContain("- approve blocked: tasks.security.output.veto = 'SQL built from input'");
      expect(told).toContain('"veto": "SQL built from input"');
      expect((security.requests[1] as RecordedRequest).userTexts.at(-1)).toContain('iteration 2 of at most 5');
      expect(p.llm.verify()).toEqual([]);
    },
  );
});

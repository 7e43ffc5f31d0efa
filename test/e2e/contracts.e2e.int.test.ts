/**
 * Contracts with the real `claude` binary against the FakeLlmServer: the provider's first answer
 * breaks the contract, the mismatch goes back to the same session, its second answer is verified,
 * and the consumer is told the contract and gets the verified API. Ends with `verify()` == [].
 */
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../support/fake-llm/fake-llm-server.js';
import { e2eProject, ensureBuilt, runIdOf, sessionsOf, step } from './e2e-kit.js';
import { beforeAll } from 'vitest';

beforeAll(ensureBuilt);

const SCHEMA = {
  type: 'object',
  required: ['endpoints'],
  properties: {
    endpoints: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['method', 'path'], properties: { method: { enum: ['GET', 'POST'] } } },
    },
  },
};

const PLAN = {
  name: 'contract-demo',
  workers: 2,
  contracts: [
    { name: 'todos-api', description: 'The todo REST API.', provider: 'design', consumers: ['ui'], schema: SCHEMA },
  ],
  tasks: [
    { id: 'design', executor: 'claude', prompt: 'Design the todo API [task-design]' },
    { id: 'ui', executor: 'claude', prompt: 'Build the UI against it [task-ui]' },
  ],
};

describe('contracts with the real claude binary', () => {
  it(
    'a broken first answer goes back to the same session with the contract, the path and the problem; the fixed one reaches the consumer',
    { timeout: 180_000 },
    async (ctx) => {
      const p = await e2eProject(ctx, { files: { 'plan.yaml': `${JSON.stringify(PLAN, null, 2)}\n` } });
      const fixed = { endpoints: [{ method: 'GET', path: '/todos' }] };
      const design = p.llm.script(
        { marker: '[task-design]' },
        step.text('```json\n{"endpoints": [{"method": "FETCH", "path": "/todos"}]}\n```'),
        step.text(JSON.stringify(fixed)),
      );
      const ui = p.llm.script({ marker: '[task-ui]' }, step.text('Built the UI.'));

      const r = await p.weft(['run', 'plan.yaml']);

      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(
        '↻ design attempt 1: contract "todos-api" broken: endpoints[0].method: must be one of',
      );
      expect(r.stdout).toContain('contract     todos-api ✓ verified: design → ui (broken once, fixed)');
      const [first, second] = design.requests as [RecordedRequest, RecordedRequest];
      expect(design.requests).toHaveLength(2);
      // The provider was told it provides the contract, with its schema.
      expect(first.userTexts.join('\n')).toContain('You provide the contract "todos-api" to ui. The todo REST API.');
      expect(first.userTexts.join('\n')).toContain(`Schema of "todos-api": ${JSON.stringify(SCHEMA)}`);
      // The mismatch came back to the same session.
      expect(second.userTexts.at(-1)).toContain(
        'Your output breaks the contract "todos-api", which you provide to ui: endpoints[0].method: must be one of',
      );
      expect(sessionsOf(p.llm, '[task-design]').size).toBe(1);
      // The consumer was told the contract and got the verified answer as the provider's output.
      const consumer = (ui.requests[0] as RecordedRequest).userTexts.join('\n');
      expect(consumer).toContain('You build against the contract "todos-api", provided by "design".');
      expect(consumer).toContain(`--- design ---\n${JSON.stringify(fixed, null, 2)}`);
      expect(runIdOf(r.stdout)).toMatch(/^\d{8}-/);
      expect(p.llm.verify()).toEqual([]);
    },
  );
});

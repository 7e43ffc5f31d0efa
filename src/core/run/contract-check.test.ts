import { describe, expect, it } from 'vitest';
import { compilePlan, type ExecutorCatalog } from '../plan/compile.js';
import type { ResolvedTask } from '../plan/graph.js';
import { verifyContracts } from './contract-check.js';
import { contractVerdicts } from './contract-verdicts.js';
import { foldRun } from './run-state.js';
import type { RunEvent } from './events.js';

const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);
const SCHEMA = {
  type: 'object',
  required: ['endpoints'],
  properties: {
    endpoints: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['method'], properties: { method: { enum: ['GET', 'POST'] } } },
    },
  },
};
const { graph } = compilePlan(
  {
    contracts: [{ name: 'api', schema: SCHEMA, provider: 'design', consumers: ['web', 'server'] }],
    tasks: [
      { id: 'design', run: 'x' },
      { id: 'web', run: 'x' },
      { id: 'server', run: 'x' },
    ],
  },
  { executors },
);
const [design, web] = graph.tasks as [ResolvedTask, ResolvedTask];

describe('verifyContracts', () => {
  it('a matching structured output is kept, and the result says what it was verified against', () => {
    const output = { endpoints: [{ method: 'GET' }] };
    expect(verifyContracts(design, { exitCode: 0, output })).toEqual({
      ok: true,
      result: { exitCode: 0, output, contracts: ['api'] },
    });
  });

  it('without structured output, the JSON in the final answer is checked and becomes the output', () => {
    const text = 'Done. Here is the contract:\n```json\n{"endpoints": [{"method": "POST"}]}\n```';
    expect(verifyContracts(design, { text })).toEqual({
      ok: true,
      result: { text, output: { endpoints: [{ method: 'POST' }] }, contracts: ['api'] },
    });
  });

  it('a mismatch fails with the contract, the path and the problem, and feedback for a fix', () => {
    const verdict = verifyContracts(design, { exitCode: 0, output: { endpoints: [{ method: 'FETCH' }] } });
    expect(verdict).toMatchObject({
      ok: false,
      failure: {
        code: 'WEFT_CONTRACT_BROKEN',
        message: 'contract "api" broken: endpoints[0].method: must be one of "GET" or "POST"',
      },
    });
    const fix = verdict?.ok === false ? verdict.failure.fix : undefined;
    expect(fix).toContain(
      'Your output breaks the contract "api", which you provide to web and server: endpoints[0].method: must be one of "GET" or "POST".',
    );
    expect(fix).toContain(JSON.stringify(SCHEMA));
  });

  it('no output at all is a mismatch too', () => {
    expect(verifyContracts(design, { exitCode: 0, text: 'I did it' })).toMatchObject({
      ok: false,
      failure: { message: 'contract "api" broken: no JSON output was found' },
    });
  });

  it('a consumer is not checked', () => {
    expect(verifyContracts(web, { exitCode: 0 })).toBeUndefined();
  });
});

describe('contractVerdicts', () => {
  const ref = [{ name: 'api', provider: 'design', consumers: ['web'] }];
  const base: RunEvent[] = [
    { type: 'run.created', at: 0, runId: 'r', plan: 'p', workers: 1, mode: 'parallel', tasks: ['design', 'web'] },
    { type: 'task.started', at: 1, task: 'design', attempt: 1, worker: 0 },
  ];
  const broken = {
    message: 'contract "api" broken: endpoints: must NOT have fewer than 1 items',
    code: 'WEFT_CONTRACT_BROKEN' as const,
  };

  it('verified after a fix', () => {
    const state = foldRun([
      ...base,
      { type: 'task.retrying', at: 2, task: 'design', attempt: 1, error: broken, retryAt: 2 },
      { type: 'task.started', at: 2, task: 'design', attempt: 2, worker: 0 },
      { type: 'task.succeeded', at: 3, task: 'design', attempt: 2, result: { contracts: ['api'] } },
    ]);
    expect(contractVerdicts(state, ref)).toEqual([
      { ...ref[0], verdict: 'verified', brokenAttempts: 1, problem: broken.message },
    ]);
  });

  it('broken when the provider failed on it; unchecked when it failed otherwise or never ran', () => {
    const failed = (error: typeof broken | { message: string }) =>
      foldRun([...base, { type: 'task.failed', at: 2, task: 'design', attempt: 1, error }]);
    expect(contractVerdicts(failed({ ...broken, message: `${broken.message} (after 2 fix attempts)` }), ref)).toEqual([
      { ...ref[0], verdict: 'broken', brokenAttempts: 1, problem: `${broken.message} (after 2 fix attempts)` },
    ]);
    expect(contractVerdicts(failed({ message: 'exited with code 1' }), ref)[0]?.verdict).toBe('unchecked');
    expect(contractVerdicts(foldRun(base.slice(0, 1)), ref)[0]).toMatchObject({
      verdict: 'unchecked',
      brokenAttempts: 0,
    });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../core/errors.js';
import { PlanSchema } from '../../core/plan/plan-schema.js';
import { estimate } from '../../core/schedule/simulate.js';
import { compilePlan, type ExecutorCatalog } from '../../core/plan/compile.js';
import { importPlan } from './index.js';
import { parseWfCommons } from './wfcommons.js';

// The benchmark data is part of the repository (bench/data/, see its README); WEFT_BENCH_DATA points elsewhere.
const DATA = process.env.WEFT_BENCH_DATA ?? fileURLToPath(new URL('../../../bench/data/', import.meta.url));
const WF = `${DATA.replace(/\/?$/, '/')}wfcommons/`;
const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);

function summary(): { file: string; tasks: number; edges: number; runtime: number; cp: number }[] {
  const [header, ...rows] = readFileSync(`${WF}SUMMARY.csv`, 'utf8').trim().split('\n');
  const cols = (header ?? '').split(',');
  return rows.map((row) => {
    const cells = row.split(',');
    const at = (name: string): string => cells[cols.indexOf(name)] ?? '';
    return {
      file: at('file'),
      tasks: Number(at('n_tasks')),
      edges: Number(at('n_edges')),
      runtime: Number(at('sum_runtime_s')),
      cp: Number(at('critical_path_s')),
    };
  });
}

function importError(doc: unknown): string {
  try {
    parseWfCommons(typeof doc === 'string' ? doc : JSON.stringify(doc), 'trace.json');
  } catch (error) {
    if (isWeftError(error) && error.code === 'WEFT_IMPORT') return error.message;
    throw error;
  }
  throw new Error('expected a WEFT_IMPORT error');
}

describe('parseWfCommons on the WfInstances traces', () => {
  const rows = summary();

  it('has a summary row for every trace', () => {
    expect(rows.map((r) => r.file).sort()).toEqual(
      readdirSync(WF)
        .filter((f) => f.endsWith('.json'))
        .sort(),
    );
  });

  it.each(rows)('$file: tasks, edges, summed runtime and critical path match SUMMARY.csv', (row) => {
    const plan = importPlan(readFileSync(`${WF}${row.file}`, 'utf8'), 'wfcommons', row.file);
    expect(PlanSchema.safeParse(plan).success).toBe(true);
    const { graph } = compilePlan(plan, { executors, file: row.file });
    expect(graph.tasks).toHaveLength(row.tasks);
    expect(graph.deps.reduce((s, d) => s + d.length, 0)).toBe(row.edges);
    // Estimates are kept to the millisecond; the summary rounds to 1/100 s.
    const slack = 0.005 + graph.tasks.length * 0.0005;
    expect(Math.abs(graph.totalWorkMs / 1000 - row.runtime)).toBeLessThanOrEqual(slack);
    expect(Math.abs(graph.criticalPathMs / 1000 - row.cp)).toBeLessThanOrEqual(slack);
    expect(estimate(graph, { workers: graph.tasks.length }).makespan).toBe(graph.criticalPathMs);
  });
});

describe('parseWfCommons', () => {
  const trace = (spec: unknown[], exec: unknown[]) => ({
    name: 'wf',
    workflow: { specification: { tasks: spec }, execution: { makespanInSeconds: 9, tasks: exec } },
  });
  const ok = trace(
    [
      { id: 'a', name: 'prep', parents: [], children: ['b'] },
      { id: 'b', name: 'b', parents: ['a'], children: [] },
      { id: 'c', name: 'c', parents: [], children: ['b'] },
    ],
    [
      { id: 'b', runtimeInSeconds: 2.5 },
      { id: 'a', runtimeInSeconds: 1 },
      { id: 'c', runtimeInSeconds: 0.0004 },
    ],
  );

  it('joins runtimes by id and takes both parents and children as dependencies', () => {
    expect(parseWfCommons(JSON.stringify(ok), 'x.json')).toEqual({
      name: 'wf',
      tasks: [
        { id: 'a', title: 'prep', run: 'true', estimate: 1 },
        { id: 'b', run: 'true', needs: ['a', 'c'], estimate: 2.5 },
        { id: 'c', run: 'true', estimate: 0.0004 },
      ],
    });
  });

  it('rewrites ids weft cannot use and keeps the original as the title', () => {
    const long = `NFCORE.${'X'.repeat(120)}.STATS_37`;
    const plan = parseWfCommons(
      JSON.stringify(
        trace(
          [
            { id: long, parents: [] },
            { id: 'a b', parents: [long] },
          ],
          [
            { id: long, runtimeInSeconds: 1 },
            { id: 'a b', runtimeInSeconds: 1 },
          ],
        ),
      ),
      'x.json',
    );
    const [first, second] = plan.tasks;
    expect(first?.id).toHaveLength(100);
    expect(first?.id.endsWith('.STATS_37')).toBe(true);
    expect(first?.title).toBe(long);
    expect(second).toMatchObject({ id: 'a_b', title: 'a b', needs: [first?.id] });
    expect(PlanSchema.safeParse(plan).success).toBe(true);
  });

  it('names the file and field of malformed input', () => {
    expect(importError('{')).toMatch(/^trace\.json: \(file\): not valid JSON/);
    expect(importError({ workflow: {} })).toBe(
      'trace.json: workflow.specification.tasks: expected a list of tasks, got nothing',
    );
    expect(importError(trace([{ id: 'a' }], [{ id: 'a', runtimeInSeconds: -1 }]))).toBe(
      'trace.json: workflow.execution.tasks[0].runtimeInSeconds: expected a non-negative number of seconds, got number -1',
    );
    expect(importError(trace([{ id: 'a' }], [{ id: 'a', runtime: 3 }]))).toBe(
      'trace.json: workflow.execution.tasks[0].runtimeInSeconds: expected a non-negative number of seconds, got nothing',
    );
    expect(importError(trace([{ id: 'a', parents: ['z'] }], [{ id: 'a', runtimeInSeconds: 1 }]))).toBe(
      'trace.json: workflow.specification.tasks[0].parents[0]: unknown task "z"',
    );
    expect(importError(trace([{ id: 'a' }, { id: 'b' }], [{ id: 'a', runtimeInSeconds: 1 }]))).toBe(
      'trace.json: workflow.specification.tasks[1].id: task "b" has no entry in workflow.execution.tasks, so no runtime',
    );
    expect(importError(trace([{ id: 'a' }, { id: 'a' }], []))).toBe(
      'trace.json: workflow.specification.tasks[1].id: duplicate task id "a" (first at tasks[0])',
    );
  });
});

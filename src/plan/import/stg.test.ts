import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../core/errors.js';
import { PlanSchema } from '../../core/plan/plan-schema.js';
import { estimate } from '../../core/schedule/simulate.js';
import { compilePlan, type ExecutorCatalog } from '../../core/plan/compile.js';
import { parseStg } from './stg.js';

// The benchmark data is part of the repository (bench/data/, see its README); WEFT_BENCH_DATA points elsewhere.
const DATA = process.env.WEFT_BENCH_DATA ?? fileURLToPath(new URL('../../../bench/data/', import.meta.url));
const STG = `${DATA.replace(/\/?$/, '/')}stg/`;
const executors: ExecutorCatalog = new Map([['shell', { requires: 'run' as const }]]);

interface SummaryRow {
  readonly file: string;
  readonly tasks: number;
  readonly edges: number;
  readonly work: number;
  readonly cp: number;
}

function summary(): SummaryRow[] {
  const [header, ...rows] = readFileSync(`${STG}SELECTED_SUMMARY.csv`, 'utf8').trim().split('\n');
  const cols = (header ?? '').split(',');
  const at = (cells: string[], name: string): string => cells[cols.indexOf(name)] ?? '';
  return rows.map((row) => {
    const cells = row.split(',');
    return {
      file: at(cells, 'file'),
      tasks: Number(at(cells, 'n_tasks')),
      edges: Number(at(cells, 'n_edges_excl_dummy')),
      work: Number(at(cells, 'total_work')),
      cp: Number(at(cells, 'cp_length')),
    };
  });
}

function load(rel: string) {
  const text = readFileSync(`${STG}${rel}`, 'utf8');
  const plan = parseStg(text, rel);
  return { text, plan, compiled: compilePlan(plan, { executors, file: rel }) };
}

function importError(text: string): string {
  try {
    parseStg(text, 'bad.stg');
  } catch (error) {
    if (isWeftError(error) && error.code === 'WEFT_IMPORT') return error.message;
    throw error;
  }
  throw new Error('expected a WEFT_IMPORT error');
}

describe('parseStg on the Standard Task Graph Set', () => {
  const files = ['50', '100', '300'].flatMap((dir) =>
    readdirSync(`${STG}${dir}`)
      .filter((f) => f.endsWith('.stg'))
      .map((f) => `${dir}/${f}`),
  );

  it('finds the 35 graphs', () => {
    expect(files).toHaveLength(35);
  });

  it.each(files)('%s: the critical path equals the "CP Length" of its comments', (rel) => {
    const { text, plan, compiled } = load(rel);
    expect(PlanSchema.safeParse(plan).success).toBe(true);
    const stated = Number(/CP Length\s*:\s*(\d+)/.exec(text)?.[1]);
    expect(stated).toBeGreaterThan(0);
    expect(compiled.graph.criticalPathMs / 1000).toBe(stated);
  });

  it.each(summary())('$file: tasks, edges and work match SELECTED_SUMMARY.csv', (row) => {
    const { compiled } = load(row.file);
    const { graph } = compiled;
    expect(graph.tasks).toHaveLength(row.tasks);
    expect(graph.deps.reduce((s, d) => s + d.length, 0)).toBe(row.edges);
    expect(graph.totalWorkMs / 1000).toBe(row.work);
    expect(graph.criticalPathMs / 1000).toBe(row.cp);
  });

  it.each(files)('%s: estimate() with one worker per task equals the critical path', (rel) => {
    const { graph } = load(rel).compiled;
    expect(estimate(graph, { workers: graph.tasks.length }).makespan).toBe(graph.criticalPathMs);
  });
});

describe('parseStg', () => {
  const tiny = ['2', '0 0 0', '1 3 1 0', '2 4 1 1', '3 0 1 2', '# CP Length : 7'].join('\n');

  it('drops the zero-time entry and exit dummies and counts each time unit as a second', () => {
    const plan = parseStg(tiny, 'dir/tiny.stg');
    expect(plan).toEqual({
      name: 'tiny',
      description: 'CP Length : 7',
      tasks: [
        { id: 't1', run: 'true', estimate: 3 },
        { id: 't2', run: 'true', needs: ['t1'], estimate: 4 },
      ],
    });
  });

  it('keeps a dummy that carries work', () => {
    const plan = parseStg(['1', '0 2 0', '1 3 1 0', '2 0 1 1'].join('\n'), 'x.stg');
    expect(plan.tasks.map((t) => [t.id, t.needs ?? []])).toEqual([
      ['t0', []],
      ['t1', ['t0']],
    ]);
  });

  it('names the file and line of malformed input', () => {
    expect(importError('')).toMatch(/^bad\.stg:1: empty file/);
    expect(importError('2\n0 0 0\n1 3 x 0')).toBe('bad.stg:3: expected a non-negative integer, got "x"');
    expect(importError('2\n0 0 0\n1 3 2 0\n2 4 1 1\n3 0 1 2')).toBe(
      'bad.stg:3: task 1 declares 2 predecessors but lists 1',
    );
    expect(importError('2\n0 0 0\n2 3 1 0')).toBe('bad.stg:3: expected task 1, got task 2');
    expect(importError('2\n0 0 0\n1 3 1 9')).toBe('bad.stg:3: task 1 names predecessor 9, but ids run from 0 to 3');
    expect(importError('2\n0 0 0\n1 3 1 0')).toBe('bad.stg:3: expected 4 task lines (tasks 0 to 3), got 2');
    expect(importError(`${tiny}\n4 1 0`)).toMatch(/^bad\.stg:7: expected only comments after the 4 task lines/);
    expect(importError('2 3')).toMatch(/^bad\.stg:1: expected the number of tasks alone/);
  });

  it('leaves cycles to plan validation, which names them', () => {
    const plan = parseStg(['2', '0 0 0', '1 3 1 2', '2 4 1 1', '3 0 1 2'].join('\n'), 'cyc.stg');
    expect(() => compilePlan(plan, { executors, file: 'cyc.stg' })).toThrow(/dependency cycle/);
  });
});

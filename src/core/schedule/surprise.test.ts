import { describe, expect, it } from 'vitest';
import { compilePlan } from '../plan/compile.js';
import type { Graph } from '../plan/graph.js';
import { TEST_EXECUTORS } from '../testing/arbitraries.js';
import { criticalPathScore } from './search/index.js';
import { departsFromEstimate, expectedPathLengths, expectedPathScore } from './surprise.js';

const compile = (tasks: readonly Record<string, unknown>[]): Graph =>
  compilePlan({ tasks }, { executors: TEST_EXECUTORS }).graph;

/** `fork` feeds two 10 s branches; `line` feeds one; both paths are 11 s on the estimates. */
const forkAndLine = (): Graph =>
  compile([
    { id: 'line', run: 'x', estimate: '1s' },
    { id: 'fork', run: 'x', estimate: '1s' },
    { id: 'after-line', run: 'x', estimate: '10s', needs: ['line'] },
    { id: 'left', run: 'x', estimate: '10s', needs: ['fork'] },
    { id: 'right', run: 'x', estimate: '10s', needs: ['fork'] },
  ]);

describe('departsFromEstimate', () => {
  it('an ended task departs when it ends more than the tolerance early or late', () => {
    expect(departsFromEstimate(60_000, 60_000, true)).toBe(false);
    expect(departsFromEstimate(60_000, 61_000, true)).toBe(false); // 1.7% late: within 2%
    expect(departsFromEstimate(60_000, 62_000, true)).toBe(true);
    expect(departsFromEstimate(60_000, 58_000, true)).toBe(true); // early is a surprise too
    expect(departsFromEstimate(60_000, 66_000, true, 0.2)).toBe(false);
  });

  it('a running task departs only once it runs past its estimate and the tolerance', () => {
    expect(departsFromEstimate(60_000, 30_000, false)).toBe(false); // not done yet is no news
    expect(departsFromEstimate(60_000, 61_000, false)).toBe(false);
    expect(departsFromEstimate(60_000, 61_201, false)).toBe(true);
  });
});

describe('expectedPathLengths', () => {
  it('is the critical-path rank when durations are certain (spread 0)', () => {
    const graph = forkAndLine();
    expect(Array.from(expectedPathLengths(graph, 0))).toEqual(Array.from(graph.rank));
  });

  it('a task that forks into paths that can each run long expects more ahead of it than one path of the same estimate', () => {
    const graph = forkAndLine();
    const length = expectedPathLengths(graph, 0.5);
    const at = (id: string): number => length[graph.index.get(id) as number] as number;
    // One path: its mean is the sum of the estimates, however uncertain.
    expect(at('line')).toBeCloseTo(11_000, 6);
    expect(at('after-line')).toBeCloseTo(10_000, 6);
    // Two: the longer of two uncertain 10 s tasks is, on average, longer than 10 s.
    expect(at('fork')).toBeGreaterThan(at('line') + 1_000);
    expect(at('fork')).toBeLessThan(at('line') + 10_000);
  });

  it('rejects a negative or missing spread', () => {
    expect(() => expectedPathLengths(forkAndLine(), -1)).toThrow(
      'Expected `spread` to be a non-negative number, got `-1`',
    );
    expect(() => expectedPathLengths(forkAndLine(), Number.NaN)).toThrow(RangeError);
  });
});

describe('expectedPathScore', () => {
  it('ranks the fork above the line, where critical path ties them and keeps declaration order', () => {
    const graph = forkAndLine();
    const [line, fork] = [graph.index.get('line') as number, graph.index.get('fork') as number];
    const cp = criticalPathScore(graph);
    expect(cp[line]).toBeGreaterThan(cp[fork] as number);
    const score = expectedPathScore(graph);
    expect(score[fork]).toBeGreaterThan(score[line] as number);
  });

  it('ties fall back to priority, then declaration order', () => {
    const graph = compile([
      { id: 'a', run: 'x', estimate: '1s' },
      { id: 'b', run: 'x', estimate: '1s', priority: 5 },
      { id: 'c', run: 'x', estimate: '1s' },
    ]);
    expect(Array.from(expectedPathScore(graph))).toEqual([2, 3, 1]);
  });
});

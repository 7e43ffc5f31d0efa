import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildGraph, DEFAULT_ESTIMATE_MS, distinct, pathIds, type Graph } from './graph.js';
import { writeScopesOverlap } from './glob-overlap.js';
import { longestPath } from '../schedule/simulate.js';
import { planArbitrary, TEST_EXECUTORS } from '../testing/arbitraries.js';
import { compilePlan } from './compile.js';

const compile = (tasks: readonly Record<string, unknown>[]): Graph =>
  compilePlan({ tasks }, { executors: TEST_EXECUTORS }).graph;

describe('buildGraph', () => {
  it('indexes dependencies both ways, with `after` edges that repeat a `needs` counted once', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 80 }), ({ graph, spec }) => {
        const ids = (list: readonly number[] | undefined) => (list ?? []).map((d) => graph.tasks[d]?.id).sort();
        expect(spec.tasks.map((t) => graph.index.get(t.id))).toEqual(spec.tasks.map((_, i) => i));
        expect(graph.deps.map(ids)).toEqual(spec.tasks.map((t) => [...new Set(t.needs ?? [])].sort()));
        expect(graph.softDeps.map(ids)).toEqual(
          spec.tasks.map((t) => [...new Set(t.after ?? [])].filter((d) => !(t.needs ?? []).includes(d)).sort()),
        );
        const dependents = graph.tasks.map((_, i) =>
          graph.tasks.flatMap((_, j) =>
            (graph.deps[j] ?? []).includes(i) || (graph.softDeps[j] ?? []).includes(i) ? [j] : [],
          ),
        );
        expect(graph.dependents.map((d) => [...d].sort((a, b) => a - b))).toEqual(dependents);
      }),
      { numRuns: 60 },
    );
  });

  it('builds the same graph on the id index compilePlan hands it as on its own', () => {
    const same = (graph: Graph) => {
      const again = buildGraph({ name: graph.name, tasks: graph.tasks, pools: graph.pools });
      const { deps, softDeps, verdictDeps, dependents, topo, rank, criticalPath } = again;
      expect({ deps, softDeps, verdictDeps, dependents, topo, rank, criticalPath }).toEqual({
        deps: graph.deps,
        softDeps: graph.softDeps,
        verdictDeps: graph.verdictDeps,
        dependents: graph.dependents,
        topo: graph.topo,
        rank: graph.rank,
        criticalPath: graph.criticalPath,
      });
      expect([...again.index]).toEqual([...graph.index]);
    };
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 80 }), ({ graph }) => same(graph)),
      { numRuns: 60 },
    );
    // A check, a gate and repeated names.
    same(
      compile([
        { id: 'a', run: 'x' },
        { id: 'b', run: 'x', needs: ['a', 'a'], after: ['a'] },
        { id: 'c', run: 'x', verifies: ['b'] },
        { id: 'g', gate: 'tasks.a.succeeded', after: ['b'] },
        { id: 'd', run: 'x', needs: ['b'], after: ['g', 'g'] },
      ]),
    );
  });

  it('orders tasks topologically', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 80 }), ({ graph }) => {
        const position = new Map(graph.topo.map((t, k) => [t, k]));
        expect(position.size).toBe(graph.tasks.length);
        graph.tasks.forEach((_, i) => {
          for (const d of [...(graph.deps[i] ?? []), ...(graph.softDeps[i] ?? [])])
            expect(position.get(d)).toBeLessThan(position.get(i) as number);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('ranks each task by the longest path from its start to the end of the graph, and finds the critical path', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 120 }), ({ graph }) => {
        graph.tasks.forEach((_, i) => {
          const below = Math.max(0, ...(graph.dependents[i] ?? []).map((d) => graph.rank[d] as number));
          expect(graph.rank[i]).toBe((graph.duration[i] as number) + below);
        });
        expect(graph.criticalPathMs).toBe(longestPath(graph, graph.duration));
        const path = graph.criticalPath;
        expect(path.reduce((sum, i) => sum + (graph.duration[i] as number), 0)).toBe(graph.criticalPathMs);
        if (graph.criticalPathMs > 0) {
          const [first] = path;
          expect((graph.deps[first as number]?.length ?? 0) + (graph.softDeps[first as number]?.length ?? 0)).toBe(0);
          for (let k = 1; k < path.length; k++) expect(graph.dependents[path[k - 1] as number]).toContain(path[k]);
        }
        expect(graph.totalWorkMs).toBe(graph.duration.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 60 },
    );
  });

  it('records write conflicts for exactly the pairs whose globs overlap', () => {
    fc.assert(
      fc.property(planArbitrary({ maxTasks: 40 }), ({ graph }) => {
        graph.tasks.forEach((a, i) => {
          const expected = graph.tasks.flatMap((b, j) =>
            j !== i && a.writes.length > 0 && writeScopesOverlap(a.writes, b.writes) ? [j] : [],
          );
          expect([...(graph.conflicts[i] ?? [])].sort((x, y) => x - y)).toEqual(expected);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('names the critical path of a diamond and falls back to the default estimate', () => {
    const graph = compile([
      { id: 'schema', run: 'x', estimate: '10m' },
      { id: 'api', run: 'x', needs: ['schema'] },
      { id: 'web', run: 'x', estimate: '20m', needs: ['schema'] },
      { id: 'e2e', run: 'x', estimate: '15m', needs: ['api', 'web'] },
    ]);
    expect(graph.duration[1]).toBe(DEFAULT_ESTIMATE_MS);
    expect(pathIds(graph, graph.criticalPath)).toEqual(['schema', 'web', 'e2e']);
    expect(graph.criticalPathMs).toBe(45 * 60_000);
  });

  it('refuses an unvalidated graph with a message that says so', () => {
    const [task] = compile([{ id: 'a', run: 'x' }]).tasks;
    if (task === undefined) throw new Error('no task');
    expect(() => buildGraph({ name: 'p', pools: [], tasks: [{ ...task, needs: ['ghost'] }] })).toThrow(
      'buildGraph: unknown task "ghost" (validate the plan first)',
    );
    expect(() => buildGraph({ name: 'p', pools: [], tasks: [{ ...task, uses: { gpu: 1 } }] })).toThrow(
      'buildGraph: unknown pool "gpu" (validate the plan first)',
    );
    expect(() =>
      buildGraph({
        name: 'p',
        pools: [],
        tasks: [
          { ...task, needs: ['b'] },
          { ...task, id: 'b', needs: ['a'] },
        ],
      }),
    ).toThrow('buildGraph: the graph has a cycle (validate the plan first)');
  });

  it("makes what needs a verified task wait for its checks' verdict, never closing a cycle", () => {
    const ids = (graph: Graph) => (list: readonly number[] | undefined) => (list ?? []).map((d) => graph.tasks[d]?.id);
    const graph = compile([
      { id: 'a', run: 'x' },
      { id: 'b', run: 'x' },
      { id: 'g', run: 'x', needs: ['a'] }, // the check needs it: it comes first
      { id: 'check', run: 'x', verifies: ['a', 'b'], needs: ['g'] },
      { id: 'd', run: 'x', needs: ['a'] },
      { id: 'e', run: 'x', after: ['b'] },
      { id: 'other', run: 'x', verifies: ['a'] }, // another check of a
      { id: 'ship', run: 'x', needs: ['check'] },
    ]);
    const verdict = Object.fromEntries(graph.tasks.map((t, i) => [t.id, ids(graph)(graph.verdictDeps[i])]));
    // g comes before check (check needs it), but waits for other, the other check of a.
    const expected = {
      a: [],
      b: [],
      g: ['other'],
      check: [],
      d: ['check', 'other'],
      e: ['check'],
      other: [],
      ship: [],
    };
    expect(verdict).toEqual(expected);
    expect(ids(graph)(graph.softDeps[graph.index.get('d') as number])).toEqual(['check', 'other']);
    expect(ids(graph)(graph.dependents[graph.index.get('check') as number])).toEqual(['ship', 'd', 'e']);
    // Two checks, each needing a dependent of what the other verifies: only the wait that closes no cycle.
    const crossed = compile([
      { id: 'v1', run: 'x' },
      { id: 'v2', run: 'x' },
      { id: 'd1', run: 'x', needs: ['v1'] },
      { id: 'd2', run: 'x', needs: ['v2'] },
      { id: 'c1', run: 'x', verifies: ['v1'], needs: ['d2'] },
      { id: 'c2', run: 'x', verifies: ['v2'], needs: ['d1'] },
    ]);
    const waits = crossed.tasks.map((t, i) => [t.id, ids(crossed)(crossed.verdictDeps[i])]);
    expect(waits.filter(([, w]) => (w as string[]).length > 0)).toEqual([['d1', ['c1']]]);
    expect(crossed.topo).toHaveLength(6);
  });
});

describe('distinct', () => {
  it('drops repeats as a Set does, and gives back a list without any as it is', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 40 }), (list) => {
        const copy = [...list];
        const got = distinct(copy);
        expect(got).toEqual([...new Set(list)]);
        if (new Set(list).size === list.length) expect(got).toBe(copy);
      }),
      { numRuns: 1000 },
    );
  });
});

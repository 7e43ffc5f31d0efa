import { describe, expect, it } from 'vitest';
import { layersOf, layoutGraph } from './graph-layout.js';

const t = (id: string, needs: string[] = [], after: string[] = []) => ({ id, needs, after });

describe('layoutGraph', () => {
  it('puts each task one layer after its deepest dependency (longest path)', () => {
    const tasks = [t('a'), t('b', ['a']), t('c', ['b']), t('d', ['a'], ['c']), t('e')];
    expect(Object.fromEntries(layersOf(tasks))).toEqual({ a: 0, b: 1, c: 2, d: 3, e: 0 });
  });

  it('ignores unknown dependencies and survives a cycle', () => {
    expect(Object.fromEntries(layersOf([t('a', ['zz']), t('b', ['c']), t('c', ['b'])]))).toEqual({ a: 0, b: 1, c: 0 });
  });

  it('gives every task a place, no two overlapping, and marks after-edges soft', () => {
    const tasks = [t('a'), t('b', ['a']), t('c', ['a']), t('d', ['b', 'c'], ['a']), t('e', ['a'])];
    const layout = layoutGraph(tasks, { nodeWidth: 100, nodeHeight: 40, gapX: 50, gapY: 10 });
    expect(layout.nodes).toHaveLength(5);
    const boxes = layout.nodes.map((n) => `${n.x},${n.y}`);
    expect(new Set(boxes).size).toBe(5);
    expect(layout.width).toBe(3 * 100 + 2 * 50);
    expect(layout.height).toBe(3 * 40 + 2 * 10);
    expect(layout.edges.filter((e) => e.soft)).toEqual([{ from: 'a', to: 'd', soft: true }]);
    expect(layout.edges).toHaveLength(6);
  });

  it('orders a layer by where its dependencies sit, so edges do not cross needlessly', () => {
    const tasks = [t('p1'), t('p2'), t('c2', ['p2']), t('c1', ['p1'])];
    const layout = layoutGraph(tasks);
    const y = (id: string) => layout.nodes.find((n) => n.id === id)?.y ?? NaN;
    expect(y('c1')).toBeLessThan(y('c2'));
  });

  it('lays out an empty plan as nothing', () => {
    expect(layoutGraph([])).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
  });

  it('checks its sizes on entry: a WeftError naming the field, what was expected and what came', () => {
    expect(() => layoutGraph([t('a')], { gapX: -1 })).toThrow(
      expect.objectContaining({
        code: 'WEFT_USAGE',
        message: 'layoutGraph: expected `gapX` to be a positive number, got `-1`',
      }),
    );
    const nan = /expected `nodeWidth` to be a positive number, got `NaN`/;
    expect(() => layoutGraph([t('a')], { nodeWidth: Number.NaN })).toThrow(nan);
    expect(layoutGraph([t('a')], { nodeWidth: 100.5 }).width).toBe(100.5);
  });
});

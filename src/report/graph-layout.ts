/** A task graph laid out in dependency layers, left to right. Pure: no SVG here. */
import { checkNumbers, withDefaults } from '../core/options.js';

export interface LayoutTask {
  readonly id: string;
  readonly needs: readonly string[];
  readonly after: readonly string[];
}

export interface LayoutNode {
  readonly id: string;
  /** Longest-path layer: 0 for tasks with no dependencies, else 1 + the deepest dependency's layer. */
  readonly layer: number;
  /** Position within the layer, top to bottom. */
  readonly order: number;
  readonly x: number;
  readonly y: number;
}

export interface LayoutEdge {
  readonly from: string;
  readonly to: string;
  /** `after` (soft) rather than `needs`. */
  readonly soft: boolean;
}

export interface GraphLayout {
  readonly nodes: readonly LayoutNode[];
  readonly edges: readonly LayoutEdge[];
  readonly width: number;
  readonly height: number;
}

/** The values of {@link LayoutOptions} left out (SVG user units). */
export const LAYOUT_DEFAULTS = { nodeWidth: 168, nodeHeight: 46, gapX: 64, gapY: 18 } as const;

/** Sizes of the graph drawing; each is checked on entry. */
export interface LayoutOptions {
  /** @default 168 */
  readonly nodeWidth?: number;
  /** @default 46 */
  readonly nodeHeight?: number;
  /** Horizontal space between layers. @default 64 */
  readonly gapX?: number;
  /** Vertical space between nodes of a layer. @default 18 */
  readonly gapY?: number;
}

/** Longest-path layering; dependencies on unknown tasks are ignored, and so is any cycle's closing edge. */
export function layersOf(tasks: readonly LayoutTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return -1;
    visiting.add(id);
    const t = byId.get(id);
    let deepest = -1;
    for (const d of [...(t?.needs ?? []), ...(t?.after ?? [])]) if (byId.has(d)) deepest = Math.max(deepest, visit(d));
    visiting.delete(id);
    layer.set(id, deepest + 1);
    return deepest + 1;
  };
  for (const t of tasks) visit(t.id);
  return layer;
}

/**
 * Lays the graph out: columns are layers; within a column, tasks are ordered by the mean position
 * of their dependencies (two barycentre sweeps), which keeps most edges short and uncrossed.
 */
export function layoutGraph(tasks: readonly LayoutTask[], options: LayoutOptions = {}): GraphLayout {
  const sizes = withDefaults(LAYOUT_DEFAULTS, options);
  const rule = 'a positive number';
  checkNumbers('layoutGraph', sizes, { nodeWidth: rule, nodeHeight: rule, gapX: rule, gapY: rule });
  const { nodeWidth, nodeHeight, gapX, gapY } = sizes;
  const ids = new Set(tasks.map((t) => t.id));
  const layer = layersOf(tasks);
  const edges: LayoutEdge[] = [];
  for (const t of tasks) {
    const needs = new Set(t.needs.filter((d) => ids.has(d)));
    for (const d of needs) edges.push({ from: d, to: t.id, soft: false });
    for (const d of new Set(t.after)) if (ids.has(d) && !needs.has(d)) edges.push({ from: d, to: t.id, soft: true });
  }
  const columns: string[][] = [];
  for (const t of tasks) (columns[layer.get(t.id) ?? 0] ??= []).push(t.id);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const e of edges) {
    (parents.get(e.to) ?? parents.set(e.to, []).get(e.to))?.push(e.from);
    (children.get(e.from) ?? children.set(e.from, []).get(e.from))?.push(e.to);
  }
  const position = new Map<string, number>();
  const place = (): void => columns.forEach((col) => col.forEach((id, i) => position.set(id, i)));
  const sweep = (col: string[], neighbours: Map<string, string[]>): void => {
    const key = new Map(
      col.map((id, i) => {
        const ns = (neighbours.get(id) ?? []).map((n) => position.get(n) ?? 0);
        return [id, ns.length === 0 ? i : ns.reduce((a, b) => a + b, 0) / ns.length] as const;
      }),
    );
    col.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0));
    col.forEach((id, i) => position.set(id, i));
  };
  place();
  for (let pass = 0; pass < 2; pass++) {
    for (let l = 1; l < columns.length; l++) sweep(columns[l] ?? [], parents);
    for (let l = columns.length - 2; l >= 0; l--) sweep(columns[l] ?? [], children);
  }
  const tallest = Math.max(1, ...columns.map((c) => c?.length ?? 0));
  const height = tallest * nodeHeight + (tallest - 1) * gapY;
  const nodes: LayoutNode[] = [];
  columns.forEach((col, l) => {
    const offset = (height - (col.length * nodeHeight + (col.length - 1) * gapY)) / 2;
    col.forEach((id, i) =>
      nodes.push({ id, layer: l, order: i, x: l * (nodeWidth + gapX), y: offset + i * (nodeHeight + gapY) }),
    );
  });
  const width = columns.length === 0 ? 0 : columns.length * nodeWidth + (columns.length - 1) * gapX;
  return { nodes, edges, width, height: columns.length === 0 ? 0 : height };
}

import { layoutGraph } from './graph-layout.js';
import { clip, dur, escapeHtml as esc } from './report-format.js';
import { edgeKey, type ReportModel } from './report-model.js';

const NODE_W = 168;
const NODE_H = 46;
const PAD = 12;

/**
 * The task graph as SVG: `g.node[data-task]` per task (class `state-<state>`, plus `critical` on
 * the bottleneck chain), `path.edge[data-from][data-to]` per dependency (`soft` for `after`).
 */
export function graphSvg(model: ReportModel): string {
  const layout = layoutGraph(model.rows, { nodeWidth: NODE_W, nodeHeight: NODE_H });
  if (layout.nodes.length === 0) return '<p class="empty">The plan has no tasks.</p>';
  const rows = new Map(model.rows.map((r) => [r.id, r]));
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  const edges = layout.edges.map((e) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (a === undefined || b === undefined) return '';
    const x1 = a.x + NODE_W + PAD;
    const y1 = a.y + NODE_H / 2 + PAD;
    const x2 = b.x + PAD - 3;
    const y2 = b.y + NODE_H / 2 + PAD;
    const mid = (x1 + x2) / 2;
    const critical = model.criticalEdges.has(edgeKey(e.from, e.to));
    const cls = ['edge', ...(e.soft ? ['soft'] : []), ...(critical ? ['critical'] : [])].join(' ');
    const marker = critical ? 'arrow-critical' : 'arrow';
    return `<path class="${cls}" data-from="${esc(e.from)}" data-to="${esc(e.to)}" d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}" marker-end="url(#${marker})"><title>${esc(`${e.from} → ${e.to}${e.soft ? ' (after)' : ''}`)}</title></path>`;
  });
  const nodes = layout.nodes.map((n) => {
    const r = rows.get(n.id);
    if (r === undefined) return '';
    const cls = ['node', `state-${r.state}`, ...(r.critical ? ['critical'] : [])].join(' ');
    const retried = r.retries;
    const retries = retried > 0 ? ` · ${retried} retr${retried === 1 ? 'y' : 'ies'}` : '';
    const sub = `${r.state}${r.attempts.length === 0 ? '' : ` · ${dur(r.durationMs)}`}${retries}`;
    const tip = [
      `${r.id} — ${r.title}`,
      `${r.executor} · ${sub}`,
      ...(r.reason === undefined ? [] : [r.reason]),
      ...(r.critical ? ['on the critical path'] : []),
    ].join('\n');
    return (
      `<g class="${cls}" data-task="${esc(r.id)}" data-state="${r.state}" data-layer="${n.layer}" transform="translate(${n.x + PAD} ${n.y + PAD})">` +
      `<title>${esc(tip)}</title>` +
      `<rect width="${NODE_W}" height="${NODE_H}" rx="8"/>` +
      `<text class="node-id" x="10" y="19">${esc(clip(r.id, 22))}</text>` +
      `<text class="node-sub" x="10" y="36">${esc(clip(sub, 28))}</text>` +
      `</g>`
    );
  });
  const w = layout.width + 2 * PAD;
  const h = layout.height + 2 * PAD;
  return (
    // Shrinks to fit the page, but no further than 60%: past that the page scrolls instead.
    `<svg class="graph" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" style="min-width:${Math.round(w * 0.6)}px" role="img" aria-label="Task graph">` +
    `<defs>` +
    `<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead"/></marker>` +
    `<marker id="arrow-critical" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead critical"/></marker>` +
    `</defs>` +
    `<g class="graph-edges">${edges.join('')}</g><g class="graph-nodes">${nodes.join('')}</g></svg>`
  );
}

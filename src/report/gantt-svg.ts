import { clip, dur, escapeHtml as esc } from './report-format.js';
import { FULL_REPORT_TASKS, sinceStart, type AttemptRow, type ReportModel, type TaskRow } from './report-model.js';

const LABEL_W = 52;
const PLOT_W = 940;
const RIGHT = 24;
const ROW_H = 30;
const BAR_H = 20;
const AXIS_H = 24;
const CHAR_W = 6.4;

/** A round tick step (1, 2 or 5 × 10ⁿ ms) giving about `target` ticks over `span`. */
export function tickStep(span: number, target = 8): number {
  const raw = Math.max(span, 1) / target;
  const base = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * base).find((s) => s >= raw) ?? 10 * base;
  return Math.max(1, step);
}

/**
 * The Gantt chart as SVG: a `g.gantt-row[data-worker]` per worker that ran something, a
 * `rect.gantt-bar[data-task][data-attempt]` per attempt (class `outcome-<outcome>`, `critical` on
 * the bottleneck chain), placed by start and end on a shared time axis of run time: a time weft
 * was stopped between lives of the run is left out and marked by a `line.gantt-pause`.
 */
export function ganttSvg(model: ReportModel): string {
  const bars = model.rows.flatMap((r) => r.attempts.map((a) => ({ row: r, a })));
  if (bars.length === 0) return '<p class="empty">No task started.</p>';
  const shown = (t: number): number => sinceStart(model, t);
  const span = Math.max(shown(model.end), 1);
  const at = (ms: number): number => LABEL_W + (ms / span) * PLOT_W;
  const x = (t: number): number => at(shown(t));
  const rowOf = new Map(model.workersUsed.map((w, i) => [w, i]));
  const plotH = model.workersUsed.length * ROW_H;
  const width = LABEL_W + PLOT_W + RIGHT;
  const height = plotH + AXIS_H;
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) {
    const tx = at(t).toFixed(1);
    ticks.push(
      `<line class="gantt-grid" x1="${tx}" y1="0" x2="${tx}" y2="${plotH}"/><text class="gantt-tick" x="${tx}" y="${plotH + 16}">${esc(dur(t))}</text>`,
    );
  }
  const pauses = model.pauses.map((p) => {
    const px = x(p.from).toFixed(1);
    return `<line class="gantt-pause" x1="${px}" y1="0" x2="${px}" y2="${plotH}"><title>${esc(`weft was stopped for ${dur(p.to - p.from)} here (left out of the time axis)`)}</title></line>`;
  });
  const lanes = model.workersUsed.map((w, i) => {
    const y = i * ROW_H;
    return `<g class="gantt-row" data-worker="${w}"><rect class="gantt-lane${i % 2 === 1 ? ' odd' : ''}" x="0" y="${y}" width="${LABEL_W + PLOT_W}" height="${ROW_H}"/><text class="gantt-worker" x="8" y="${y + ROW_H / 2 + 4}">w${w}</text></g>`;
  });
  const many = bars.length > FULL_REPORT_TASKS ? mergedBars(model, bars, x) : undefined;
  const rects = (many?.single ?? bars).map(({ row, a }) => {
    const x1 = x(a.startedAt);
    const w = Math.max(2, x(a.drawEnd) - x1);
    const y = (rowOf.get(a.worker) ?? 0) * ROW_H + (ROW_H - BAR_H) / 2;
    const cls = ['gantt-bar', `outcome-${a.outcome}`, ...(row.critical ? ['critical'] : [])].join(' ');
    const label = a.attempt > 1 ? `${row.id} #${a.attempt}` : row.id;
    const tip = [
      `${row.id} — ${row.title}`,
      `attempt ${a.attempt} on w${a.worker}: ${a.outcome}`,
      `+${dur(shown(a.startedAt))} → +${dur(shown(a.drawEnd))} (${dur(a.drawEnd - a.startedAt)})`,
      ...(a.error === undefined ? [] : [clip(a.error.message, 300)]),
    ].join('\n');
    const chars = Math.floor((w - 8) / CHAR_W);
    const text =
      chars >= 3
        ? `<text class="gantt-label" x="${(x1 + 4).toFixed(1)}" y="${y + BAR_H / 2 + 4}">${esc(clip(label, chars))}</text>`
        : '';
    return (
      `<rect class="${cls}" data-task="${esc(row.id)}" data-attempt="${a.attempt}" data-worker="${a.worker}" data-outcome="${a.outcome}" x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" rx="3"><title>${esc(tip)}</title></rect>` +
      text
    );
  });
  const merged = (many?.merged ?? []).map((m: MergedBar) => {
    const y = (rowOf.get(m.worker) ?? 0) * ROW_H + (ROW_H - BAR_H) / 2;
    const tip = `${m.count} attempts on w${m.worker}: ${m.outcome}\n+${dur(shown(m.from))} → +${dur(shown(m.to))}`;
    return `<rect class="gantt-bar gantt-many outcome-${m.outcome}" data-worker="${m.worker}" data-outcome="${m.outcome}" data-attempts="${m.count}" x="${m.x1.toFixed(1)}" y="${y}" width="${(m.x2 - m.x1).toFixed(1)}" height="${BAR_H}" rx="3"><title>${esc(tip)}</title></rect>`;
  });
  return (
    `<svg class="gantt" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Gantt chart: attempts per worker over time">` +
    `<g class="gantt-lanes">${lanes.join('')}</g><g class="gantt-axis">${ticks.join('')}</g><g class="gantt-bars">${merged.join('')}${rects.join('')}</g>${pauses.join('')}</svg>`
  );
}

type Bar = { readonly row: TaskRow; readonly a: AttemptRow };

/** Attempts drawn as one bar: neighbours on a worker's row with the same outcome that touch at the chart's scale. */
interface MergedBar {
  readonly worker: number;
  readonly outcome: string;
  readonly count: number;
  readonly from: number;
  readonly to: number;
  readonly x1: number;
  readonly x2: number;
}

/**
 * For a run of more than {@link FULL_REPORT_TASKS} attempts: a bar per attempt would be tens of MB
 * of SVG in which hundreds of attempts share each pixel. Attempts on the critical path keep their own
 * bars (`single`); on each worker's row the others that touch or overlap at the chart's scale (less
 * than a pixel apart) with the same outcome are drawn as one `rect.gantt-many[data-attempts]`.
 */
function mergedBars(
  model: ReportModel,
  bars: readonly Bar[],
  x: (t: number) => number,
): { single: Bar[]; merged: MergedBar[] } {
  const single: Bar[] = [];
  const byWorker = new Map<number, Bar[]>();
  for (const b of bars) {
    if (b.row.critical) single.push(b);
    else {
      const list = byWorker.get(b.a.worker);
      if (list === undefined) byWorker.set(b.a.worker, [b]);
      else list.push(b);
    }
  }
  const merged: MergedBar[] = [];
  for (const w of model.workersUsed) {
    const list = (byWorker.get(w) ?? []).sort((p, q) => p.a.startedAt - q.a.startedAt);
    let open: ({ -readonly [K in keyof MergedBar]: MergedBar[K] } & { first: Bar }) | undefined;
    const close = (): void => {
      if (open === undefined) return;
      if (open.count === 1)
        single.push(open.first); // alone at this scale: its own bar, labelled
      else merged.push(open);
    };
    for (const bar of list) {
      const { a } = bar;
      const x1 = x(a.startedAt);
      const x2 = Math.max(x1 + 2, x(a.drawEnd));
      if (open !== undefined && open.outcome === a.outcome && x1 <= open.x2 + 1) {
        open.count++;
        open.to = Math.max(open.to, a.drawEnd);
        open.x2 = Math.max(open.x2, x2);
        continue;
      }
      close();
      open = { worker: w, outcome: a.outcome, count: 1, from: a.startedAt, to: a.drawEnd, x1, x2, first: bar };
    }
    close();
  }
  return { single, merged };
}

// The run's board: figures and budget, the task graph with the critical path, a Gantt lane per
// worker with what it holds, and the tasks table. Text only, never HTML.

import { $, clip, costOf, dur, el, ms, svg, usd } from './dom.js';

let now = () => Date.now();
let open = () => undefined;

/** What the board needs from the page: the server's clock (`now`), and what a click on a task opens (`open(taskId)`). */
export function boardHooks(hooks) {
  now = hooks.now;
  open = hooks.open;
}

export function renderFigures(d, status) {
  const s = d.summary;
  const c = s.counts;
  // The makespan as `weft status` counts it: first start to last end, less the time weft was stopped
  // between lives of the run. The server's figure is as of `d.now`; it grows while an attempt runs.
  const growing = status === 'running' && d.driven && (c.running ?? 0) > 0;
  const makespan = s.makespanMs + (growing ? Math.max(0, now() - d.now) : 0);
  const stopped = s.pausedMs > 0 ? ` (not counting ${dur(s.pausedMs)} while weft was stopped)` : '';
  const figures = [
    ['tasks', `${c.succeeded ?? 0}/${c.total ?? d.tasks.length} succeeded`],
    ['failed', c.failed ?? 0],
    ['makespan', `${dur(makespan)}${stopped}`],
    ['workers', `${d.run.workers} (${d.run.mode})`],
    ['critical path', `${s.criticalPath.join(' → ') || '–'} · ${dur(s.criticalPathMs)}`],
    ['tokens', `${s.usage.inputTokens + s.usage.outputTokens}`],
    ['cost', costOf(s.usage)],
  ];
  $('figures').replaceChildren(
    ...figures.map(([k, v]) => el('div', {}, [el('dt', { text: k }), el('dd', { text: v })])),
  );
  const budget = $('budget');
  const rows = [];
  if (d.budget?.usd !== undefined)
    rows.push(['cost', s.usage.costUsd, d.budget.usd, usd(s.usage.costUsd), usd(d.budget.usd)]);
  if (d.budget?.tokens !== undefined) {
    const t = s.usage.inputTokens + s.usage.outputTokens;
    rows.push(['tokens', t, d.budget.tokens, String(t), String(d.budget.tokens)]);
  }
  budget.replaceChildren(
    ...(rows.length === 0
      ? [el('span', { text: 'no budget set', cls: 'sub' })]
      : rows.map(([k, v, max, vs, ms2]) =>
          el('label', { text: `${k}: ${vs} of ${ms2} budget ` }, [
            el('meter', { attrs: { min: 0, max, value: Math.min(v, max), high: max * 0.8 } }),
          ]),
        )),
  );
}

export function renderGraph(d) {
  const W = 168,
    H = 46,
    P = 12;
  const tasks = new Map(d.tasks.map((t) => [t.id, t]));
  const at = new Map(d.layout.nodes.map((n) => [n.id, n]));
  const chain = d.summary.criticalPath;
  const critical = new Set(chain.slice(1).map((id, i) => `${chain[i]}\u0000${id}`));
  const root = svg('svg', {
    width: d.layout.width + 2 * P,
    height: d.layout.height + 2 * P,
    role: 'img',
    'aria-label': 'Task graph',
  });
  for (const e of d.layout.edges) {
    const a = at.get(e.from),
      b = at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + W + P,
      y1 = a.y + H / 2 + P,
      x2 = b.x + P,
      y2 = b.y + H / 2 + P,
      mid = (x1 + x2) / 2;
    const cls = ['edge', e.soft ? 'soft' : '', critical.has(`${e.from}\u0000${e.to}`) ? 'critical' : '']
      .join(' ')
      .trim();
    root.append(
      svg('path', {
        class: cls,
        d: `M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`,
        'data-from': e.from,
        'data-to': e.to,
      }),
    );
  }
  for (const n of d.layout.nodes) {
    const t = tasks.get(n.id);
    if (!t) continue;
    const g = svg('g', {
      class: `node state-${t.state}${t.critical ? ' critical' : ''}`,
      'data-task': t.id,
      'data-state': t.state,
      transform: `translate(${n.x + P} ${n.y + P})`,
    });
    g.append(svg('title', {}, `${t.id} — ${t.title}\n${t.executor} · ${t.state}${t.reason ? `\n${t.reason}` : ''}`));
    g.append(svg('rect', { width: W, height: H, rx: 8 }));
    g.append(svg('text', { x: 10, y: 19 }, clip(t.id, 22)));
    const running = t.attempts.at(-1)?.outcome === 'running' && d.driven;
    const time = running ? now() - ms(t.attempts.at(-1).startedAt) : t.durationMs;
    g.append(
      svg('text', { x: 10, y: 36, class: 'sub' }, clip(`${t.state}${t.attempts.length ? ` · ${dur(time)}` : ''}`, 28)),
    );
    g.addEventListener('click', () => open(t.id));
    root.append(g);
  }
  $('graph').replaceChildren(root);
}

/** One lane per worker: a bar per attempt (growing while it runs), and what the worker holds now. */
export function renderWorkers(d) {
  const start = ms(d.run.createdAt);
  // A live run's attempts still running come with outcome `running` (and the server's now as their end).
  const attempts = d.tasks.flatMap((t) =>
    t.attempts.map((a) => ({ task: t, a, s: ms(a.startedAt), e: a.outcome === 'running' ? undefined : ms(a.endedAt) })),
  );
  const end = Math.max(now(), ...attempts.map((x) => x.e ?? 0));
  const finished = ms(d.run.finishedAt);
  const span = Math.max(1, (finished ?? end) - start);
  const lanes = [];
  for (let w = 0; w < d.run.workers; w++) {
    const mine = attempts.filter((x) => x.a.worker === w);
    const holding = mine.find((x) => x.e === undefined && d.driven);
    const holds = el('div', {
      cls: `holds${holding ? '' : ' idle'}`,
      text: holding ? `w${w} · ${holding.task.id} · ${dur(now() - holding.s)}` : `w${w} · idle`,
    });
    const track = el('div', { cls: 'track', attrs: { 'data-worker': w } });
    for (const x of mine) {
      const stop = x.e ?? (d.driven ? now() : x.s);
      const cls = x.e === undefined ? (d.driven ? 'running' : 'interrupted') : x.a.outcome;
      const bar = el('div', {
        cls: `bar ${cls}`,
        text: x.task.id,
        attrs: { 'data-task': x.task.id, title: `${x.task.id} #${x.a.attempt} · ${cls} · ${dur(stop - x.s)}` },
      });
      bar.style.left = `${((x.s - start) / span) * 100}%`;
      bar.style.width = `${(Math.max(0, stop - x.s) / span) * 100}%`;
      bar.addEventListener('click', () => open(x.task.id));
      track.append(bar);
    }
    lanes.push(el('div', { cls: 'lane' }, [holds, track]));
  }
  $('workers').replaceChildren(...lanes);
}

export function renderTasks(d) {
  $('tasks').tBodies[0].replaceChildren(
    ...d.tasks.map((t) => {
      const tr = el('tr', { attrs: { 'data-task': t.id } }, [
        el('td', { text: t.id }),
        el('td', { text: t.title }),
        el('td', { text: t.state, cls: `state ${t.state}` }),
        el('td', { text: t.worker === null ? '' : `w${t.worker}` }),
        el('td', { text: t.attempts.length ? dur(t.durationMs) : '' }),
        el('td', { text: t.attempts.length || '' }),
        el('td', { text: t.usage?.costUsd ? usd(t.usage.costUsd) : '' }),
        el('td', { text: t.reason ?? '', cls: 'why' }),
      ]);
      tr.addEventListener('click', () => open(t.id));
      return tr;
    }),
  );
}

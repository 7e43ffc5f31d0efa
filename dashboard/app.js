// weft's live dashboard. Plain JS, no framework, no network but this server. Everything a run
// holds (task ids, titles, log lines) is put on the page with textContent and DOM APIs, never as
// HTML: a hostile task title stays text.

import { $, clip, dur, el, ms, svg, usd } from './dom.js';
import { loopEvent, renderApprovals, renderChecks, renderLoops } from './decisions.js';

/** The token comes in the URL's fragment (never sent to a server); it is kept for this tab only. */
function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has('token')) sessionStorage.setItem('weft-token', params.get('token'));
  if (location.hash !== '') history.replaceState(null, '', location.pathname);
  return params.get('run');
}
let wanted = readFragment() ?? sessionStorage.getItem('weft-run');
const token = sessionStorage.getItem('weft-token');

const state = {
  runs: [],
  runId: undefined,
  detail: undefined,
  stream: undefined,
  panel: undefined,
  skew: 0,
  /** The run's loop iterations by number, from its event stream. */
  loops: new Map(),
};

function say(text) {
  const m = $('message');
  m.textContent = text;
  m.hidden = text === '';
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok)
    throw new Error(
      body?.error ? `${body.error.message}${body.error.hint ? ` — ${body.error.hint}` : ''}` : `HTTP ${res.status}`,
    );
  return body;
}

/** Server-sent events over fetch (EventSource cannot send the token); reconnects with Last-Event-ID. */
function subscribe(path, onEvent, { lastId } = {}) {
  const controller = new AbortController();
  let last = lastId;
  const open = async () => {
    while (!controller.signal.aborted) {
      try {
        const headers = {
          authorization: `Bearer ${token}`,
          ...(last === undefined ? {} : { 'last-event-id': String(last) }),
        };
        const res = await fetch(path, { headers, signal: controller.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        connection(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const msg = { event: 'message', data: '' };
            for (const line of block.split('\n')) {
              const at = line.indexOf(':');
              if (at <= 0) continue;
              const field = line.slice(0, at);
              const val = line.slice(at + 1).replace(/^ /, '');
              if (field === 'data') msg.data += (msg.data ? '\n' : '') + val;
              else if (field === 'event') msg.event = val;
              else if (field === 'id') msg.id = last = val;
            }
            if (msg.data !== '' && onEvent(msg) === false) return controller.abort();
          }
        }
      } catch {
        if (controller.signal.aborted) return;
        connection(false);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void open();
  return () => controller.abort();
}

function connection(live) {
  const c = $('connection');
  c.textContent = live ? 'live' : 'reconnecting…';
  c.classList.toggle('live', live);
}

const now = () => Date.now() - state.skew;

async function loadRuns() {
  state.runs = await api('/api/runs');
  const list = $('run-list');
  list.replaceChildren(
    ...state.runs.map((r) => {
      const status = r.status === 'running' && !r.driven ? 'interrupted' : r.status;
      const li = el('li', { attrs: { 'data-run': r.id } }, [
        el('strong', { text: r.plan }),
        el('span', { text: ` ${status}`, cls: `state ${status}` }),
        el('span', { text: r.id, cls: 'id' }),
      ]);
      li.classList.toggle('selected', r.id === state.runId);
      li.addEventListener('click', () => void selectRun(r.id));
      return li;
    }),
  );
  if (state.runs.length === 0) say('No runs yet: start one with `weft run <plan>`, or POST /api/runs.');
}

async function selectRun(id) {
  if (state.runId === id) return;
  state.stream?.();
  state.runId = id;
  state.loops = new Map();
  sessionStorage.setItem('weft-run', id);
  closePanel();
  for (const li of $('run-list').children) li.classList.toggle('selected', li.dataset.run === id);
  await refresh();
  let timer;
  state.stream = subscribe(`/api/runs/${encodeURIComponent(id)}/events`, (msg) => {
    if (state.runId !== id) return false;
    if (msg.event === 'task.progress') return;
    if (loopEvent(state.loops, msg.event, JSON.parse(msg.data))) renderLoops(state.loops, now());
    // Events come in bursts (one journal append per scheduling pass): one refresh per burst.
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(msg.event === 'run.finished' || msg.event === 'run.resumed'), 20);
  });
}

async function refresh(listToo = false) {
  const id = state.runId;
  if (id === undefined) return;
  try {
    const detail = await api(`/api/runs/${encodeURIComponent(id)}`);
    if (state.runId !== id) return;
    state.detail = detail;
    state.skew = Date.now() - detail.now;
    render(detail);
    if (listToo) await loadRuns();
    if (state.panel !== undefined) renderPanelHead();
  } catch (error) {
    say(error.message);
  }
}

function render(d) {
  $('run').hidden = false;
  const status = d.run.status === 'running' && !d.driven ? 'interrupted' : d.run.status;
  $('run-title').textContent = `${d.run.plan} · ${d.run.id}`;
  const badge = $('run-status');
  badge.textContent = status;
  badge.className = `status ${status}`;
  $('cancel').hidden = !(d.run.status === 'running' && d.driven);
  $('resume').hidden = !(status === 'interrupted' || status === 'cancelled' || status === 'failed');
  renderFigures(d, status);
  renderGraph(d);
  renderWorkers(d);
  renderChecks(d);
  renderApprovals(d, decide);
  renderLoops(state.loops, now());
  renderTasks(d);
}

function renderFigures(d, status) {
  const s = d.summary;
  const c = s.counts;
  const end = ms(d.run.finishedAt) ?? (status === 'running' ? now() : ms(d.run.createdAt) + s.makespanMs);
  const figures = [
    ['tasks', `${c.succeeded ?? 0}/${c.total ?? d.tasks.length} succeeded`],
    ['failed', c.failed ?? 0],
    ['elapsed', dur(end - ms(d.run.createdAt))],
    ['workers', `${d.run.workers} (${d.run.mode})`],
    ['critical path', `${s.criticalPath.join(' → ') || '–'} · ${dur(s.criticalPathMs)}`],
    ['tokens', `${s.usage.inputTokens + s.usage.outputTokens}`],
    ['cost', usd(s.usage.costUsd)],
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

function renderGraph(d) {
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
    g.addEventListener('click', () => openPanel(t.id));
    root.append(g);
  }
  $('graph').replaceChildren(root);
}

/** One lane per worker: a bar per attempt (growing while it runs), and what the worker holds now. */
function renderWorkers(d) {
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
      bar.addEventListener('click', () => openPanel(x.task.id));
      track.append(bar);
    }
    lanes.push(el('div', { cls: 'lane' }, [holds, track]));
  }
  $('workers').replaceChildren(...lanes);
}

function renderTasks(d) {
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
      tr.addEventListener('click', () => openPanel(t.id));
      return tr;
    }),
  );
}

/** The task panel: what the task is, and its log, streamed while the attempt runs. */
function openPanel(taskId, stream = 'stdout') {
  closePanel();
  state.panel = { task: taskId, stream, stop: undefined };
  $('panel').hidden = false;
  document.querySelector('main').classList.add('with-panel');
  $('tab-stdout').classList.toggle('on', stream === 'stdout');
  $('tab-stderr').classList.toggle('on', stream === 'stderr');
  renderPanelHead();
  const log = $('log');
  log.replaceChildren();
  const path = `/api/runs/${encodeURIComponent(state.runId)}/tasks/${encodeURIComponent(taskId)}/log?follow=1&stream=${stream}`;
  state.panel.stop = subscribe(path, (msg) => {
    if (msg.event === 'end') return false;
    if (msg.event !== 'log') return;
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(document.createTextNode(JSON.parse(msg.data).text));
    if (stick) log.scrollTop = log.scrollHeight;
  });
}

function renderPanelHead() {
  const t = state.detail?.tasks.find((x) => x.id === state.panel?.task);
  if (!t) return;
  $('panel-title').textContent = `${t.id} — ${t.title}`;
  const a = t.attempts.at(-1);
  const sub = [
    `${t.executor} · ${t.state}`,
    a ? `attempt ${a.attempt} on w${a.worker}` : 'not started',
    t.reason ?? '',
  ];
  if (t.usage) sub.push(`${t.usage.inputTokens + t.usage.outputTokens} tokens · ${usd(t.usage.costUsd)}`);
  $('panel-sub').textContent = sub.filter(Boolean).join(' · ');
}

function closePanel() {
  state.panel?.stop?.();
  state.panel = undefined;
  $('panel').hidden = true;
  document.querySelector('main').classList.remove('with-panel');
}

async function control(action) {
  try {
    await api(`/api/runs/${encodeURIComponent(state.runId)}/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    say('');
    await refresh(true);
  } catch (error) {
    say(error.message);
  }
}

/** A person's decision on a waiting task; a rejection needs a reason. Resolves whether it was taken. */
async function decide(task, decision, reason) {
  if (decision === 'rejected' && reason === '') {
    say(`say why you reject ${task}: a rejection needs a reason`);
    return false;
  }
  try {
    const path = `/api/runs/${encodeURIComponent(state.runId)}/tasks/${encodeURIComponent(task)}`;
    await api(`${path}/${decision === 'approved' ? 'approve' : 'reject'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(decision === 'approved' ? {} : { reason }),
    });
    say('');
    await refresh();
    return true;
  } catch (error) {
    say(error.message);
    return false;
  }
}

$('cancel').addEventListener('click', () => void control('cancel'));
$('resume').addEventListener('click', () => void control('resume'));
$('panel-close').addEventListener('click', closePanel);
$('tab-stdout').addEventListener('click', () => state.panel && openPanel(state.panel.task, 'stdout'));
$('tab-stderr').addEventListener('click', () => state.panel && openPanel(state.panel.task, 'stderr'));

// Running bars and clocks grow between events.
setInterval(() => {
  if (state.detail?.driven) {
    renderWorkers(state.detail);
    renderFigures(state.detail, 'running');
    renderLoops(state.loops, now());
  }
}, 500);
// Runs started elsewhere (another terminal, the API) appear in the list.
setInterval(() => void loadRuns().catch(() => undefined), 5000);

async function start() {
  if (!token) return say('No token: open the URL `weft serve` printed (it carries the token after #token=).');
  try {
    await loadRuns();
    const first = state.runs.find((r) => r.id === wanted) ?? state.runs[0];
    wanted = undefined;
    if (first) await selectRun(first.id);
  } catch (error) {
    say(error.message);
  }
}
void start();
// A link to another run (`#run=<id>`) opened in this tab.
window.addEventListener('hashchange', () => {
  const run = readFragment();
  if (run) void loadRuns().then(() => selectRun(run));
});

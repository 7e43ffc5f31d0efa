// weft's live dashboard. Plain JS, no framework, no network but this server. Everything a run
// holds (task ids, titles, log lines) is put on the page with textContent and DOM APIs, never as
// HTML: a hostile task title stays text.

import { boardHooks, renderFigures, renderGraph, renderTasks, renderWorkers } from './board.js';
import { $, costOf, el } from './dom.js';
import { loopEvent, renderApprovals, renderChecks, renderLoops } from './decisions.js';
import { subscribe } from './stream.js';

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

const now = () => Date.now() - state.skew;
boardHooks({ now, open: (task) => openPanel(task) });

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
  state.stream = subscribe(`/api/runs/${encodeURIComponent(id)}/events`, token, (msg) => {
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
  let attempt;
  state.panel.stop = subscribe(path, token, (msg) => {
    if (msg.event === 'end') return false;
    if (msg.event !== 'log') return;
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const slice = JSON.parse(msg.data);
    // A retry's log follows the attempt before it, under a line that says so.
    if (attempt !== undefined && slice.attempt !== attempt)
      log.append(el('span', { text: `── attempt ${slice.attempt} ──\n`, cls: 'attempt' }));
    attempt = slice.attempt;
    log.append(document.createTextNode(slice.text));
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
  if (t.usage) sub.push(`${t.usage.inputTokens + t.usage.outputTokens} tokens · ${costOf(t.usage)}`);
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

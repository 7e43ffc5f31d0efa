// What the run decided beyond running tasks: checks and gates with their verdicts, approvals that
// wait for a person (with Approve and Reject), and a loop's iterations. Text only, never HTML.

import { $, clock, dur, el, ms, usd } from './dom.js';

const verdictOf = (state) =>
  state === 'succeeded'
    ? ['pass', 'pass']
    : state === 'failed' || state === 'blocked'
      ? [state === 'failed' ? 'fail' : 'blocked', 'fail']
      : [state, 'wait'];

/** Checks (tasks with `verifies:`) and gates (`gate:`), each with its verdict and why. */
export function renderChecks(d) {
  const checks = d.checks ?? [];
  const gates = d.tasks.filter((t) => t.executor === 'gate');
  if (checks.length === 0 && gates.length === 0)
    return $('checks').replaceChildren(el('span', { text: 'no checks or gates in this plan', cls: 'sub' }));
  const rows = [
    ...checks.map((c) => {
      // A flaky check passed, but only when run again on the same tree: it says so, and how it failed.
      const [word, cls] = c.flaky ? ['pass (flaky)', 'wait'] : verdictOf(c.state);
      const why = c.flaky
        ? `failed (${c.flaky}), then passed when run again on the same tree; no task was told`
        : c.reason;
      return el('li', { attrs: { 'data-check': c.id } }, [
        el('strong', { text: c.id }),
        el('span', { text: ` verifies ${c.verifies.join(', ')}: ` }),
        el('span', { text: word, cls: `verdict-${cls}` }),
        el('span', { text: c.attempts > 1 ? ` after ${c.attempts} attempts` : '', cls: 'sub' }),
        el('span', { text: why ? ` — ${why}` : '', cls: 'sub' }),
      ]);
    }),
    ...gates.map((g) => {
      const [word, cls] = verdictOf(g.state);
      const why = g.blockedBy?.length ? g.blockedBy.join('; ') : (g.reason ?? '');
      return el('li', { attrs: { 'data-gate': g.id } }, [
        el('strong', { text: g.id }),
        el('span', { text: ' gate: ' }),
        el('span', { text: word, cls: `verdict-${cls}` }),
        el('span', { text: why && g.state !== 'succeeded' ? ` — ${why}` : '', cls: 'sub why' }),
      ]);
    }),
  ];
  $('checks').replaceChildren(el('ul', {}, rows));
}

let shownApprovals = '';

/**
 * Tasks with `approval: required`: those waiting get Approve, a reason and Reject; those decided say
 * who decided what. Drawn again only when something changed, so a reason being typed is kept.
 * `decide(task, 'approved' | 'rejected', reason)` calls the API and resolves when it answered.
 */
export function renderApprovals(d, decide) {
  const asked = d.tasks.filter((t) => t.approval);
  const key = JSON.stringify([d.run.id, asked.map((t) => [t.id, t.approval])]);
  $('approvals-section').hidden = asked.length === 0;
  if (key === shownApprovals) return;
  shownApprovals = key;
  const items = asked.map((t) => {
    const a = t.approval;
    const head = [
      el('strong', { text: t.id }),
      el('span', { text: t.title !== t.id ? ` ${t.title}` : '', cls: 'sub' }),
    ];
    if (a.state !== 'waiting') {
      const by = a.by ? ` by ${a.by}` : '';
      const at = a.decidedAt ? ` at ${clock(a.decidedAt)}` : '';
      return el('li', { attrs: { 'data-approval': t.id, 'data-state': a.state } }, [
        ...head,
        el('span', { text: ` ${a.state}`, cls: `verdict-${a.state === 'approved' ? 'pass' : 'fail'}` }),
        el('span', { text: `${by}${at}${a.reason ? `: ${a.reason}` : ''}`, cls: 'sub' }),
      ]);
    }
    const approve = el('button', { text: 'Approve', cls: 'approve', attrs: { type: 'button' } });
    const reason = el('input', {
      cls: 'reason',
      attrs: {
        type: 'text',
        placeholder: 'reason to reject',
        'aria-label': `reason to reject ${t.id}`,
        maxlength: 2000,
      },
    });
    const reject = el('button', { text: 'Reject', cls: 'reject', attrs: { type: 'button' } });
    const act = async (decision) => {
      approve.disabled = reject.disabled = true;
      const ok = await decide(t.id, decision, reason.value.trim());
      if (!ok) approve.disabled = reject.disabled = false;
    };
    approve.addEventListener('click', () => void act('approved'));
    reject.addEventListener('click', () => void act('rejected'));
    return el('li', { attrs: { 'data-approval': t.id, 'data-state': 'waiting' } }, [
      ...head,
      el('span', { text: ` waits since ${clock(a.since)} `, cls: 'verdict-wait' }),
      approve,
      reason,
      reject,
    ]);
  });
  $('approvals').replaceChildren(el('ul', {}, items));
}

/**
 * The loop's iterations from `loop.iteration.started` / `loop.iteration.ended` events (by type: a
 * journal may hold them before this dashboard's server knows them). `iterations` is what
 * {@link loopEvent} collected; `now` the server's time, for one still running.
 */
export function renderLoops(iterations, now) {
  $('loop-section').hidden = iterations.size === 0;
  if (iterations.size === 0) return;
  const rows = [...iterations.values()]
    .sort((a, b) => a.iteration - b.iteration)
    .map((it) => {
      const e = it.ended;
      const outcome = e?.outcome ?? 'running';
      const time = e?.durationMs ?? (it.startedAt === undefined ? undefined : now - it.startedAt);
      return el('tr', { attrs: { 'data-iteration': it.iteration, 'data-outcome': outcome } }, [
        el('td', { text: it.iteration }),
        el('td', { text: outcome, cls: `outcome ${outcome}` }),
        el('td', { text: (e?.reasons ?? []).join('; '), cls: 'why' }),
        el('td', { text: time === undefined ? '' : dur(time) }),
        el('td', { text: typeof e?.costUsd === 'number' ? usd(e.costUsd) : '' }),
      ]);
    });
  $('loops').tBodies[0].replaceChildren(...rows);
}

/** Adds a loop event (`type`, its parsed data) to `iterations`; false when it is no loop event. */
export function loopEvent(iterations, type, data) {
  if (type !== 'loop.iteration.started' && type !== 'loop.iteration.ended') return false;
  const n = Number(data.iteration);
  if (!Number.isInteger(n)) return false;
  const it = iterations.get(n) ?? { iteration: n };
  if (type === 'loop.iteration.started') {
    it.startedAt = typeof data.at === 'number' ? data.at : ms(data.at);
    it.ended = undefined; // a resumed run starts the iteration again
  } else
    it.ended = {
      outcome: String(data.outcome ?? ''),
      reasons: Array.isArray(data.reasons) ? data.reasons.map(String) : [],
      durationMs: typeof data.durationMs === 'number' ? data.durationMs : undefined,
      costUsd: data.costUsd,
    };
  iterations.set(n, it);
  return true;
}

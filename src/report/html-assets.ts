/** The HTML report's inline stylesheet and script: static text, never built from run data. */

export const REPORT_CSS = `
:root{--ok:#2f9e62;--ok-bg:#e3f5ea;--bad:#d9484b;--bad-bg:#fde6e6;--retry:#ee9b2f;--retry-bg:#fff1dc;--cancel:#8a9099;--cancel-bg:#eceef1;
--intr:#8b6fd6;--intr-bg:#efe9fc;--run:#3b82f6;--run-bg:#e0ecff;--skip:#a3a9b1;--skip-bg:#f4f5f7;--crit:#4338ca;--ink:#1f2430;--muted:#687080;--line:#e3e6ea}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#f7f8fa}
main{max-width:1120px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:var(--muted)}.meta code{color:var(--ink)}
.status{display:inline-block;padding:1px 10px;border-radius:10px;font-weight:600;font-size:13px;color:#fff;background:var(--cancel)}
.status.succeeded{background:var(--ok)}.status.failed{background:var(--bad)}.status.running{background:var(--run)}.status.interrupted{background:var(--intr)}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:4px 18px 16px;margin-top:16px}
.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin-top:12px}
.metric{border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:#fbfcfd}
.metric .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.metric .value{font-size:20px;font-weight:600}.metric .note{color:var(--muted);font-size:12px}
.chain{margin:12px 0 0}.chain .task{font-family:ui-monospace,Menlo,Consolas,monospace;background:#eef0fb;color:var(--crit);padding:1px 6px;border-radius:4px}
.scroll{overflow-x:auto}svg.gantt,svg.graph{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:14px;color:var(--muted);font-size:12px;margin:6px 0 8px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;vertical-align:-2px}
.sw-blocked{background:var(--bad)}.sw-succeeded{background:var(--ok)}.sw-failed{background:var(--bad)}.sw-retrying{background:var(--retry)}.sw-cancelled{background:var(--cancel)}
.sw-interrupted{background:var(--intr)}.sw-running{background:var(--run)}.sw-skipped{background:var(--skip-bg);border:1px dashed var(--skip)}
.sw-pending{background:#fff;border:1px solid #c3c8cf}.sw-critical{background:#fff;border:3px solid var(--crit)}
svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.gantt-lane{fill:#fff}.gantt-lane.odd{fill:#f6f7f9}.gantt-worker{fill:var(--muted);font-weight:600}
.gantt-grid{stroke:var(--line);stroke-width:1}.gantt-tick{fill:var(--muted);text-anchor:middle}
.gantt-bar{stroke:#0000;stroke-width:2;cursor:pointer}.gantt-label{fill:#fff;pointer-events:none;font-weight:600}
.gantt-bar.critical{stroke:var(--crit)}.gantt-pause{stroke:var(--ink);stroke-width:2;stroke-dasharray:4 3}
.outcome-blocked{fill:var(--bad)}.outcome-succeeded{fill:var(--ok)}.outcome-failed{fill:var(--bad)}.outcome-retrying{fill:var(--retry)}.outcome-cancelled{fill:var(--cancel)}
.outcome-interrupted{fill:var(--intr)}.outcome-running{fill:var(--run)}
.edge{fill:none;stroke:#b5bcc6;stroke-width:1.5}.edge.soft{stroke-dasharray:5 4}.edge.critical{stroke:var(--crit);stroke-width:3}
.arrowhead{fill:#b5bcc6}.arrowhead.critical{fill:var(--crit)}
.node{cursor:pointer}.node rect{fill:#fff;stroke:#c3c8cf;stroke-width:1.5}.node .node-id{font-weight:600;font-size:12px;fill:var(--ink)}.node .node-sub{fill:var(--muted)}
.node.state-succeeded rect{fill:var(--ok-bg);stroke:var(--ok)}.node.state-failed rect{fill:var(--bad-bg);stroke:var(--bad)}
.node.state-retrying rect{fill:var(--retry-bg);stroke:var(--retry)}.node.state-cancelled rect{fill:var(--cancel-bg);stroke:var(--cancel)}
.node.state-running rect{fill:var(--run-bg);stroke:var(--run)}.node.state-skipped rect{fill:var(--skip-bg);stroke:var(--skip);stroke-dasharray:4 3}
.node.critical rect{stroke:var(--crit);stroke-width:3}
.hl{filter:drop-shadow(0 0 3px #1f243099)}.node.hl rect,.gantt-bar.hl{stroke:var(--ink)}tr.hl{background:#f1f3ff}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}tr.critical td.id{color:var(--crit);font-weight:700}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;background:var(--cancel-bg)}
.pill.blocked{background:var(--bad-bg);color:#a32427}.pill.succeeded{background:var(--ok-bg);color:#1d6b41}.pill.failed{background:var(--bad-bg);color:#a32427}.pill.skipped{background:var(--skip-bg);color:var(--muted)}
.failure{border-left:4px solid var(--bad);padding:2px 12px;margin:10px 0;background:#fffafa}.failure .msg{font-weight:600}
pre{margin:6px 0;padding:10px 12px;background:#161a22;color:#e6e8ee;border-radius:6px;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;overflow-x:auto;white-space:pre-wrap;word-break:break-word;max-height:360px;overflow-y:auto}
pre.stderr{background:#2a1717}
details.log{border-bottom:1px solid var(--line);padding:6px 0}details.log summary{cursor:pointer}details.log .stream{color:var(--muted);font-size:12px;margin-top:6px}
.empty{color:var(--muted)}footer{color:var(--muted);font-size:12px;margin-top:24px;text-align:center}
`;

/** Hover a task anywhere (bar, node, row) to light it up everywhere; click a bar or node to open its log. */
export const REPORT_JS = `(() => {
  const all = [...document.querySelectorAll('[data-task]')];
  const same = (t) => all.filter((e) => e.getAttribute('data-task') === t);
  for (const el of all) {
    const t = el.getAttribute('data-task');
    el.addEventListener('mouseenter', () => same(t).forEach((e) => e.classList.add('hl')));
    el.addEventListener('mouseleave', () => same(t).forEach((e) => e.classList.remove('hl')));
    if (el.closest('svg') === null) continue;
    el.addEventListener('click', () => {
      const log = same(t).find((e) => e.matches('details.log'));
      if (log) { log.open = true; log.scrollIntoView({ behavior: 'smooth', block: 'start' }); }
    });
  }
})();`;

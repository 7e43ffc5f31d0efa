// Helpers every part of the dashboard uses. Text goes into the page with textContent only: a task
// title or a log line is never parsed as HTML.

export const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

/** An element with text and classes; `text` always goes in as text. */
export function el(tag, { text, cls, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (cls) node.className = cls;
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, String(v));
  for (const c of children) node.append(c);
  return node;
}

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

export const dur = (ms) => {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
};
export const usd = (n) => `$${(n ?? 0).toFixed(n >= 1 ? 2 : 4)}`;
/** A usage's cost, naming the models it leaves out (tokens with no price are not $0). */
export const costOf = (u) =>
  u.unpriced?.length
    ? `${u.costUsd > 0 ? `${usd(u.costUsd)} + ` : ''}${u.unpriced.join(', ')} unpriced`
    : usd(u.costUsd);
export const ms = (iso) => (iso === null || iso === undefined ? undefined : Date.parse(iso));
export const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
/** A time of day (local), for "waiting since". */
export const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });

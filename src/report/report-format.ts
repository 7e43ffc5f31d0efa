import { formatDuration } from '../core/plan/duration.js';

/** Formatting shared by the Markdown and HTML reports, fixed to one locale so reports are stable. */

export const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const usd = (x: number): string => `$${x.toFixed(x !== 0 && Math.abs(x) < 1 ? 4 : 2)}`;

/** A cost that says what it leaves out: tokens of a model with no price are not $0. */
export const costOf = (u: { readonly costUsd: number; readonly unpriced?: readonly string[] }): string =>
  u.unpriced === undefined || u.unpriced.length === 0
    ? usd(u.costUsd)
    : `${u.costUsd > 0 ? `${usd(u.costUsd)} + ` : ''}${u.unpriced.join(', ')} unpriced`;
export const times = (x: number): string => `${x.toFixed(2)}×`;
export const iso = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString() : '—');
export const dur = formatDuration;

/** One mark per task state, the same in the live lines, `weft status` and the reports. */
export const STATE_MARK: Readonly<Record<string, string>> = {
  succeeded: '✓',
  failed: '✗',
  skipped: '↷',
  cancelled: '■',
  blocked: '⊘',
  running: '▸',
  retrying: '↻',
  pending: '·',
  ready: '·',
};

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c] as string};`,
  );
}

/** One line of text for a Markdown table cell: no pipes, no newlines, no raw HTML. */
export function mdCell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/[&<>]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt' }[c] as string};`)
    .replace(/\|/g, '\\|');
}

/** A fenced code block whose fence is longer than any backtick run inside, so text can't close it. */
export function mdFence(text: string, lang = 'text'): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text.replace(/\n$/, '')}\n${fence}`;
}

/** Shortens text to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** Tokens as `1,234 in / 567 out`. */
export const tokens = (u: { inputTokens: number; outputTokens: number }): string =>
  `${int(u.inputTokens)} in / ${int(u.outputTokens)} out`;

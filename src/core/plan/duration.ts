const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const NUMBER = '\\d+(?:\\.\\d+)?';
/**
 * A duration's text: a bare number of seconds, or parts with units, each unit at most once and the
 * largest first (`1h30m`, `4m05s`; not `1m1m`, which reads as a typo, nor `30m1h`); spaces between parts.
 * The plan schema's pattern (and so the JSON Schema's).
 */
export const DURATION_PATTERN = `^\\s*(?:${NUMBER}|(?=\\d)(?:${NUMBER}d\\s*)?(?:${NUMBER}h\\s*)?(?:${NUMBER}m\\s*)?(?:${NUMBER}s\\s*)?(?:${NUMBER}ms)?)\\s*$`;
const DURATION = new RegExp(DURATION_PATTERN);
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses `45m`, `1h30m`, `90s`, `250ms`, `2d` ({@link DURATION_PATTERN}); a bare number counts as seconds.
 * Returns milliseconds, or `undefined` when the text is not a duration.
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const known = remembered.get(value);
  if (known !== undefined || remembered.has(value)) return known;
  const ms = parseDurationText(value);
  if (value.length <= MAX_REMEMBERED_LENGTH) {
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(value, ms);
  }
  return ms;
}

// A large plan gives the same few durations ('2h', '5m') to thousands of tasks (200k parses for
// the 100k-task bench plan): each text is parsed once. Bounded, for a long-running `weft serve`.
const remembered = new Map<string, number | undefined>();
const MAX_REMEMBERED = 1024;
const MAX_REMEMBERED_LENGTH = 32;

function parseDurationText(value: string): number | undefined {
  if (!DURATION.test(value)) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 0);
  return Math.round(total);
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `4m05s`, `2h15m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 2 : 1)}s`;
  const totalSeconds = Math.round(abs / 1000);
  if (totalSeconds < 3600) {
    const m = Math.floor(totalSeconds / 60);
    const s = totalSeconds % 60;
    return `${sign}${m}m${String(s).padStart(2, '0')}s`;
  }
  const totalMinutes = Math.round(abs / 60_000);
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  return `${sign}${h}h${String(m).padStart(2, '0')}m`;
}

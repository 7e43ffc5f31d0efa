/**
 * Decides whether two `writes` globs can match the same path, so the scheduler never runs two
 * tasks that might write the same file at once. Supports `*`, `?`, `[...]`, `{a,b}` and `**`.
 * Character classes are treated as "any character": a possible overlap is reported rather than missed.
 */

/** Expands `{a,b}` alternatives (nested too) into plain globs. */
export function expandBraces(glob: string): string[] {
  const open = glob.indexOf('{');
  if (open < 0) return [glob];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < glob.length; i++) {
    const c = glob[i];
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        const head = glob.slice(0, open);
        const tail = glob.slice(i + 1);
        const range = commas.length === 0 ? rangeValues(glob.slice(open + 1, i)) : undefined;
        if (range !== undefined) return range.flatMap((value) => expandBraces(head + value + tail));
        const bounds = [open, ...commas, i];
        const out: string[] = [];
        for (let k = 0; k + 1 < bounds.length; k++) {
          const alt = glob.slice((bounds[k] ?? 0) + 1, bounds[k + 1]);
          for (const expanded of expandBraces(head + alt + tail)) out.push(expanded);
        }
        return out;
      }
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [glob]; // unbalanced: take it literally
}

/**
 * The values a brace range stands for, as picomatch expands them: `{1..3}`, `{c..a}`, `{0..10..5}`.
 * A range too long to list, or zero-padded, becomes `*` (a possible overlap, never a missed one).
 * `undefined` when the text is not a range.
 */
function rangeValues(body: string): string[] | undefined {
  const m = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$/.exec(body);
  if (m === null) return undefined;
  const [, from = '', to = '', stepText = '1'] = m;
  const numeric = /\d/.test(from);
  const sameKind = numeric ? /\d/.test(to) : /[a-z]/.test(from) === /[a-z]/.test(to) && !/\d/.test(to);
  if (!sameKind) return ['*'];
  const a = numeric ? Number(from) : from.charCodeAt(0);
  const b = numeric ? Number(to) : to.charCodeAt(0);
  const step = Math.abs(Number(stepText)) || 1;
  if (Math.abs(b - a) / step >= 256 || /^-?0\d/.test(from) || /^-?0\d/.test(to)) return ['*'];
  const values: string[] = [];
  for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? step : -step)
    values.push(numeric ? String(v) : String.fromCharCode(v));
  return values;
}

/**
 * Normalises a glob: `./src/` → `src/**`, duplicate slashes and `.` parts removed, and a `..` taking
 * away the part before it (`src/a/../b.ts` → `src/b.ts`). A `..` right after `**`, which may stand
 * for no folder or many, is dropped: what is left still names every path the glob did.
 */
export function normaliseGlob(glob: string): string {
  const parts: string[] = [];
  const g = glob.trim().replace(/\\/g, '/');
  for (const part of g.split('/')) {
    const last = parts.at(-1);
    if (part === '' || part === '.') continue;
    if (part !== '..' || last === undefined || last === '..') parts.push(part);
    else if (last !== '**') parts.pop();
  }
  const out = `${g.startsWith('/') ? '/' : ''}${parts.join('/')}`;
  if (g.endsWith('/') || /(?:^|\/)\.\.?$/.test(g)) return out === '' || out === '/' ? `${out}**` : `${out}/**`;
  return out === '' ? '**' : out;
}

type Atom = { readonly star: boolean; readonly any: boolean; readonly char: string };

function atoms(segment: string): Atom[] {
  const out: Atom[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charAt(i);
    if (c === '*') {
      if (out.at(-1)?.star !== true) out.push({ star: true, any: false, char: '' });
    } else if (c === '?') out.push({ star: false, any: true, char: '' });
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) out.push({ star: false, any: false, char: c });
      else {
        out.push({ star: false, any: true, char: '' });
        i = end;
      }
    } else out.push({ star: false, any: false, char: c });
  }
  return out;
}

function segmentsOverlap(a: string, b: string): boolean {
  const x = atoms(a);
  const y = atoms(b);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (y.length + 1) + j;
    const seen = memo.get(key);
    if (seen !== undefined) return seen;
    let result: boolean;
    const p = x[i];
    const q = y[j];
    if (p === undefined && q === undefined) result = true;
    else if (p?.star === true) result = go(i + 1, j) || (q !== undefined && go(i, j + 1));
    else if (q?.star === true) result = go(i, j + 1) || (p !== undefined && go(i + 1, j));
    else if (p === undefined || q === undefined) result = false;
    else result = (p.any || q.any || p.char === q.char) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

function pathsOverlap(a: readonly string[], b: readonly string[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const seen = memo.get(key);
    if (seen !== undefined) return seen;
    let result: boolean;
    const p = a[i];
    const q = b[j];
    if (p === undefined && q === undefined) result = true;
    else if (p === '**') result = go(i + 1, j) || (q !== undefined && go(i, j + 1));
    else if (q === '**') result = go(i, j + 1) || (p !== undefined && go(i + 1, j));
    else if (p === undefined || q === undefined) result = false;
    else result = segmentsOverlap(p, q) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/**
 * The globs a `writes` entry stands for: a path without magic that may name a folder (`dist`,
 * `.github`) is that file or the folder and all under it, as the cache reads it; one whose last part
 * has an extension (`package.json`) is a file, or it would overlap every glob of `.ts` files at any
 * depth; `dist/` is
 * already the folder's.
 */
function spans(glob: string): string[] {
  return expandBraces(withoutExtglobs(glob))
    .map(normaliseGlob)
    .flatMap((g) => (/[*?[]/.test(g) || /.\.[^/]*$/.test(g.slice(g.lastIndexOf('/') + 1)) ? [g] : [g, `${g}/**`]));
}

/**
 * A glob with its extglobs (`!(b)`, `@(a|c)`, `+(x)`, which picomatch reads, as the cache does) as
 * the `*` that covers each, and a negated glob (`!dist/**`) as `**`: a possible overlap is reported
 * rather than missed.
 */
function withoutExtglobs(glob: string): string {
  if (/^\s*!(?!\()/.test(glob)) return '**';
  let g = glob;
  for (let before = ''; before !== g;) {
    before = g;
    g = g.replace(/[@!+*?]\(([^()]*)\)/g, (_, inner: string) => (inner.includes('/') ? '**' : '*'));
  }
  return g;
}

/** True when some path can match both globs. */
export function globsOverlap(a: string, b: string): boolean {
  for (const x of spans(a)) {
    for (const y of spans(b)) {
      if (pathsOverlap(x.split('/'), y.split('/'))) return true;
    }
  }
  return false;
}

/**
 * True when any glob of one list can match a path that a glob of the other matches. A list's globs
 * are relative to its task's folder (`cwd`, relative to the plan's folder), when it has one: `x.ts`
 * from `sub` is `sub/x.ts`.
 */
export function writeScopesOverlap(
  a: readonly string[],
  b: readonly string[],
  cwdA?: string | undefined,
  cwdB?: string | undefined,
): boolean {
  const inA = writesFromPlanFolder(a, cwdA);
  const inB = writesFromPlanFolder(b, cwdB);
  return inA.some((x) => inB.some((y) => globsOverlap(x, y)));
}

/** A task's `writes` as globs from the plan's folder (see {@link writeScopesOverlap}). */
export function writesFromPlanFolder(writes: readonly string[], cwd: string | undefined): readonly string[] {
  return cwd === undefined ? writes : writes.map((g) => withinFolder(cwd, g));
}

/**
 * A glob written from a task's folder, as a glob from the plan's folder (its braces kept whole); a
 * negated one (`!dist/**`, not the extglob `!(a)`) stays negated: `!sub/dist/**`.
 */
export function withinFolder(cwd: string, glob: string): string {
  if (cwd.trim() === '' || cwd.trim() === '.') return glob;
  const folder = cwd.trim().replace(/[\\/]+$/, '');
  const g = glob.trim();
  const negated = /^!(?!\()/.test(g);
  const body = negated ? g.slice(1) : g;
  return /^[\\/]/.test(body) ? g : `${negated ? '!' : ''}${folder}/${body}`;
}

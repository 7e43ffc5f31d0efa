/** One conflict region of a file git left with markers (diff3 style: the base part is optional). */
export interface ConflictHunk {
  /** 1-based line of the `<<<<<<<` marker. */
  readonly line: number;
  readonly ours: readonly string[];
  readonly base: readonly string[] | undefined;
  readonly theirs: readonly string[];
}

/** A file a merge could not combine. */
export interface ConflictedFile {
  readonly path: string;
  /** `git status` code of the unmerged entry: UU, AA, DU, UD, AU, UA, DD. */
  readonly status: string;
  /** Text conflicts; empty for a binary file or a modify/delete conflict. */
  readonly hunks: readonly ConflictHunk[];
}

const OPEN = /^<{7}(?: |$)/;
const BASE = /^\|{7}(?: |$)/;
const SPLIT = /^={7}$/;
const CLOSE = /^>{7}(?: |$)/;

/** The conflict regions of a file's text, in order. Text without markers gives `[]`. */
export function parseConflicts(text: string): ConflictHunk[] {
  const hunks: ConflictHunk[] = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    if (!OPEN.test(all[i] as string)) continue;
    const line = i + 1;
    const ours: string[] = [];
    const theirs: string[] = [];
    let base: string[] | undefined;
    let part: string[] = ours;
    let closed = false;
    for (i++; i < all.length; i++) {
      const l = all[i] as string;
      if (BASE.test(l) && part === ours) part = base = [];
      else if (SPLIT.test(l) && part !== theirs) part = theirs;
      else if (CLOSE.test(l) && part === theirs) {
        closed = true;
        break;
      } else part.push(l);
    }
    if (closed) hunks.push({ line, ours, base, theirs });
  }
  return hunks;
}

const STATUS: Readonly<Record<string, string>> = {
  UU: 'both changed it',
  AA: 'both added it',
  DU: 'deleted on the integration branch, changed by you',
  UD: 'changed on the integration branch, deleted by you',
  AU: 'added on the integration branch',
  UA: 'added by you',
  DD: 'deleted on both sides',
};

export interface ConflictReport {
  readonly taskId: string;
  readonly integration: string;
  readonly files: readonly ConflictedFile[];
  /** Subjects of the integration commits that touched those files since the task started. */
  readonly mergedMeanwhile: readonly string[];
  /** First line, when the default ("could not be merged … conflicts with work merged there") does not fit. */
  readonly lead?: string;
}

/** Longest feedback handed to an agent; the file list always comes first, the hunks fill the rest. */
const MAX_FEEDBACK = 12_000;
const MAX_HUNK_LINES = 40;

/**
 * The feedback for a task whose merge conflicted: which files, what was merged there meanwhile
 * (the other side's content), and what its fix attempt will find in its worktree. Hunks come from
 * the merge in the integration worktree, where "ours" is the integration branch and "theirs" the task.
 */
export function conflictFeedback(report: ConflictReport): string {
  const { taskId, integration, files } = report;
  const head = [
    report.lead ??
      `Your work on task "${taskId}" could not be merged into the run's integration branch ${integration}: it conflicts with work merged there after your task started.`,
  ];
  if (report.mergedMeanwhile.length > 0)
    head.push('Merged meanwhile:', ...report.mergedMeanwhile.map((s) => `  - ${s}`));
  head.push(
    `Conflicting files (${files.length}):`,
    ...files.map((f) => `  - ${f.path} (${STATUS[f.status] ?? f.status})`),
  );
  head.push(
    '',
    `Your fix attempt continues in the same worktree, with ${integration} merged in. Each conflict is marked in the file: the part after "<<<<<<< HEAD" is yours, the part after "|||||||" the common ancestor, the part after "=======" up to ">>>>>>> ${integration}" the work already merged.`,
    'Resolve every conflict so that both changes survive (keep the work already merged unless it truly contradicts yours), remove all the markers, and leave the result in the files; weft commits and merges it.',
  );
  let text = head.join('\n');
  for (const f of files) {
    const parts: string[] = [];
    if (f.hunks.length === 0)
      parts.push(
        `\n${f.path}: ${STATUS[f.status] ?? 'conflict'} — no text hunks (binary, or changed on one side and deleted on the other); keep the version that carries both intents.`,
      );
    f.hunks.forEach((h, k) => {
      parts.push(
        `\n${f.path}, conflict ${k + 1} of ${f.hunks.length}, at line ${h.line}`,
        `  already merged (${integration}):`,
        ...quote(h.ours),
      );
      if (h.base !== undefined) parts.push('  common ancestor:', ...quote(h.base));
      parts.push('  yours:', ...quote(h.theirs));
    });
    const block = parts.join('\n');
    if (text.length + block.length > MAX_FEEDBACK) {
      text += `\n\n(more conflict hunks left out; open the files to see them all)`;
      break;
    }
    text += block;
  }
  return text;
}

function quote(lines: readonly string[]): string[] {
  if (lines.length === 0) return ['  | (nothing)'];
  const shown = lines.slice(0, MAX_HUNK_LINES).map((l) => `  | ${l}`);
  if (lines.length > MAX_HUNK_LINES) shown.push(`  | … ${lines.length - MAX_HUNK_LINES} more lines`);
  return shown;
}

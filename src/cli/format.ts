import { formatDuration } from '../core/plan/duration.js';
import { chainLine, criticalSteps } from '../core/run/critical-path.js';
import type { RunSummary } from '../core/run/metrics.js';
import type { ContractVerdict } from '../core/run/contract-verdicts.js';
import { STATE_MARK } from '../report/report-format.js';
import { stripControl } from '../core/control-stripper.js';

const useColor = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && process.env.NO_COLOR === undefined;

/** `n` and the noun, plural but for one: `1 task`, `3 tasks`. */
export const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

export function painter(stream: NodeJS.WriteStream = process.stdout) {
  const on = useColor(stream);
  const wrap = (code: number) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  return { green: wrap(32), red: wrap(31), yellow: wrap(33), dim: wrap(2), bold: wrap(1), cyan: wrap(36) };
}

const stdoutPainter = painter();

/** A task state's mark (the same as the reports'), coloured for stdout (a line per task event: no painter per call). */
export function stateMark(state: string): string {
  const c = stdoutPainter;
  const mark = STATE_MARK[state] ?? '·';
  if (state === 'succeeded') return c.green(mark);
  if (state === 'failed' || state === 'blocked') return c.red(mark);
  if (state === 'running') return c.cyan(mark);
  return state === 'skipped' || state === 'cancelled' || state === 'retrying' ? c.yellow(mark) : c.dim(mark);
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** The end-of-run summary a person reads. */
export function formatSummary(s: RunSummary, runDir: string | undefined): string {
  const c = painter();
  const { counts } = s;
  const status =
    s.status === 'succeeded'
      ? c.green('succeeded')
      : s.status === 'failed' || s.status === 'blocked'
        ? c.red(s.status)
        : c.yellow(s.status);
  const lines = [
    '',
    // The run's reason may quote what a task wrote (a gate's output): it must not drive the terminal.
    `${c.bold(`Run ${s.runId}`)} ${status}${s.reason === undefined ? '' : ` — ${stripControl(s.reason)}`}${s.mode === 'sequential' ? ' (sequential)' : ''}`,
    `  tasks        ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped} skipped${counts.cancelled > 0 ? `, ${counts.cancelled} cancelled` : ''}${(counts.blocked ?? 0) > 0 ? `, ${counts.blocked} blocked` : ''}${(counts.running ?? 0) > 0 ? `, ${counts.running} running` : ''}${counts.pending > 0 ? `, ${counts.pending} not run` : ''} of ${counts.total}`,
    `  makespan     ${formatDuration(s.makespanMs)} on ${s.workers} worker${s.workers === 1 ? '' : 's'}${s.pausedMs > 0 ? c.dim(` (not counting ${formatDuration(s.pausedMs)} while weft was stopped)`) : ''}`,
    `  task time    ${formatDuration(s.taskTimeMs)} summed → speed-up ${s.speedup.toFixed(2)}×, utilisation ${pct(s.utilisation)}`,
    // Where isolation dominates (short tasks in worktrees), the speed-up alone reads as weft being slow.
    ...(s.handlingMs >= 100 && s.handlingMs >= 0.1 * s.makespanMs
      ? [
          `  around tasks ${formatDuration(s.handlingMs)} summed outside their processes ${c.dim('(worktrees, commits, merges, output checks)')}`,
        ]
      : []),
    `  critical path ${s.criticalPath.length === 0 ? '—' : `${chainLine(criticalSteps(s))} (${formatDuration(s.criticalPathMs)})`}`,
  ];
  const durationOf = new Map(s.tasks.map((t) => [t.id, t.durationMs]));
  if (s.criticalPath.length > 0)
    lines.push(
      `  bottleneck   ${c.bold(s.criticalPath.reduce((a, b) => ((durationOf.get(b) ?? 0) > (durationOf.get(a) ?? 0) ? b : a)))}`,
    );
  // The critical path adds up task time: a wait for a person is not in it, so it is said here.
  const decided = s.tasks.flatMap((t) =>
    t.approval?.decidedAt === undefined
      ? []
      : [`${t.id} ${t.approval.state} after ${formatDuration(t.approval.decidedAt - t.approval.since)}`],
  );
  if (decided.length > 0) lines.push(`  approvals    ${decided.join(', ')} ${c.dim('(waits for a person)')}`);
  const perWorker = Object.entries(s.tasksPerWorker).sort(([a], [b]) => Number(a) - Number(b));
  if (perWorker.length > 0) lines.push(`  per worker   ${perWorker.map(([w, n]) => `w${w}: ${n}`).join(', ')}`);
  if (s.retries > 0) lines.push(`  retries      ${s.retries}`);
  if (s.fixes > 0)
    lines.push(`  fixes        ${s.fixes} ${c.dim('(sent back to their task: conflicts, failed checks, …)')}`);
  const preempted = s.tasks.filter((t) => t.preemptedBy !== undefined);
  if (preempted.length > 0)
    lines.push(`  preempted    ${preempted.map((t) => `${t.id} (by ${(t.preemptedBy ?? []).join(', ')})`).join(', ')}`);
  for (const k of s.contracts ?? []) lines.push(`  contract     ${contractLine(k, c)}`);
  if (s.loop !== undefined) lines.push(...loopLines(s.loop));
  if (s.files !== undefined)
    lines.push(
      `  changes      ${s.files.changed} file${s.files.changed === 1 ? '' : 's'}, +${s.files.added} −${s.files.removed} lines`,
    );
  if (s.usage.inputTokens + s.usage.outputTokens > 0)
    lines.push(
      `  usage        ${s.usage.inputTokens} in / ${s.usage.outputTokens} out tokens, $${s.usage.costUsd.toFixed(4)}`,
    );
  const scored = s.tasks.filter((t) => t.scores !== undefined);
  if (scored.length > 0)
    lines.push(`  scores       ${scored.map((t) => `${t.id}: ${(t.scores ?? []).join(' → ')}`).join(', ')}`);
  for (const t of s.tasks)
    if (t.flaky !== undefined)
      lines.push(
        `  flaky        ${c.yellow(t.id)}: failed (${stripControl(t.flaky)}), then passed when run again on the same tree ${c.dim('(no task was told)')}`,
      );
  const where = placesLine(s.tasks);
  if (where !== undefined) lines.push(`  ran          ${where}`);
  for (const t of s.tasks) {
    if (t.state === 'failed') lines.push(`  ${stateMark('failed')} ${t.id}: ${stripControl(t.reason ?? 'failed')}`);
    if (t.state === 'blocked')
      lines.push(`  ${stateMark('blocked')} ${t.id} blocked: ${stripControl(t.reason ?? 'blocked')}`);
    if (t.approval?.state === 'waiting')
      lines.push(`  ${c.yellow('⏸')} ${t.id} waits for approval since ${new Date(t.approval.since).toISOString()}`);
  }
  if (runDir !== undefined) lines.push(`  files        ${runDir}`);
  return lines.join('\n');
}

/** One contract's verdict: `api ✓ verified: design → backend, frontend (broken once, fixed)`. */
function contractLine(k: ContractVerdict, c: ReturnType<typeof painter>): string {
  const sides = `${k.provider} → ${k.consumers.join(', ')}`;
  const times = k.brokenAttempts === 1 ? 'once' : `${k.brokenAttempts} times`;
  if (k.verdict === 'verified')
    return `${k.name} ${c.green('✓ verified')}: ${sides}${k.brokenAttempts > 0 ? ` (broken ${times}, fixed)` : ''}`;
  if (k.verdict === 'broken') return `${k.name} ${c.red('✗ broken')}: ${stripControl(k.problem ?? '')}`;
  return `${k.name} ${c.dim('· unchecked')}: ${k.provider} produced no output to check`;
}

/** Where the tasks ran, grouped by place: `backend, frontend: worktree · deploy: merged result @1a2b3c4`. */
function placesLine(tasks: RunSummary['tasks']): string | undefined {
  const byPlace = new Map<string, string[]>();
  for (const t of tasks) {
    if (t.where !== undefined) byPlace.set(t.where, [...(byPlace.get(t.where) ?? []), t.id]);
  }
  if (byPlace.size === 0) return undefined;
  return [...byPlace].map(([place, ids]) => `${ids.join(', ')}: ${place}`).join(' · ');
}

/** The loop's iterations: how many, then one line each with how it ended, its time, cost and reasons. */
function loopLines(iterations: NonNullable<RunSummary['loop']>): string[] {
  const n = iterations.length;
  const lines = [`  loop         ${n} iteration${n === 1 ? '' : 's'}`];
  for (const it of iterations) {
    const cost = it.costUsd === undefined ? '' : `, $${it.costUsd.toFixed(4)}`;
    const time = it.durationMs === undefined ? '' : ` (${formatDuration(it.durationMs)}${cost})`;
    const why = it.reasons.length === 0 ? '' : `: ${stripControl(it.reasons.join('; '))}`;
    lines.push(`    ${it.iteration}. ${it.outcome ?? 'running'}${time}${why}`);
  }
  return lines;
}

import type { ResolvedTask } from '../plan/graph.js';
import type { Clock } from '../ports/clock.js';
import type { ApprovalDecision } from './engine-options.js';
import type { RunJournal } from './run-journal.js';
import type { RunState } from './run-state.js';
import { approvalGate } from './policies/approval.js';

/** What {@link Approvals} needs of the run. */
export interface ApprovalHost {
  readonly state: RunState;
  readonly journal: RunJournal;
  /** The run's tasks as they stand (the graph can grow). */
  tasks(): readonly ResolvedTask[];
  /** Ends a task blocked, with why. */
  block(i: number, blocked: { readonly reason: string }, now: number): void;
  /** Runs a scheduling pass soon. */
  pump(): void;
}

/**
 * Tasks with `approval: required`: held while ready until a person decides (see {@link approvalGate}).
 * The wait is journaled (`approval.waiting`); decisions are written into the run's journal by
 * `weft approve` / `weft reject` and read here through `poll` while anything waits.
 */
export class Approvals {
  /** Tasks rejected while the scheduler was releasing them: blocked at the next pass. */
  private rejected: { task: number; reason: string }[] = [];
  private timer: unknown;
  private disposed = false;

  constructor(
    private readonly host: ApprovalHost,
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly poll: (() => Promise<readonly ApprovalDecision[]>) | undefined,
  ) {}

  /** A task became ready: journal its wait, or note a rejection made while weft was stopped. */
  ready(i: number, at: number): void {
    const task = this.host.tasks()[i] as ResolvedTask;
    if (task.approval !== 'required') return; // nothing to wait for (and no lookup of its record)
    const d = approvalGate(task, this.host.state.tasks.get(task.id)?.approval);
    if (d.kind === 'wait' && d.record) this.host.journal.recordTask(i, { type: 'approval.waiting', at, task: task.id });
    if (d.kind === 'reject') this.rejected.push({ task: i, reason: d.reason });
    if (d.kind === 'wait') this.arm();
  }

  /** Whether the scheduler must hold ready task `i`. */
  held(i: number): boolean {
    const task = this.host.tasks()[i] as ResolvedTask;
    if (task.approval !== 'required') return false;
    return approvalGate(task, this.host.state.tasks.get(task.id)?.approval).kind !== 'go';
  }

  /** Blocks what was rejected; call at the start of a pass, outside the scheduler's own calls. */
  settle(now: number): void {
    const rejected = this.rejected;
    this.rejected = [];
    for (const r of rejected) this.host.block(r.task, { reason: r.reason }, now);
  }

  /** Stops polling: the run ended. */
  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Whether any ready task still waits for a decision. */
  private anyWaiting(): boolean {
    return this.host.tasks().some((t) => {
      const r = this.host.state.tasks.get(t.id);
      return r?.approval?.state === 'waiting' && r.state === 'ready';
    });
  }

  private arm(): void {
    if (this.poll === undefined || this.timer !== undefined || this.disposed) return;
    this.timer = this.clock.setTimeout(() => void this.read(), this.pollMs);
  }

  private async read(): Promise<void> {
    let decisions: readonly ApprovalDecision[] = [];
    try {
      decisions = (await this.poll?.()) ?? [];
    } catch {
      // A journal that cannot be read now is read again at the next poll.
    }
    this.timer = undefined;
    if (this.disposed) return;
    const index = new Map(this.host.tasks().map((t, i) => [t.id, i]));
    let changed = false;
    for (const d of decisions) {
      const i = index.get(d.task);
      const r = this.host.state.tasks.get(d.task);
      if (i === undefined || r?.approval?.state !== 'waiting') continue; // not (or no longer) waiting
      if (d.at < r.approval.since) continue; // made before this wait began: an earlier iteration's of a loop
      this.host.journal.adopt(d);
      const now = approvalGate(this.host.tasks()[i] as ResolvedTask, this.host.state.tasks.get(d.task)?.approval);
      if (now.kind === 'reject') this.rejected.push({ task: i, reason: now.reason });
      changed = true;
    }
    if (changed) this.host.pump();
    if (this.anyWaiting()) this.arm();
  }
}

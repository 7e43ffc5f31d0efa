import type { ResolvedTask } from '../../plan/graph.js';
import type { ApprovalRecord } from '../run-state.js';

/** What a ready task's `approval:` lets happen now. */
export type ApprovalGate =
  | { readonly kind: 'go' }
  /** Hold it; `record`: journal that it began to wait (not when it already waits, e.g. after a resume). */
  | { readonly kind: 'wait'; readonly record: boolean }
  | { readonly kind: 'reject'; readonly reason: string };

/**
 * Whether a ready task may start: without `approval: required` at once; with it once a person
 * approved (`weft approve`), never when one rejected (`weft reject`, it ends blocked with the
 * reason); until then it waits — and a wait already journaled (a resume) goes on from its `since`.
 *
 * @example
 * approvalGate(task, { state: 'rejected', since: 0, reason: 'not on a Friday', by: 'ana@box' })
 * // { kind: 'reject', reason: 'rejected by ana@box: not on a Friday' }
 */
export function approvalGate(task: Pick<ResolvedTask, 'approval'>, approval: ApprovalRecord | undefined): ApprovalGate {
  if (task.approval !== 'required') return { kind: 'go' };
  if (approval === undefined) return { kind: 'wait', record: true };
  if (approval.state === 'waiting') return { kind: 'wait', record: false };
  if (approval.state === 'approved') return { kind: 'go' };
  const by = approval.by === undefined ? '' : ` by ${approval.by}`;
  return { kind: 'reject', reason: `rejected${by}${approval.reason === undefined ? '' : `: ${approval.reason}`}` };
}

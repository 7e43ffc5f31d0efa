import { describe, expect, it } from 'vitest';
import { approvalGate } from './approval.js';

const required = { approval: 'required' as const };

describe('approvalGate', () => {
  it('a task without approval goes at once', () => {
    expect(approvalGate({}, undefined)).toEqual({ kind: 'go' });
  });

  it('waits (journaling the wait once) until a person decides', () => {
    expect(approvalGate(required, undefined)).toEqual({ kind: 'wait', record: true });
    expect(approvalGate(required, { state: 'waiting', since: 5 })).toEqual({ kind: 'wait', record: false });
  });

  it('goes once approved; a rejection carries who and why', () => {
    expect(approvalGate(required, { state: 'approved', since: 5, decidedAt: 9 })).toEqual({ kind: 'go' });
    expect(approvalGate(required, { state: 'rejected', since: 5, reason: 'not on a Friday', by: 'ana@box' })).toEqual({
      kind: 'reject',
      reason: 'rejected by ana@box: not on a Friday',
    });
    expect(approvalGate(required, { state: 'rejected', since: 5 })).toEqual({ kind: 'reject', reason: 'rejected' });
  });
});

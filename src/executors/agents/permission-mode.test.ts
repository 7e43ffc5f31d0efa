import { describe, expect, it } from 'vitest';
import { PERMISSION_MODES } from '../../core/plan/plan-schema.js';
import { claudePermissionMode, codexSandboxMode, geminiApprovalMode } from './permission-mode.js';

describe('permission modes', () => {
  it('maps every name a plan may write to a mode each agent has, read-only names to read-only', () => {
    const claude = new Set(['plan', 'acceptEdits', 'bypassPermissions', 'default', 'auto', 'dontAsk']);
    const codex = new Set(['read-only', 'workspace-write', 'danger-full-access']);
    const gemini = new Set(['plan', 'auto_edit', 'yolo', 'default']);
    for (const mode of PERMISSION_MODES) {
      expect(claude.has(claudePermissionMode(mode)), mode).toBe(true);
      expect(codex.has(codexSandboxMode(mode)), mode).toBe(true);
      expect(gemini.has(geminiApprovalMode(mode)), mode).toBe(true);
    }
    for (const mode of ['plan', 'read-only'])
      expect([claudePermissionMode(mode), codexSandboxMode(mode), geminiApprovalMode(mode)]).toEqual([
        'plan',
        'read-only',
        'plan',
      ]);
  });
});

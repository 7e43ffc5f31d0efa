/**
 * One `permissionMode` in a plan's `defaults` should mean the same for every agent, so each CLI's
 * own names are accepted by all three and mapped to the nearest mode of the CLI at hand:
 *
 * | meaning                       | Claude `--permission-mode` | Codex `-s` (sandbox)  | Gemini `--approval-mode` |
 * |-------------------------------|----------------------------|-----------------------|--------------------------|
 * | read only / plan              | `plan`                     | `read-only`           | `plan`                   |
 * | edit files in the workspace   | `acceptEdits` (default)    | `workspace-write` (d) | `auto_edit` (default)    |
 * | anything, no questions asked  | `bypassPermissions`        | `danger-full-access`  | `yolo`                   |
 *
 * A CLI's own other modes (Claude `default`, `auto`, `dontAsk`; Gemini `default`) pass through.
 */
type Level = 'read' | 'edit' | 'all';

const LEVELS: Readonly<Record<string, Level>> = {
  plan: 'read',
  'read-only': 'read',
  acceptEdits: 'edit',
  auto_edit: 'edit',
  'workspace-write': 'edit',
  bypassPermissions: 'all',
  yolo: 'all',
  'danger-full-access': 'all',
};

const CLAUDE: Readonly<Record<Level, string>> = { read: 'plan', edit: 'acceptEdits', all: 'bypassPermissions' };
const CODEX: Readonly<Record<Level, string>> = {
  read: 'read-only',
  edit: 'workspace-write',
  all: 'danger-full-access',
};
const GEMINI: Readonly<Record<Level, string>> = { read: 'plan', edit: 'auto_edit', all: 'yolo' };
const CLAUDE_OWN = new Set(['default', 'auto', 'dontAsk']);
const GEMINI_OWN = new Set(['default']);

/** Claude's `--permission-mode`. @default 'acceptEdits' */
export function claudePermissionMode(mode: string | undefined): string {
  if (mode !== undefined && CLAUDE_OWN.has(mode)) return mode;
  return CLAUDE[LEVELS[mode ?? ''] ?? 'edit'];
}

/** Codex's sandbox mode (`-s`). @default 'workspace-write' */
export function codexSandboxMode(mode: string | undefined): string {
  return CODEX[LEVELS[mode ?? ''] ?? 'edit'];
}

/** Gemini's `--approval-mode`. @default 'auto_edit' */
export function geminiApprovalMode(mode: string | undefined): string {
  if (mode !== undefined && GEMINI_OWN.has(mode)) return mode;
  return GEMINI[LEVELS[mode ?? ''] ?? 'edit'];
}

export { GitWorkspace } from './git-workspace.js';
export type { GitWorkspaceOptions } from './git-workspace-options.js';
export { applyRun, type AppliedRun, type ApplyRunOptions } from './apply-run.js';
export { isIsolated } from './isolation.js';
export { integrationBranch, taskBranch, attemptBranch } from './branch-names.js';
export { GitError, WEFT_IDENTITY, type GitIdentity } from './git.js';
export { openRepository, type Repository } from './repository.js';
export { branchExists } from './worktrees.js';
export { missingOutputs, missingOutputsVerdict } from './outputs.js';

export { branchName } from './branch';
export { GitError, redact, runGit } from './exec';
export type { GitErrorKind } from './exec';
export { gitAuth, isHttpUrl } from './auth';
export { WorkdirBusyError, withWorkdirLock } from './lock';
export { BRANCH_PREFIX, GitWorkspace } from './workspace';
export type { GitIdentity, GitWorkspaceOptions } from './workspace';

export { createGitHubIac, createGitHubIacFromEnv } from './iac';
export { ConfigError, loadGitHubApiConfig, loadGitHubIacConfig } from './config';
export type { GitHubApiConfig, GitHubIacConfig, RepoTarget } from './config';
export { createGitHubClient, rateLimitFailure } from './client';
export { createGitHubFindingSource } from './alerts';
export { GitHubPulls } from './pulls';
export type { GitHubPull } from './pulls';

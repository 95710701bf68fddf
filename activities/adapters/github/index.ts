export { createGitHubIac, createGitHubIacFromEnv } from './iac';
export { ConfigError, loadGitHubIacConfig } from './config';
export type { GitHubIacConfig, RepoTarget } from './config';
export { createGitHubClient, rateLimitFailure } from './client';
export { GitHubPulls } from './pulls';
export type { GitHubPull } from './pulls';

import { ApplicationFailure } from '@temporalio/common';
import { createGitHubIac, loadGitHubIacConfig } from '../../../../activities/adapters/github';
import type { Iac, PullRequestInput } from '../../../../activities/interfaces';
import type { GitHubSimulator } from '../../../../simulators/github';
import type { TestRemote } from './repo';

/** The GitHub IaC adapter configured for one test remote and the GitHub simulator. */

export const REPO = 'acme/infra';

export function githubIacEnv(remote: TestRemote, sim: GitHubSimulator, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    GITHUB_API_URL: sim.url,
    GITHUB_TOKEN: sim.token,
    DRW_IAC_REPOS: JSON.stringify({ [REPO]: remote.bare }),
    DRW_IAC_WORKDIR: remote.workdir,
    DRW_GIT_AUTHOR_NAME: 'drw bot',
    DRW_GIT_AUTHOR_EMAIL: 'drw@example.com',
    GITHUB_TIMEOUT_MS: '2000',
    ...overrides,
  };
}

export function githubIac(remote: TestRemote, sim: GitHubSimulator, overrides: Record<string, string> = {}): Iac {
  return createGitHubIac(loadGitHubIacConfig(githubIacEnv(remote, sim, overrides))!);
}

/** The pull request step the tests open: block public access to the fixture's log bucket. */
export function prInput(over: Partial<PullRequestInput> = {}): PullRequestInput {
  return {
    idempotencyKey: 'remediation-42:step-open-pr',
    remediationId: 'remediation-42',
    template: 's3_block_public_access',
    repository: REPO,
    params: { bucket: 'acme-prod-logs' },
    title: 'Block public access to S3 bucket acme-prod-logs',
    body: 'Finding: **acme-prod-logs** is publicly readable.\n\nRemediation: https://drw.example/remediations/remediation-42',
    ...over,
  };
}

/** What `p` rejects with (failing the test when it resolves). */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('expected a failure');
}

/**
 * The finding sources this worker can re-query to verify a fix (a `source_finding` check), by
 * `ref.source`. Unlike the other kinds, several can be on at once, and none has an in-process
 * stand-in: a source without its API configured answers "not verified", never "gone".
 * DRW_FINDING_SOURCES: unset or "auto" (each source whose variables are set), "none", or a
 * comma-separated list (github, securityhub), each of which must then be configured —
 * "securityhub" alone also covers credentials the environment cannot show (an instance role).
 */
import { ConfigError } from '../common/config';
import { createGitHubFindingSource, loadGitHubApiConfig } from './adapters/github';
import { createSecurityHubFindingSource, loadSecurityHubConfig } from './adapters/securityhub';
import { parseSourceFindingRef } from '../ingest/source-ref';
import type { FindingSource, SourceFindingRef, VerifyResult } from './interfaces';

export type SourceName = SourceFindingRef['source'];
export type FindingSources = Partial<Record<SourceName, FindingSource>>;

/** What to set for each source: named in a failed check and in configuration errors. */
export const FINDING_SOURCE_SETTINGS: Record<SourceName, string> = {
  github: 'GITHUB_TOKEN, and GITHUB_API_URL for GitHub Enterprise Server',
  securityhub: 'AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role) and AWS_REGION, or SECURITYHUB_ENDPOINT',
};

const LOADERS: Record<SourceName, (env: NodeJS.ProcessEnv, explicit: boolean) => FindingSource | undefined> = {
  github: (env) => ((c) => (c ? createGitHubFindingSource(c) : undefined))(loadGitHubApiConfig(env)),
  securityhub: (env, explicit) => ((c) => (c ? createSecurityHubFindingSource(c) : undefined))(loadSecurityHubConfig(env, { explicit })),
};
const NAMES = Object.keys(LOADERS) as SourceName[];

/** The configured sources, and how the providers line names them ("github,securityhub" or "none"). */
export function buildFindingSources(env: NodeJS.ProcessEnv): { sources: FindingSources; provider: string } {
  const wanted = (env.DRW_FINDING_SOURCES ?? 'auto').trim().toLowerCase() || 'auto';
  const names = wanted === 'auto' || wanted === 'none' ? [] : wanted.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !NAMES.includes(n as SourceName));
  if (unknown.length) throw new ConfigError([`DRW_FINDING_SOURCES: unknown source "${unknown[0]}" (auto, none, or a list of ${NAMES.join(', ')})`]);
  const sources: FindingSources = {};
  if (wanted !== 'none') {
    for (const name of wanted === 'auto' ? NAMES : (names as SourceName[])) {
      const source = load(name, env, wanted !== 'auto');
      if (source) sources[name] = source;
      else if (wanted !== 'auto') throw new ConfigError([`DRW_FINDING_SOURCES names ${name} but its variables are not set: ${FINDING_SOURCE_SETTINGS[name]}`]);
    }
  }
  const on = Object.keys(sources);
  return { sources, provider: on.length ? on.join(',') : 'none' };
}

/** A source's invalid variable stops the worker like any other configuration problem (the message names the variable, never its value). */
function load(name: SourceName, env: NodeJS.ProcessEnv, explicit: boolean): FindingSource | undefined {
  try {
    return LOADERS[name](env, explicit);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([`${name} finding source: ${(e as Error).message}`]);
  }
}

/** A `source_finding` check: ok only when the source itself says the finding is gone. */
export async function checkSourceFinding(sources: FindingSources | undefined, input: SourceFindingRef): Promise<VerifyResult> {
  const { ref, problem } = parseSourceFindingRef(input);
  if (!ref) return { ok: false, detail: `not a finding reference drw can re-query (${problem})` };
  const source = sources?.[ref.source];
  if (!source) return { ok: false, detail: `no ${ref.source} API configured on this worker (set ${FINDING_SOURCE_SETTINGS[ref.source]}): the finding was not re-queried` };
  const state = await source.getFindingState({ ref });
  return { ok: state.gone, detail: `${describe(ref)} at ${state.system}: ${state.status}` };
}

function describe(ref: SourceFindingRef): string {
  return ref.source === 'github' ? `${ref.repository} ${ref.alertKind === 'dependabot' ? 'Dependabot' : 'code scanning'} alert #${ref.alertNumber}` : `finding ${ref.findingId}`;
}

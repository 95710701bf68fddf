import { GetFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { parseSourceFindingRef } from '../../../ingest/source-ref';
import type { FindingSource, SourceFindingState } from '../../interfaces';
import { nonRetryable } from '../http';
import type { SecurityHubConfig } from './config';
import { toSecurityHubFailure } from './failures';

/**
 * Re-reads a Security Hub finding with GetFindings (Filters Id and ProductArn, EQUALS) through
 * the official SDK, which signs with SigV4 and finds credentials the way every AWS tool does.
 * Gone: Compliance PASSED (the control's check now passes), Workflow RESOLVED, or RecordState
 * ARCHIVED (the provider withdrew it). Workflow SUPPRESSED is a person hiding the finding, not a
 * fix; a finding GetFindings does not return is unknown, so not gone.
 */

/** Security Hub can answer a filtered query with empty pages before the match: a few are followed. */
const MAX_PAGES = 5;

export function findingState(f: Pick<AwsSecurityFinding, 'Compliance' | 'Workflow' | 'RecordState'>): SourceFindingState {
  const compliance = f.Compliance?.Status;
  const workflow = f.Workflow?.Status;
  const record = f.RecordState;
  const words = [compliance && `Compliance ${compliance}`, workflow && `Workflow ${workflow}`, record && `RecordState ${record}`].filter(Boolean).join(', ') || 'no state';
  const gone = compliance === 'PASSED' || workflow === 'RESOLVED' || record === 'ARCHIVED';
  const note = !gone && workflow === 'SUPPRESSED' ? ': suppressed by a person, which hides the finding but is not a fix' : '';
  return { system: 'securityhub', gone, status: `${words}${note}` };
}

export function createSecurityHubFindingSource(config: SecurityHubConfig): FindingSource & { close(): void } {
  const clients = new Map<string, SecurityHubClient>();
  const clientFor = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c = new SecurityHubClient({
        region,
        maxAttempts: 1,
        requestHandler: { requestTimeout: config.timeoutMs, connectionTimeout: config.timeoutMs, throwOnRequestTimeout: true },
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        ...(config.credentials ? { credentials: config.credentials } : {}),
        ...(config.profile ? { profile: config.profile } : {}),
      });
      clients.set(region, c);
    }
    return c;
  };
  return {
    async getFindingState(input) {
      const { ref, problem } = parseSourceFindingRef(input?.ref);
      if (!ref || ref.source !== 'securityhub') throw nonRetryable('securityhub', `not a Security Hub finding reference: ${problem ?? `source is ${ref?.source}`}`, 'InvalidInput');
      const region = ref.region ?? config.region;
      if (!region) {
        throw nonRetryable('securityhub', 'the finding names no region and AWS_REGION is not set on this worker', 'NoRegion');
      }
      const filters = { Id: [{ Value: ref.findingId, Comparison: 'EQUALS' as const }], ProductArn: [{ Value: ref.productArn, Comparison: 'EQUALS' as const }] };
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        let res;
        try {
          res = await clientFor(region).send(new GetFindingsCommand({ Filters: filters, MaxResults: 10, ...(token ? { NextToken: token } : {}) }));
        } catch (e) {
          throw toSecurityHubFailure(e, 'GetFindings');
        }
        const found = (res.Findings ?? []).find((f) => f.Id === ref.findingId && f.ProductArn === ref.productArn);
        if (found) return findingState(found);
        token = res.NextToken || undefined;
        if (!token) break;
      }
      return { system: 'securityhub', gone: false, status: `not found in ${region} (GetFindings returned no such finding): unknown, so not gone` };
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}

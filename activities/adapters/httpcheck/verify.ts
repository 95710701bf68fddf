import axios from 'axios';
import { ApplicationFailure } from '@temporalio/common';
import type { Endpoint, EndpointTarget, Verify, VerifyCheck, VerifyResult } from '../../interfaces';

export interface HttpCheckDeps {
  /** The endpoint adapter host_contained / host_released ask; without it those checks fail. */
  endpoint?: Endpoint;
  timeoutMs?: number;
}

export type HttpCheckKind = 'http' | 'host_contained' | 'host_released';
export const HTTP_CHECK_KINDS: readonly HttpCheckKind[] = ['http', 'host_contained', 'host_released'];

/**
 * Verification by observation: an HTTP probe, and the endpoint's own containment state. A
 * probe that answers wrongly, or not at all, is a failed check (`ok: false`), not an error:
 * the workflow re-plans on it. Vendor errors while reading containment do throw, because an
 * EDR outage says nothing about the host and the activity should retry.
 */
export function createHttpCheckVerify(deps: HttpCheckDeps = {}): Verify & { supports(kind: VerifyCheck['kind']): boolean } {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  return {
    supports: (kind) => (HTTP_CHECK_KINDS as readonly string[]).includes(kind),
    async verify({ check }) {
      switch (check.kind) {
        case 'http':
          return probe(check, timeoutMs);
        case 'host_contained':
          return containment(deps.endpoint, check, 'contained');
        case 'host_released':
          return containment(deps.endpoint, check, 'normal');
        default:
          throw ApplicationFailure.create({
            message: `httpcheck: cannot verify checks of kind "${check.kind}"`,
            type: 'httpcheck.UnsupportedCheck',
            nonRetryable: true,
          });
      }
    },
  };
}

async function probe(check: Extract<VerifyCheck, { kind: 'http' }>, timeoutMs: number): Promise<VerifyResult> {
  let url: URL;
  try {
    url = new URL(check.url);
  } catch {
    return { ok: false, detail: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, detail: `unsupported scheme ${url.protocol}` };
  // Query strings can carry tokens; details end up in workflow history.
  const where = `${url.origin}${url.pathname}`;
  try {
    const res = await axios.get<string>(url.toString(), {
      timeout: timeoutMs,
      // The check judges the answer as given: a redirect is a status to compare, not to follow.
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
      maxContentLength: 5 * 1024 * 1024,
    });
    const statusOk = check.expectStatus !== undefined ? res.status === check.expectStatus : res.status >= 200 && res.status < 300;
    const body = typeof res.data === 'string' ? res.data : String(res.data ?? '');
    const bodyOk = check.expectBodyIncludes === undefined || body.includes(check.expectBodyIncludes);
    const wanted = check.expectStatus !== undefined ? String(check.expectStatus) : '2xx';
    const problems = [
      statusOk ? undefined : `status ${res.status}, expected ${wanted}`,
      bodyOk ? undefined : `body does not include the expected text`,
    ].filter(Boolean);
    return problems.length
      ? { ok: false, detail: `GET ${where}: ${problems.join('; ')}` }
      : { ok: true, detail: `GET ${where}: status ${res.status}${check.expectBodyIncludes !== undefined ? ', body matches' : ''}` };
  } catch (err) {
    const reason = axios.isAxiosError(err) ? (err.code ?? err.message) : (err as Error).message;
    return { ok: false, detail: `GET ${where}: no answer (${reason})` };
  }
}

async function containment(
  endpoint: Endpoint | undefined,
  check: EndpointTarget,
  want: 'contained' | 'normal',
): Promise<VerifyResult> {
  if (!endpoint) return { ok: false, detail: 'no endpoint adapter configured to read containment' };
  const r = await endpoint.getContainment({ assetId: check.assetId, deviceId: check.deviceId, hostname: check.hostname });
  const ok = r.state === want;
  return { ok, detail: `${r.system} device ${r.deviceId} of asset ${check.assetId} is ${r.state}${ok ? '' : `, expected ${want}`}` };
}

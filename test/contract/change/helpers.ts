import { createServiceNowChange, loadServiceNowConfig, type ServiceNowConfig } from '../../../activities/adapters/servicenow';
import type { ChangeControl, OpenChangeInput } from '../../../activities/interfaces';
import type { ServiceNowSimulator } from '../../../simulators/servicenow';
import { DEMO_STANDARD_CHANGE_TEMPLATE } from '../../../simulators/servicenow-change';

export const USER = 'drw.integration';
export const PASSWORD = 'Sn0w-change-secret-password!';

export function changeConfig(sim: ServiceNowSimulator, extra: Record<string, string | undefined> = {}): ServiceNowConfig {
  return loadServiceNowConfig({
    SERVICENOW_INSTANCE_URL: sim.url,
    SERVICENOW_USERNAME: USER,
    SERVICENOW_PASSWORD: PASSWORD,
    SERVICENOW_CHANGE_ASSIGNMENT_GROUP: 'Change Management',
    SERVICENOW_STANDARD_CHANGE_TEMPLATE: DEMO_STANDARD_CHANGE_TEMPLATE,
    // Generous: a loaded CI machine must not time out the ordinary calls; the lost-answer test times out only its create.
    SERVICENOW_TIMEOUT_MS: '5000',
    ...extra,
  })!;
}

export const changeAdapter = (sim: ServiceNowSimulator, extra: Record<string, string | undefined> = {}): ChangeControl => createServiceNowChange(changeConfig(sim, extra));

export function openInput(r: { remediationId: string; key: (step: string) => string }, over: Partial<OpenChangeInput> = {}): OpenChangeInput {
  return {
    remediationId: r.remediationId,
    idempotencyKey: r.key('contain'),
    type: 'normal',
    shortDescription: 'Contain web-01 (EDR: ransomware)',
    description: 'Step edr-ransomware.contain: isolate web-01 through CrowdStrike Falcon.',
    digest: 'sha256:4f1c0ffee',
    link: `http://127.0.0.1:8080/v1/remediations/${r.remediationId}`,
    ...over,
  };
}

/** A CAB member acting on the simulator's form, as a person would. */
export async function decide(sim: ServiceNowSimulator, number: string, action: 'approve' | 'reject', body: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}/_admin/changes/${number}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

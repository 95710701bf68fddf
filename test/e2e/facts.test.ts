/**
 * Facts with provenance on the real server, with the shipped policy's facts.yaml: each attack of
 * issue 11 on the facts that decide approvals (a detection that says staging for a production
 * asset, a risk score claimed through the native API), now planned on the stricter fact, and each
 * fact shown with where it came from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SHIPPED_POLICY, http, malwareDetection, startHarness, type Harness } from '../helpers/harness';
import { SAMPLES_DIR } from '../unit/ingest/samples';
import { statusIs, step, waitFor } from '../helpers/scenario';

let h: Harness;
const tag = Date.now().toString(36);
const sg = `sg-facts-${tag}`;
const falconHost = `falcon-host-${tag}`;
const falconDevice = `dev-falcon-${tag}`;

beforeAll(async () => {
  h = await startHarness({
    policyDir: SHIPPED_POLICY,
    inprocess: {
      // The CMDB knows the security group as production; the fake EDR knows Falcon's device for its host.
      assets: { [sg]: { environment: 'production', owner: 'net-team' } },
      devices: [{ deviceId: falconDevice, hostname: falconHost }],
    },
  });
});
afterAll(() => h?.close());

test('a detection saying staging for a security group the CMDB knows as production: the fix waits for cloud-owners, and the API says why', async () => {
  const r = await http('POST', `${h.api}/v1/detections`, {
    source: 'aws-securityhub',
    rule: 'EC2.19',
    title: `security group ${sg} allows 0.0.0.0/0 on 22`,
    severity: 'high',
    category: 'misconfiguration',
    asset: { id: sg, type: 'security-group', environment: 'staging' },
    details: { securityGroup: sg, repository: 'acme/infra' },
  });
  expect(r.status).toBe(202);
  const s = await waitFor(h, r.body.remediations[0].id, statusIs('awaiting_approval'), 'awaiting approval');
  expect(step(s, 'cloud-misconfiguration.fix-security-group')).toMatchObject({ status: 'awaiting_approval', approval: { groups: ['cloud-owners'] } });
  expect(s.asset).toMatchObject({ environment: 'production', owner: 'net-team' });
  expect(s.facts.environment).toEqual({ value: 'production', from: 'cmdb', why: 'the CMDB says production, stricter than staging from the detection', detection: 'staging', cmdb: 'production' });
  expect(s.decisions.find((d: any) => d.kind === 'enriched').summary).toMatch(/environment production \(cmdb\)/);
  expect([...h.systems.record.pullRequests.values()].filter((p) => p.repository === 'acme/infra')).toEqual([]);
});

test('a risk score of 95 claimed through the native API does not skip the secops approval; an operator\'s change does, and says who', async () => {
  const asset = `facts-host-${tag}`;
  const r = await http('POST', `${h.api}/v1/detections`, malwareDetection(asset, 95));
  const id = r.body.remediations[0].id;
  const waiting = await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  // high 60, production +5 (an asset the CMDB does not know counts as production).
  expect(waiting.riskScore).toBe(65);
  expect(waiting.facts.riskScore).toMatchObject({ value: 65, from: 'drw', detection: 95, why: expect.stringMatching(/the detection's 95 does not count: drw is not a trusted risk source/) });
  expect(waiting.facts.environment).toMatchObject({ value: 'production', from: 'detection' });
  expect(h.systems.record.isolateCalls).not.toContain(asset);

  expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore: 95, reason: 'lateral movement seen', by: 'analyst-1' })).status).toBe(202);
  const done = await waitFor(h, id, statusIs('remediated'), 'remediated');
  expect(done.facts.riskScore).toEqual({ value: 95, from: 'operator', why: 'lateral movement seen', by: 'analyst-1' });
  expect(h.systems.record.isolateCalls).toContain(asset);
});

test("Falcon's own severity of 95 counts (a trusted risk source): containment without approval", async () => {
  const sample = JSON.parse(readFileSync(path.join(SAMPLES_DIR, 'crowdstrike', 'sekoia-falcon-stream-EppDetectionSummaryEvent.json'), 'utf8'));
  sample.event = { ...sample.event, Hostname: falconHost, Severity: 95, AgentId: falconDevice, CompositeId: `ldt:${falconDevice}:${tag}` };
  const r = await http('POST', `${h.api}/v1/detections/falcon`, sample);
  expect(r.status).toBe(202);
  const done = await waitFor(h, r.body.remediations[0].id, statusIs('remediated'), 'remediated');
  expect(done.facts.riskScore).toMatchObject({ value: 95, from: 'detection', why: 'given by the detection (falcon is a trusted risk source)' });
  expect(step(done, 'edr-malware.contain')).toMatchObject({ status: 'done', target: { id: falconDevice } });
  expect(step(done, 'edr-malware.contain').approval).toBeUndefined();
});

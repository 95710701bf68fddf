/**
 * Policy rollout on the real server (issue 12, point 8): a new version deployed to the policy
 * folder is published through the API to the open remediations of this drw, all, by playbook or a
 * canary share; each re-plans on it and records who published it and why.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canaryBucket } from '../../api/policy-rollout';
import { loadPolicyDir } from '../../planner/load';
import { DEFAULT_POLICY, eventually, http, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, statusIs, submit, waitFor } from '../helpers/scenario';

let h: Harness;
let policyDir: string;

beforeAll(async () => {
  policyDir = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-publish-'));
  cpSync(DEFAULT_POLICY, policyDir, { recursive: true });
  h = await startHarness({ policyDir });
});
afterAll(async () => {
  await h?.close();
  if (policyDir) rmSync(policyDir, { recursive: true, force: true });
});

const malware = (host: string) => detection({ source: 'crowdstrike', rule: 'Trojan.Pub', severity: 'high', category: 'malware', riskScore: 60, asset: { id: host, environment: 'production' } });
const vulnerability = (host: string) => detection({ source: 'trivy', rule: 'CVE-2030-1', severity: 'high', category: 'vulnerability', asset: { id: host } });

/** Edits a playbook file and returns the policy's new version, once this drw reads it (its folder is re-read within a second). */
async function edit(file: string, from: string, to: string): Promise<string> {
  const f = path.join(policyDir, file);
  const text = readFileSync(f, 'utf8');
  expect(text).toContain(from);
  writeFileSync(f, text.replace(from, to));
  const version = loadPolicyDir(policyDir).version;
  await eventually(async () => (h.app.policy.get().version === version ? true : undefined), `this drw reading policy ${version}`);
  return version;
}

/** Waits until visibility lists each remediation (by its asset: the namespace is shared) on its playbook and this version. */
async function listed(assets: string[], version: string): Promise<void> {
  await eventually(async () => {
    for (const a of assets) {
      const r = await http('GET', `${h.api}/v1/remediations?asset=${encodeURIComponent(a)}&status=open`);
      if (!(r.body.remediations as any[]).some((x) => x.playbook && x.policyVersion === version)) return undefined;
    }
    return true;
  }, 'the remediations listed with their playbook and policy version');
}

test('a new version published to one playbook: its open remediations re-plan on it and record who and why; the others stay', async () => {
  const v1 = loadPolicyDir(policyDir).version;
  const assets = [asset('pub-edr-1'), asset('pub-edr-2'), asset('pub-vuln-1')];
  const edr = [await submit(h, malware(assets[0])), await submit(h, malware(assets[1]))];
  const vuln = await submit(h, vulnerability(assets[2]));
  for (const id of edr) await waitFor(h, id, statusIs('awaiting_approval'), 'awaiting approval');
  await waitFor(h, vuln, (s) => s.plan?.version > 0, 'planned');
  await listed(assets, v1);

  const v2 = await edit('40-edr-malware.yaml', 'when: riskScore < 90', 'when: riskScore < 50');
  // A version this drw does not read is refused: deploy first, then publish.
  const stale = await http('POST', `${h.api}/v1/policy/publish`, { version: '0123456789abcdef', reason: 'wrong version', by: 'alice' });
  expect(stale.status).toBe(409);
  expect(stale.body.error).toMatch(new RegExp(`reads policy ${v2} from its policy folder, not 0123456789abcdef`));
  const unknown = await http('POST', `${h.api}/v1/policy/publish`, { version: v2, playbooks: ['edr-malwar'], reason: 'typo', by: 'alice' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error).toMatch(/unknown playbook edr-malwar/);

  const r = await http('POST', `${h.api}/v1/policy/publish`, { version: v2, playbooks: ['edr-malware'], reason: 'contain at once from risk 50', by: 'alice' });
  expect(r.status).toBe(202);
  expect({ ...r.body, signalled: [...r.body.signalled].sort() }).toEqual({ version: v2, signalled: [...edr].sort(), heldBack: 0 });
  for (const id of edr) {
    const done = await waitFor(h, id, statusIs('remediated'), 'remediated under the published policy');
    expect(done.plan.policyVersion).toBe(v2);
    expect(done.decisions.find((d: any) => d.kind === 'policy_updated')).toMatchObject({ from: v1, to: v2, by: 'alice', reason: 'contain at once from risk 50' });
  }
  const other = await waitFor(h, vuln, (s) => s.plan?.version > 0, 'still planned');
  expect(other.plan.policyVersion).toBe(v1);
  expect(other.decisions.some((d: any) => d.kind === 'policy_updated')).toBe(false);
});

test('a canary share: the remediations whose place in the canary order is below it re-plan; the rest are held back until it grows', async () => {
  const assets = Array.from({ length: 6 }, (_, i) => asset(`pub-canary-${i}`));
  const ids: string[] = [];
  for (const a of assets) ids.push(await submit(h, vulnerability(a)));
  for (const id of ids) await waitFor(h, id, (s) => s.plan?.version > 0, 'planned');
  const before = loadPolicyDir(policyDir).version;
  await listed(assets, before);
  const v3 = await edit('20-vulnerability.yaml', 'priority:', 'priority: ');
  const mine = (xs: string[]) => xs.filter((x) => ids.includes(x)).sort();

  const half = await http('POST', `${h.api}/v1/policy/publish`, { version: v3, playbooks: ['vulnerability'], percent: 50, reason: 'canary', by: 'alice' });
  expect(half.status).toBe(202);
  const chosen = ids.filter((id) => canaryBucket(id) < 50).sort();
  expect(mine(half.body.signalled)).toEqual(chosen);
  for (const id of chosen) await waitFor(h, id, (s) => s.plan?.policyVersion === v3, `${id} on ${v3}`);
  await listed(assets.filter((_, i) => chosen.includes(ids[i])), v3);

  // Growing to 100% reaches the rest, not the ones already on the version.
  const all = await http('POST', `${h.api}/v1/policy/publish`, { version: v3, playbooks: ['vulnerability'], reason: 'canary done', by: 'alice' });
  expect(mine(all.body.signalled)).toEqual(ids.filter((id) => !chosen.includes(id)).sort());
  for (const id of ids) await waitFor(h, id, (s) => s.plan?.policyVersion === v3, `${id} on ${v3}`);
});

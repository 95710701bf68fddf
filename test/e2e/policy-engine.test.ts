/**
 * A playbook asks a real Open Policy Agent (1.22.3, the fixture bundle in test/fixtures/opa) whether
 * drw may contain a host: the answer is a fact with OPA's decision id in the decision log, a
 * changed risk asks again, and an OPA that cannot be reached blocks the step and escalates.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOpaPolicyEngine } from '../../activities/adapters/opa';
import { main } from '../../cli/drw';
import { FIXTURE_TOKEN, startOpa, type OpaServer } from '../contract/opa/opa-server';
import { SCENARIO_FACTS, http, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';

function policyDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-opa-policy-'));
  writeFileSync(
    path.join(dir, 'contain.yaml'),
    `id: contain
name: Contain when the policy engine allows it
match: { categories: [malware] }
steps:
  - id: ticket
    action: ticket.open
  - id: isolate
    action: endpoint.isolate
    opa: { path: drw/containment/allow }
    compensation: { action: endpoint.release }
escalation:
  - id: page
    action: escalate
    params: { channel: secops, text: "{{asset.id}} needs a person" }
`,
  );
  writeFileSync(path.join(dir, 'facts.yaml'), SCENARIO_FACTS);
  return dir;
}

let opa: OpaServer;
let h: Harness;
let down: Harness;
let dir: string;
beforeAll(async () => {
  opa = await startOpa();
  dir = policyDir();
  h = await startHarness({ policyDir: dir, override: { policyEngine: createOpaPolicyEngine({ url: opa.url, token: FIXTURE_TOKEN, timeoutMs: 5_000 }) } });
  // Nothing listens on port 9 (discard): the engine cannot be reached.
  down = await startHarness({ policyDir: dir, override: { policyEngine: createOpaPolicyEngine({ url: 'http://127.0.0.1:9', timeoutMs: 500 }) } });
});
afterAll(async () => {
  await h?.close();
  await down?.close();
  await opa?.close();
});

const malware = (host: string, riskScore: number) => detection({ source: 'crowdstrike', rule: 'Trojan.Opa', category: 'malware', riskScore, asset: { id: host, environment: 'production' } });

test("OPA allows containing a production host at risk 95: the step is planned from its answer, runs, and the log keeps OPA's decision id", async () => {
  const host = asset('opa-allow');
  const id = await submit(h, malware(host, 95));
  const s = await waitFor(h, id, (x) => x.plan.steps.some((y: any) => y.id === 'contain.isolate' && y.status === 'done'), 'contained');
  const decision = s.decisions.find((d: any) => d.kind === 'policy_decision');
  expect(decision).toMatchObject({ path: 'drw/containment/allow', result: true, engine: 'opa', decisionId: expect.any(String) });
  expect(opa.log()).toContain(decision.decisionId);
  expect(step(s, 'contain.isolate').reason).toMatchObject({ rule: 'policy engine drw/containment/allow is true', facts: { opa: { value: true, from: 'policy-engine', decisionId: decision.decisionId } } });
  expect(h.systems.record.containments.get(host)).toBe('contained');
});

test('OPA says no at risk 60; an operator raises the risk to 95 and drw asks again with the new facts, then contains', async () => {
  const host = asset('opa-reask');
  const id = await submit(h, malware(host, 60));
  const first = await waitFor(h, id, (x) => x.decisions.some((d: any) => d.kind === 'policy_decision'), 'asked OPA');
  expect(first.decisions.filter((d: any) => d.kind === 'policy_decision').map((d: any) => d.result)).toEqual([false]);
  expect(first.plan.steps.map((y: any) => y.id)).not.toContain('contain.isolate');
  expect((await http('POST', `${h.api}/v1/remediations/${id}/risk`, { riskScore: 95, reason: 'lateral movement seen', by: 'oscar' })).status).toBe(202);
  const s = await waitFor(h, id, (x) => x.plan.steps.some((y: any) => y.id === 'contain.isolate' && y.status === 'done'), 'contained after the re-ask');
  expect(s.decisions.filter((d: any) => d.kind === 'policy_decision').map((d: any) => d.result)).toEqual([false, true]);
});

test('OPA cannot be reached: the step is blocked with the reason and the escalation runs; nothing is contained', async () => {
  const host = asset('opa-down');
  const id = await submit(down, malware(host, 95));
  const s = await waitFor(down, id, (x) => x.plan.steps.some((y: any) => y.reason.section === 'escalation' && y.status === 'done'), 'escalated', 60_000);
  expect(step(s, 'contain.isolate')).toMatchObject({ status: 'blocked', note: expect.stringMatching(/^the policy engine did not answer drw\/containment\/allow: /) });
  expect(s.decisions.find((d: any) => d.kind === 'policy_decision')).toMatchObject({ path: 'drw/containment/allow', error: expect.any(String) });
  expect(down.systems.record.containments.get(host)).toBeUndefined();
});

test('drw plan --dry-run --opa asks the same OPA before showing the plan; without --opa it says what it did not ask', async () => {
  const file = path.join(dir, '..', `opa-detection-${asset('x')}.json`);
  writeFileSync(file, JSON.stringify(malware('web-9', 95)));
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['plan', '--dry-run', file, '--policy', dir, '--via', 'falcon', ...argv], { env: { ...process.env, OPA_TOKEN: FIXTURE_TOKEN }, cwd: dir, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), readStdin: async () => '' });
    return { code, stdout, stderr };
  };
  const asked = await run('--opa', opa.url);
  expect(asked.code).toBe(0);
  expect(asked.stdout).toMatch(/contain\.isolate +endpoint\.isolate +pending +when policy engine drw\/containment\/allow is true/);
  expect(asked.stdout).toMatch(/Policy engine:\n {2}drw\/containment\/allow: true \(decision [0-9a-f-]{36}\)/);
  const unasked = await run();
  expect(unasked.stdout).not.toContain('contain.isolate  ');
  expect(unasked.stdout).toContain('drw/containment/allow: not asked (--opa <url> asks it)');
  expect((await run('--opa', 'http://opa.example.com:8181')).stderr).toMatch(/--opa: /);
});

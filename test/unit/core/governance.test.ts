/**
 * Approvals people can trust, in the core without a server: each attack of issue 11 that the
 * core must refuse (look-alike approvers, approvals that outlive the content they approved, a
 * denial undone by a re-plan, forged or replayed assertions), written as the attack.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { PolicySet } from '../../../planner/policy-schema';
import { stepDigest } from '../../../planner/digest';
import { mayUndo, safeguardsUndoneBy, validateDecision } from '../../../remediation/core';
import { signAssertion, signingKeyFromPem, type SigningKey } from '../../../governance/signer';
import { verifyAssertion, base64urlDecode, base64urlEncode } from '../../../governance/assertion';
import { normalizeIdentity } from '../../../governance/identity';
import { initialState } from '../../../remediation/state';
import { DEFAULT_POLICY, Remediation, T0, TEST_POLICY, approve, malware, testCategory } from './helpers';

let policy: PolicySet;
let fixtures: PolicySet;
const newKey = (): SigningKey => signingKeyFromPem(generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
let apiKey: SigningKey;
let otherKey: SigningKey;
beforeAll(() => {
  policy = DEFAULT_POLICY();
  fixtures = TEST_POLICY();
  apiKey = newKey();
  otherKey = newKey();
});

const CONTAIN = 'edr-malware.contain';
const FIX = 'cloud-misconfiguration.fix-bucket';

const bucket = (name: string, repository = 'acme/infra') => ({
  source: 'aws-securityhub',
  rule: 'S3.8',
  title: `S3 bucket ${name} allows public access`,
  severity: 'high' as const,
  category: 'misconfiguration',
  riskScore: 60,
  asset: { id: 'logs-account', type: 'bucket', environment: 'production' },
  details: { bucket: name, repository },
});

/** A remediation whose input trusts `apiKey` only, as one started by drw's API. */
function signedOnly(detection: ReturnType<typeof malware> | ReturnType<typeof bucket>, p = policy): Remediation {
  const r = new Remediation(detection);
  r.s = { ...initialState({ id: 'rem-1', dedupeKey: 'key-1', requestedBy: r.s.requestedBy, receivedAt: new Date(T0).toISOString(), detection, trust: { keys: [apiKey.public], unsigned: false, requireDigest: true }, planningChecks: true }) };
  return r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy: p }).on({ kind: 'asset_looked_up' });
}

function signed(r: Remediation, stepId: string, approver: string, groups: string[], o: { key?: SigningKey; decision?: 'approve' | 'deny'; digest?: string; iat?: number; wf?: string } = {}) {
  const digest = o.digest ?? r.step(stepId).digest;
  const assertion = signAssertion(o.key ?? apiKey, { v: 1, wf: o.wf ?? r.s.id, step: stepId, digest, decision: o.decision ?? 'approve', approver, groups, reason: 'reviewed', iat: o.iat ?? r.now });
  return { stepId, approver, groups, reason: 'reviewed', digest, assertion };
}

describe('step digests', () => {
  test('every step has a SHA-256 digest over what it will do, and it changes with the target content', () => {
    const a = Remediation.started(bucket('public-logs'), policy);
    const st = a.step(FIX);
    expect(st.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(st.digest).toBe(stepDigest(st));
    expect(stepDigest({ ...st, disruptive: !st.disruptive })).not.toBe(st.digest);
    expect(stepDigest({ ...st, timeoutMs: st.timeoutMs + 1 })).not.toBe(st.digest);
    expect(stepDigest({ ...st, retry: { ...st.retry, maximumAttempts: 99 } })).not.toBe(st.digest);
    expect(stepDigest({ ...st, target: { kind: 'device', id: 'dc-01', via: 'detection' } })).not.toBe(st.digest);
    expect(Remediation.started(bucket('prod-customer-data'), policy).step(FIX).digest).not.toBe(st.digest);
  });

  test('an approval names the digest the approver saw: another digest is refused as a conflict', () => {
    const r = Remediation.started(bucket('public-logs'), policy);
    const stale = 'f'.repeat(64);
    expect(validateDecision(r.s, { ...approve(FIX, 'bob', ['cloud-owners']), digest: stale }, 'approve', r.now)).toMatchObject({ type: 'DigestMismatch', message: expect.stringContaining(r.step(FIX).digest) });
    expect(validateDecision(r.s, { ...approve(FIX, 'bob', ['cloud-owners']), digest: r.step(FIX).digest }, 'approve', r.now)).toBeUndefined();
  });

  test('Bob approves bucket public-logs; a repeat turns it into prod-customer-data in another repository: his approval does not carry over', () => {
    const r = Remediation.started(bucket('public-logs'), policy);
    const a = r.step(FIX).digest;
    r.message('approve', { ...approve(FIX, 'bob', ['cloud-owners']), digest: a });
    // Quorum 1 reached: the step would run now; the repeat arrives first.
    r.message('findingAdded', bucket('prod-customer-data', 'acme/payments'));
    expect(r.step(FIX).params).toMatchObject({ bucket: 'prod-customer-data', repository: 'acme/payments' });
    expect(r.step(FIX).status).toBe('awaiting_approval');
    expect(r.step(FIX).approval?.approvedBy).toEqual([]);
    expect(r.last('plan')?.diff).toEqual(expect.arrayContaining([expect.objectContaining({ step: FIX, change: 'approval_lapsed' })]));
  });

  test('content A approved, then B, then A again: A needs a new approval', () => {
    const r = Remediation.started(bucket('public-logs'), policy);
    const a = r.step(FIX).digest;
    r.message('approve', { ...approve(FIX, 'bob', ['cloud-owners']), digest: a });
    // Merged details: the bucket changes to B and back to A by repeats.
    r.message('findingAdded', bucket('prod-customer-data'));
    r.message('findingAdded', bucket('public-logs'));
    expect(r.step(FIX).digest).toBe(a);
    expect(r.step(FIX).status).toBe('awaiting_approval');
    expect(r.s.approvals.find((x) => x.approver === 'bob')).toMatchObject({ digest: a, void: true });
  });
});

describe('identities', () => {
  test('look-alike names (zero-width space, full-width letters, case) are one approver toward a quorum', () => {
    const r = Remediation.started(testCategory('quorum-test'), fixtures);
    expect(['alice', 'al\u200bice', 'ａｌｉｃｅ', 'ALICE'].map(normalizeIdentity)).toEqual(['alice', 'alice', 'alice', 'alice']);
    r.message('approve', approve('quorum.contain', 'alice'));
    for (const twin of ['al\u200bice', 'ａｌｉｃｅ']) {
      expect(validateDecision(r.s, approve('quorum.contain', twin), 'approve', r.now)).toMatchObject({ type: 'DuplicateApproval' });
      r.message('approve', approve('quorum.contain', twin));
    }
    expect(r.step('quorum.contain')).toMatchObject({ status: 'awaiting_approval', approval: { approvedBy: ['alice'] } });
  });

  test('a full-width "ｄｒｗ:expiry" is drw\'s reserved name too', () => {
    const r = Remediation.started(malware(60), policy);
    expect(validateDecision(r.s, approve(CONTAIN, 'ｄｒｗ:expiry'), 'approve', r.now)).toMatchObject({ type: 'InvalidInput', message: expect.stringMatching(/reserved/) });
  });

  test('the requester under another spelling still may not approve their own change', () => {
    const r = Remediation.started(malware(60), policy);
    expect(validateDecision(r.s, approve(CONTAIN, 'INGEST:FALCON\u200b'), 'approve', r.now)).toMatchObject({ type: 'SelfApproval' });
  });
});

describe('a denial sticks', () => {
  test('denied containment stays unapproved when a risk change would drop its approval rule', () => {
    const r = Remediation.started(malware(60), policy);
    r.message('deny', approve(CONTAIN, 'alice'));
    expect(r.step(CONTAIN).status).toBe('skipped');
    // At risk ≥ 90 the playbook contains without approval; the denial still holds it.
    r.message('riskScoreChanged', { riskScore: 95, reason: 'more evidence', by: 'mallory' });
    expect(r.step(CONTAIN).status).toBe('awaiting_approval');
    expect(r.step(CONTAIN).approval?.groups).toEqual(['secops']);
    r.message('approve', approve(CONTAIN, 'bob'));
    expect(r.step(CONTAIN).status).toBe('pending');
  });
});

describe('only signed approvals count where the input says so', () => {
  test('an approval sent straight to the workflow without the API\'s assertion is refused and logged', () => {
    const r = signedOnly(malware(60));
    r.message('approve', { ...approve(CONTAIN, 'alice'), digest: r.step(CONTAIN).digest });
    expect(r.step(CONTAIN).status).toBe('awaiting_approval');
    expect(r.last('rejected')?.error).toMatch(/unsigned approve does not count/);
  });

  test('the API\'s assertion makes the approval count, as the signed identity, whatever the body says', () => {
    const r = signedOnly(malware(60));
    const m = signed(r, CONTAIN, 'alice', ['secops']);
    r.message('approve', { ...m, approver: 'mallory', groups: ['secops'] }, 'update');
    expect(r.step(CONTAIN).status).toBe('pending');
    expect(r.last('approval')).toMatchObject({ approver: 'alice', stepId: CONTAIN });
  });

  test('forged: signed with a key the remediation does not trust', () => {
    const r = signedOnly(malware(60));
    expect(validateDecision(r.s, signed(r, CONTAIN, 'alice', ['secops'], { key: otherKey }), 'approve', r.now)).toMatchObject({ type: 'Unauthorized', message: expect.stringMatching(/does not trust/) });
  });

  test('tampered: the claims edited after signing', () => {
    const r = signedOnly(malware(60));
    const m = signed(r, CONTAIN, 'bob', ['helpdesk']);
    const [h, p, s] = m.assertion.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64urlDecode(p)));
    const edited = base64urlEncode(new TextEncoder().encode(JSON.stringify({ ...claims, groups: ['secops'] })));
    expect(validateDecision(r.s, { ...m, assertion: `${h}.${edited}.${s}` }, 'approve', r.now)).toMatchObject({ type: 'Unauthorized', message: expect.stringMatching(/bad signature/) });
  });

  test('replayed: an assertion for another remediation, another step, the other decision, old content, or too old', () => {
    const r = signedOnly(malware(60));
    const refuse = (m: object, kind: 'approve' | 'deny' = 'approve') => expect(validateDecision(r.s, m, kind, r.now)).toMatchObject({ type: expect.stringMatching(/Unauthorized|DigestMismatch/) });
    refuse(signed(r, CONTAIN, 'alice', ['secops'], { wf: 'rem-2' }));
    refuse(signed(r, CONTAIN, 'alice', ['secops'], { decision: 'deny' }));
    refuse({ ...signed(r, CONTAIN, 'alice', ['secops'], { digest: 'a'.repeat(64) }), digest: r.step(CONTAIN).digest });
    refuse(signed(r, CONTAIN, 'alice', ['secops'], { iat: r.now - 60 * 60_000 }));
    expect(verifyAssertion('not.a.jws', [apiKey.public], r.now)).toMatchObject({ ok: false });
  });

  test('without a digest the decision is refused where the input requires one', () => {
    const r = signedOnly(malware(60));
    const { digest: _seen, ...noDigest } = signed(r, CONTAIN, 'alice', ['secops']);
    expect(validateDecision(r.s, noDigest, 'approve', r.now)).toMatchObject({ type: 'InvalidInput', message: expect.stringMatching(/digest is required/) });
  });
});

describe('IaC changes previewed before approval', () => {
  const unpreviewed = (d: Parameters<typeof Remediation.started>[0]) => {
    const r = new Remediation(d);
    r.autoPreview = false;
    return r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up' });
  };
  const preview = (digest: string) => ({ repository: 'acme/infra', base: 'main', baseCommit: 'a'.repeat(40), files: ['s3.tf'], diff: '--- a/s3.tf\n+++ b/s3.tf\n+  block_public_acls = true\n', digest, summary: 'block public access on public-logs' });

  test('the pull request waits for its preview: nobody may approve it before the repository, file and change are shown, and then they are in its digest', () => {
    const r = unpreviewed(bucket('public-logs'));
    const w = r.work();
    expect(w).toMatchObject({ kind: 'preview_change', step: { id: FIX }, request: { repository: 'acme/infra', template: 's3_block_public_access', params: { bucket: 'public-logs' } } });
    expect(validateDecision(r.s, approve(FIX, 'bob', ['cloud-owners']), 'approve', r.now)).toMatchObject({ type: 'ChangeNotPreviewed' });
    const before = r.step(FIX).digest;
    r.on({ kind: 'change_previewed', stepId: FIX, forParams: (w as any).forParams, preview: preview('d'.repeat(64)) });
    expect(r.step(FIX).target).toMatchObject({ kind: 'repository', id: 'acme/infra', name: 's3.tf', change: { files: ['s3.tf'], digest: 'd'.repeat(64), diff: expect.stringContaining('block_public_acls') } });
    expect(r.step(FIX).digest).not.toBe(before);
    expect(stepDigest(r.step(FIX))).toBe(r.step(FIX).digest);
    expect(r.last('change_previewed')).toMatchObject({ stepId: FIX, repository: 'acme/infra', files: ['s3.tf'] });
    expect(r.work().kind).not.toBe('preview_change');
    expect(validateDecision(r.s, approve(FIX, 'bob', ['cloud-owners']), 'approve', r.now)).toBeUndefined();
  });

  test('another change for the same step (a repeat naming another bucket) needs a new preview and a new approval', () => {
    const r = unpreviewed(bucket('public-logs'));
    r.on({ kind: 'change_previewed', stepId: FIX, forParams: (r.work() as any).forParams, preview: preview('d'.repeat(64)) });
    r.message('approve', { ...approve(FIX, 'bob', ['cloud-owners']), digest: r.step(FIX).digest });
    expect(r.step(FIX).status).toBe('pending');
    r.message('findingAdded', bucket('prod-customer-data'));
    expect(r.step(FIX).target).toBeUndefined();
    expect(r.step(FIX).status).toBe('awaiting_approval');
    expect(r.work()).toMatchObject({ kind: 'preview_change', request: { params: { bucket: 'prod-customer-data' } } });
  });

  test('a preview that fails, or no repository to ask, blocks the step with the reason: nothing is pushed', () => {
    const r = unpreviewed(bucket('public-logs'));
    r.on({ kind: 'change_preview_failed', stepId: FIX, error: 'repository acme/infra is not configured in DRW_IAC_REPOS' });
    expect(r.step(FIX)).toMatchObject({ status: 'blocked', note: expect.stringMatching(/could not be previewed for review: repository acme\/infra is not configured/) });
    expect(r.s.escalations).toContain('step_blocked');
    const none = unpreviewed({ ...bucket('public-logs'), details: { bucket: 'public-logs' } });
    expect(none.work()).toMatchObject({ kind: 'preview_change', request: { blocked: expect.stringMatching(/no repository known/) } });
  });
});

describe('targets resolved before approval', () => {
  const device = (deviceId: string, hostname = 'laptop-42') => ({ deviceId, hostname, via: 'edr' as const, vendor: 'crowdstrike' });

  test('the device the EDR confirmed is part of the containment step and of its digest; the approver sees it', () => {
    const r = new Remediation(malware(60));
    r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up', device: device('dev-laptop-42') });
    expect(r.step(CONTAIN).target).toEqual({ kind: 'device', id: 'dev-laptop-42', name: 'laptop-42', via: 'edr', vendor: 'crowdstrike' });
    expect(r.last('enriched')?.device).toMatchObject({ id: 'dev-laptop-42' });
    const other = new Remediation(malware(60));
    other.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up', device: device('dev-dc-01', 'dc-01') });
    expect(other.step(CONTAIN).digest).not.toBe(r.step(CONTAIN).digest);
  });

  test('no verified device: the step has no target and the reason is in the log', () => {
    const r = new Remediation(malware(60, { details: { crowdstrikeDeviceId: 'dev-dc-01' } }));
    r.on({ kind: 'started' }).on({ kind: 'policy_loaded', policy }).on({ kind: 'asset_looked_up', deviceError: 'TargetMismatch: device dev-dc-01 is dc-01, not laptop-42' });
    expect(r.step(CONTAIN).target).toBeUndefined();
    expect(r.s.targetProblem).toMatch(/TargetMismatch/);
    expect(r.last('enriched')?.deviceError).toMatch(/not laptop-42/);
  });
});

describe('undoing a safeguard needs the safeguard\'s people', () => {
  const ctx = () => ({ now: T0, timeScale: 1 });
  const olga = { user: 'olga', groups: ['sre'] };
  const bob = { user: 'bob', groups: ['secops'] };

  test('a risk change to 95 would drop the pending secops approval of the containment: only secops may make it', () => {
    const r = Remediation.started(malware(60), policy);
    const undone = safeguardsUndoneBy(r.s, 'riskScoreChanged', { riskScore: 95, reason: 'worse', by: 'olga' }, ctx());
    expect(undone).toEqual([expect.objectContaining({ step: expect.objectContaining({ id: CONTAIN }), effect: 'approval_removed', mayUndo: { users: [], groups: ['secops'] } })]);
    expect(mayUndo(olga, undone[0].mayUndo)).toBe(false);
    expect(mayUndo(bob, undone[0].mayUndo)).toBe(true);
    // A change that keeps the approval undoes nothing.
    expect(safeguardsUndoneBy(r.s, 'riskScoreChanged', { riskScore: 70, reason: 'a bit worse', by: 'olga' }, ctx())).toEqual([]);
  });

  test('cancelling after an automatic containment would release the host: secops, who may approve containment, may; an SRE may not', () => {
    const r = Remediation.started(malware(95), policy);
    r.ran('edr-malware.ticket').ran('edr-malware.notify').ran(CONTAIN, { state: 'contained' });
    expect(r.step(CONTAIN)).toMatchObject({ status: 'done', approvalRule: { groups: ['secops'] } });
    expect(r.step(CONTAIN).approval).toBeUndefined();
    for (const name of ['cancel', 'falsePositive'] as const) {
      const undone = safeguardsUndoneBy(r.s, name, { by: 'olga', reason: 'noise' }, ctx());
      expect(undone).toEqual([expect.objectContaining({ step: expect.objectContaining({ id: CONTAIN }), effect: 'undone' })]);
      expect([mayUndo(olga, undone[0].mayUndo), mayUndo(bob, undone[0].mayUndo)]).toEqual([false, true]);
    }
    // Pausing undoes nothing; the state given is not changed.
    expect(r.s.cancelled).toBeUndefined();
  });

  test('resolving a critical vulnerability while its host is contained would run the release step: only secops may', () => {
    const vuln: Parameters<typeof Remediation.started>[0] = {
      source: 'trivy', rule: 'CVE-2030-0001', title: 'RCE in openssl', severity: 'critical', category: 'vulnerability', riskScore: 98,
      asset: { id: 'web-7', type: 'host', environment: 'production', internetFacing: true },
    };
    const r = Remediation.started(vuln, policy);
    const contain = 'critical-vuln-internet-prod.contain';
    r.ran('critical-vuln-internet-prod.ticket').ran('critical-vuln-internet-prod.notify');
    expect(r.step(contain).status).toBe('awaiting_approval');
    // Before the containment ran, a resolve lifts nothing.
    expect(safeguardsUndoneBy(r.s, 'findingResolved', { by: 'olga', reason: 'fixed' }, ctx())).toEqual([]);
    r.message('approve', approve(contain, 'bob')).ran(contain, { state: 'contained' });
    const undone = safeguardsUndoneBy(r.s, 'findingResolved', { by: 'olga', reason: 'fixed' }, ctx());
    expect(undone).toEqual([expect.objectContaining({ step: expect.objectContaining({ id: contain }), effect: 'undone' })]);
    expect([mayUndo(olga, undone[0].mayUndo), mayUndo(bob, undone[0].mayUndo)]).toEqual([false, true]);
  });
});

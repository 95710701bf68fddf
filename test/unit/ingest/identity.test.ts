import { run, sampleJson, single } from './samples';

const GRAPH_ALERT = 'defender/msgraph-docs-security-alert-v2-get-new.json';
const OKTA = 'ocsf/ocsf-examples-2004-detection-finding-okta.json';

const userEvidence = {
  '@odata.type': '#microsoft.graph.security.userEvidence',
  verdict: 'suspicious',
  roles: ['compromised'],
  userAccount: { accountName: 'alice', domainName: 'CONTOSO', userSid: 'S-1-5-21-1-2-3-1104', azureAdUserId: 'a1b2', userPrincipalName: 'alice@contoso.example' },
};

/** Identity findings the supported formats carry become category "identity" with the account as a "user" asset. */
describe('identity findings', () => {
  it('maps a Defender for Identity alert to the account it is about, even with a device in the evidence', () => {
    const alert = { ...sampleJson(GRAPH_ALERT), serviceSource: 'microsoftDefenderForIdentity', detectionSource: 'microsoftDefenderForIdentity', category: 'CredentialAccess' };
    alert.evidence = [...alert.evidence, userEvidence];
    const [f] = run('msgraph', alert).findings;
    expect(f).toMatchObject({ source: 'defender', category: 'identity', asset: { id: 'alice@contoso.example', type: 'user' }, details: { account: 'alice@contoso.example', alertCategory: 'CredentialAccess' } });
  });

  it('maps a credential-access alert whose only evidence is a user to identity, and leaves device alerts alone', () => {
    const alert = { ...sampleJson(GRAPH_ALERT), category: 'CredentialAccess', evidence: [userEvidence] };
    expect(run('msgraph', alert).findings[0]).toMatchObject({ category: 'identity', asset: { id: 'alice@contoso.example', type: 'user' } });
    expect(single('msgraph', GRAPH_ALERT)).toMatchObject({ category: 'defense-evasion', asset: { type: 'host' } });
  });

  it('maps a Falcon Identity Protection detection to the account by its UPN', () => {
    const event = {
      metadata: { customerIDString: 'cid', offset: 7, eventType: 'IdpDetectionSummaryEvent', eventCreationTime: 1723564700000, version: '1.0' },
      event: {
        CompositeId: 'cid:ind:idp:1234',
        DetectId: 'idp:1234',
        DetectName: 'Credential Stuffing',
        DetectDescription: 'Many failed logons followed by a success',
        Severity: 70,
        SeverityName: 'High',
        SourceAccountName: 'alice',
        SourceAccountDomain: 'CONTOSO',
        SourceAccountUpn: 'alice@contoso.example',
        SourceAccountObjectSid: 'S-1-5-21-1-2-3-1104',
        SourceEndpointHostName: 'ws-7',
        Tactic: 'Credential Access',
        Technique: 'Brute Force',
        FalconHostLink: 'https://falcon.crowdstrike.com/identity-protection/detections/1234',
      },
    };
    const [f] = run('falcon', event).findings;
    expect(f).toMatchObject({
      source: 'crowdstrike',
      rule: 'Credential Stuffing',
      severity: 'high',
      riskScore: 70,
      category: 'identity',
      asset: { id: 'alice@contoso.example', type: 'user' },
      dedupeKey: 'crowdstrike|identity:cid:ind:idp:1234',
      details: { accountDomain: 'CONTOSO', accountSid: 'S-1-5-21-1-2-3-1104', endpointName: 'ws-7' },
    });
  });

  it('names the account DOMAIN\\name when a Falcon identity incident has no UPN', () => {
    const event = {
      metadata: { eventType: 'IdentityProtectionEvent', eventCreationTime: 1723564700000 },
      event: { IdentityProtectionIncidentId: 'INC-9', IncidentType: 'Lateral movement', Severity: 4, SeverityName: 'Medium', UserName: 'bob', SourceAccountDomain: 'CONTOSO', State: 'NEW' },
    };
    const [f] = run('falcon', event).findings;
    expect(f).toMatchObject({ category: 'identity', severity: 'medium', asset: { id: 'CONTOSO\\bob', type: 'user' } });
    expect(f.riskScore).toBeUndefined();
  });

  it('maps an identity provider detection finding (OCSF, Okta) to identity; with a user in its evidences, to that user', () => {
    expect(single('ocsf', OKTA)).toMatchObject({ category: 'identity', asset: { id: '/app/office365/1111111111/sso/wsfed/active', type: 'resource' } });
    const withUser = sampleJson(OKTA);
    withUser.evidences[0].user = { email_addr: 'carol@acme.example', name: 'carol', uid: '00u1' };
    expect(run('ocsf', withUser).findings[0]).toMatchObject({ category: 'identity', asset: { id: 'carol@acme.example', type: 'user' }, details: { account: 'carol@acme.example' } });
  });

  it('maps another product\'s sign-in finding about a named user to identity, and its other findings as before', () => {
    const base = { class_uid: 2004, metadata: { product: { name: 'GuardDuty', vendor_name: 'AWS' }, version: '1.3.0' }, severity_id: 4, time: 1723564700, device: { hostname: 'ws-9' }, actor: { user: { name: 'dave' } } };
    expect(run('ocsf', { ...base, finding_info: { uid: 'f1', title: 'Impossible travel sign-in' } }).findings[0]).toMatchObject({ category: 'identity', asset: { id: 'dave', type: 'user' } });
    expect(run('ocsf', { ...base, finding_info: { uid: 'f2', title: 'Trojan found' } }).findings[0]).toMatchObject({ category: 'malware', asset: { id: 'ws-9', type: 'host' } });
  });
});

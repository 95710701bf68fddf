import { run, sampleJson, sampleText, sha256, single } from './samples';

const ROOTCHECK = 'wazuh/nascon24-wazuh-rootcheck-510-trojaned-file.json';
const SCA = 'wazuh/nascon24-wazuh-sca-19014-cis-check-failed.json';
const SYSCHECK_FILE = 'wazuh/nascon24-wazuh-syscheck-550-file-modified.json';
const SYSCHECK_REG = 'wazuh/nascon24-wazuh-syscheck-750-registry-modified.json';

describe('wazuh normalizer', () => {
  it('maps a rootcheck alert to malware (level 7 → medium, +0500 timestamp)', () => {
    const raw = sampleJson(ROOTCHECK);
    const f = single('wazuh', ROOTCHECK);
    expect(f).toMatchObject({
      source: 'wazuh',
      rule: '510',
      title: 'Host-based anomaly detection event (rootcheck).',
      severity: 'medium',
      category: 'malware',
      status: 'open',
      observedAt: '2024-02-07T09:35:38.274Z',
      asset: { id: 'socwazuh-virtual-machine', type: 'host' },
      details: { agentId: '000', file: '/bin/diff' },
    });
    expect(f.rawRef).toEqual({ format: 'wazuh', sha256: sha256(raw), sourceId: '1707298538.0' });
  });

  it('maps a failed SCA check to an open misconfiguration; a later pass resolves the same key', () => {
    const failed = single('wazuh', SCA);
    expect(failed).toMatchObject({
      rule: '19014',
      severity: 'medium',
      category: 'misconfiguration',
      status: 'open',
      asset: { id: 'Employee1', type: 'host' },
      details: { checkId: '15500', checkResult: 'failed', agentIp: '192.168.23.3' },
    });
    const pass = sampleJson(SCA);
    pass.rule.id = '19015';
    pass.rule.level = 3;
    pass.data.sca.check.previous_result = 'failed';
    pass.data.sca.check.result = 'passed';
    const passed = run('wazuh', pass).findings[0];
    expect(passed.status).toBe('resolved');
    expect(passed.dedupeKey).toBe(failed.dedupeKey);
  });

  it('maps a syscheck file change to integrity', () => {
    const f = single('wazuh', SYSCHECK_FILE);
    expect(f).toMatchObject({
      rule: '550',
      severity: 'medium',
      category: 'integrity',
      asset: { id: 'socwazuh-virtual-machine' },
      details: { path: '/boot/efi/EFI/ubuntu/BOOTX64.CSV', fimEvent: 'modified', mitreIds: ['T1565.001'] },
      dedupeKey: 'wazuh|socwazuh-virtual-machine|syscheck:/boot/efi/EFI/ubuntu/BOOTX64.CSV',
    });
  });

  it('maps a registry value change (level 5 → low)', () => {
    const f = single('wazuh', SYSCHECK_REG);
    expect(f).toMatchObject({ rule: '750', severity: 'low', category: 'integrity', asset: { id: 'Employee1' }, observedAt: '2024-02-14T17:06:01.209Z' });
    expect(String(f.details?.path)).toMatch(/\\SequenceNumber$/);
  });

  it.each([
    [0, 'info'],
    [3, 'info'],
    [4, 'low'],
    [6, 'low'],
    [11, 'medium'],
    [12, 'high'],
    [14, 'high'],
    [15, 'critical'],
  ])('maps level %i → %s', (level, severity) => {
    const alert = sampleJson(ROOTCHECK);
    alert.rule.level = level;
    expect(run('wazuh', alert).findings[0].severity).toBe(severity);
  });

  it('reads newline-delimited alerts.json', () => {
    const ndjson = [ROOTCHECK, SCA, SYSCHECK_FILE, SYSCHECK_REG].map((rel) => JSON.stringify(JSON.parse(sampleText(rel)))).join('\n');
    expect(run('wazuh', ndjson).findings.map((f) => f.rule)).toEqual(['510', '19014', '550', '750']);
  });

  it('rejects an alert without a level', () => {
    expect(() => run('wazuh', { rule: { id: '1' }, agent: {} })).toThrow(/\$\.rule\.level is missing/);
  });
});

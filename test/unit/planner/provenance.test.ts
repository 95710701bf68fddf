/**
 * Facts with provenance (issue 11, point 3), written as the attacks: a detection that says an
 * asset is less important than the CMDB knows it, that names an asset the CMDB does not know, or
 * that brings its own risk score through a channel nobody trusts.
 */
import { mkdtempSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Detection } from '../../../domain/detection';
import { PolicyError, loadPolicyDir } from '../../../planner/load';
import { DEFAULT_FACT_RULES } from '../../../planner/policy-schema';
import { establishFacts, provenanceLines } from '../../../planner/provenance';
import { withRepeat } from '../../../planner/facts';
import { loadDefault } from './helpers';

const sg = (asset: Partial<Detection['asset']> = {}, riskScore?: number): Detection => ({
  source: 'aws-securityhub',
  rule: 'EC2.19',
  title: 'security group allows 0.0.0.0/0 on 22',
  severity: 'high',
  category: 'misconfiguration',
  ...(riskScore !== undefined ? { riskScore } : {}),
  asset: { id: 'sg-1', type: 'security-group', ...asset },
});
const rules = { ...DEFAULT_FACT_RULES, trustedRiskSources: ['falcon'] };

describe('the stricter of the detection and the CMDB', () => {
  test('a detection saying staging for an asset the CMDB knows as production: production, from the CMDB, both values shown', () => {
    const f = establishFacts({ detection: sg({ environment: 'staging' }), cmdb: { found: true, environment: 'production' }, requestedBy: 'ingest:asff', rules });
    expect(f.asset.environment).toBe('production');
    expect(f.provenance.environment).toEqual({ value: 'production', from: 'cmdb', why: 'the CMDB says production, stricter than staging from the detection', detection: 'staging', cmdb: 'production' });
  });

  test('a detection may make an asset look more important than the CMDB says, never less', () => {
    const f = establishFacts({
      detection: sg({ environment: 'production', criticality: 'low', internetFacing: true }),
      cmdb: { found: true, environment: 'dev', criticality: 'critical', internetFacing: false },
      requestedBy: 'ingest:asff',
      rules,
    });
    expect(f.asset).toMatchObject({ environment: 'production', criticality: 'critical', internetFacing: true });
    expect([f.provenance.environment?.from, f.provenance.criticality?.from, f.provenance.internetFacing?.from]).toEqual(['detection', 'cmdb', 'detection']);
  });

  test('an asset the CMDB does not know counts as production, whatever the detection says; configurable', () => {
    const unknown = establishFacts({ detection: sg({ environment: 'dev' }), cmdb: { found: false }, requestedBy: 'ingest:asff', rules });
    expect(unknown.asset.environment).toBe('production');
    expect(unknown.provenance.environment).toMatchObject({ from: 'drw', detection: 'dev', why: expect.stringMatching(/the CMDB does not know this asset: it counts as production \(facts.yaml unknownAsset.environment\), stricter than dev/) });
    // A failed lookup is no better than an unknown asset.
    expect(establishFacts({ detection: sg({ environment: 'dev' }), requestedBy: 'ingest:asff', rules }).provenance.environment).toMatchObject({ value: 'production', why: expect.stringMatching(/could not be asked/) });
    // unknownAsset.environment: null — as the detection says.
    const asReported = establishFacts({ detection: sg({ environment: 'dev' }), cmdb: { found: false }, requestedBy: 'ingest:asff', rules: { ...rules, unknownAsset: { environment: null } } });
    expect(asReported.provenance.environment).toMatchObject({ value: 'dev', from: 'detection' });
  });
});

describe('a detection-provided risk score counts only from trusted channels', () => {
  test('through the native API a claimed 95 is ignored: drw scores severity and the CMDB facts, not the detection\'s claims', () => {
    const f = establishFacts({ detection: sg({ criticality: 'critical', internetFacing: true }, 95), cmdb: { found: true, environment: 'staging', criticality: 'low' }, requestedBy: 'mallory', rules });
    // high 60, criticality low (CMDB) -10; the detection's critical and internet-facing raise the asset, not the score.
    expect(f.riskScore).toBe(50);
    expect(f.provenance.riskScore).toMatchObject({ value: 50, from: 'drw', detection: 95, why: expect.stringMatching(/the detection's 95 does not count: drw is not a trusted risk source/) });
    expect(f.asset).toMatchObject({ criticality: 'critical', internetFacing: true });
  });

  test("Falcon's channel is trusted: its score counts and says so", () => {
    const f = establishFacts({ detection: sg({}, 95), cmdb: { found: false }, requestedBy: 'ingest:falcon', rules });
    expect(f.provenance.riskScore).toEqual({ value: 95, from: 'detection', why: 'given by the detection (falcon is a trusted risk source)', detection: 95 });
  });

  test("a repeat's higher score counts only when the channel is trusted, and the provenance follows", () => {
    const start = establishFacts({ detection: sg({}, 60), cmdb: { found: false }, requestedBy: 'ingest:falcon', rules });
    const facts = { source: 'x', rule: 'r', severity: 'high' as const, riskScore: start.riskScore, asset: start.asset, findingCount: 1, details: {}, provenance: start.provenance };
    expect(withRepeat(facts, sg({}, 97), false)).toMatchObject({ riskScore: 60, provenance: { riskScore: { value: 60 } } });
    expect(withRepeat(facts, sg({}, 97), true)).toMatchObject({ riskScore: 97, findingCount: 2, provenance: { riskScore: { value: 97, from: 'detection', why: expect.stringMatching(/repeat/) } } });
  });

  test('each fact reads as one line with its origin', () => {
    const f = establishFacts({ detection: sg({ environment: 'staging' }, 95), cmdb: { found: true, environment: 'production' }, requestedBy: 'api:scanner', rules });
    expect(provenanceLines(f.provenance)).toEqual([
      'environment production (cmdb: the CMDB says production, stricter than staging from the detection)',
      expect.stringMatching(/^riskScore 65 \(drw: severity high → 60, production \+5/),
    ]);
  });
});

describe('facts.yaml', () => {
  test('the default policy trusts the vendor channels that score findings, not the native API', () => {
    expect(loadDefault().facts).toEqual({ trustedRiskSources: ['falcon', 'msgraph', 'asff', 'ocsf', 'trivy', 'github'], unknownAsset: { environment: 'production' } });
  });

  test('a misspelt source or key is refused with the file, the line and the known sources', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-facts-'));
    cpSync(path.join(__dirname, '..', '..', '..', 'policies', 'default'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'facts.yaml'), 'trustedRiskSources: [falcon, crowdstrike]\nunknownAssets: {}\n');
    let err: unknown;
    try {
      loadPolicyDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).problems).toEqual([expect.objectContaining({ file: 'facts.yaml', path: 'unknownAssets', line: 2, message: 'unknown key "unknownAssets"' })]);
    writeFileSync(path.join(dir, 'facts.yaml'), 'trustedRiskSources: [falcon, crowdstrike]\n');
    expect(() => loadPolicyDir(dir)).toThrow(/facts.yaml:1: trustedRiskSources.1: unknown source "crowdstrike"; sources are drw, alertmanager/);
  });
});

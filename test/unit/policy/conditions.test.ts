import { evaluate, getPath, parseCondition } from '../../../planner/conditions';
import { conditionContext } from '../../../planner/plan';
import type { Facts } from '../../../planner/types';

const FACTS: Facts = {
  source: 'crowdstrike',
  rule: 'MaliciousPowerShell',
  category: 'malware',
  severity: 'high',
  riskScore: 85,
  asset: { id: 'laptop-42', type: 'host', environment: 'Production', tags: ['pci', 'finance'], internetFacing: false },
  findingCount: 3,
  details: { fixedVersion: '1.2.3', cvss: 9.8, user: 'jdoe', empty: '' },
};
const ctx = conditionContext({ facts: FACTS, verificationFailures: 2, escalations: ['sla_breached'], remediationId: 'rem-1' });

const holds = (text: string, facts: unknown = ctx) => evaluate(parseCondition(text), facts);

describe('parseCondition', () => {
  it('comparison with a number, a bare word, quoted text, and a list', () => {
    expect(parseCondition('riskScore >= 90')).toEqual({ field: 'riskScore', op: '>=', value: 90 });
    expect(parseCondition('asset.environment == production')).toEqual({ field: 'asset.environment', op: '==', value: 'production' });
    expect(parseCondition("rule == 'Malicious PowerShell'")).toEqual({ field: 'rule', op: '==', value: 'Malicious PowerShell' });
    expect(parseCondition('severity in [critical, "high", 3, true]')).toEqual({ field: 'severity', op: 'in', value: ['critical', 'high', 3, true] });
    expect(parseCondition('details.fixedVersion')).toEqual({ field: 'details.fixedVersion', op: 'truthy' });
    expect(parseCondition('riskScore > -1.5')).toEqual({ field: 'riskScore', op: '>', value: -1.5 });
  });

  it('"and" binds tighter than "or"; parentheses regroup; "not" applies to one clause', () => {
    expect(parseCondition('a or b and c')).toEqual({ any: [{ field: 'a', op: 'truthy' }, { all: [{ field: 'b', op: 'truthy' }, { field: 'c', op: 'truthy' }] }] });
    expect(parseCondition('(a or b) and c')).toEqual({ all: [{ any: [{ field: 'a', op: 'truthy' }, { field: 'b', op: 'truthy' }] }, { field: 'c', op: 'truthy' }] });
    expect(parseCondition('not a and b')).toEqual({ all: [{ not: { field: 'a', op: 'truthy' } }, { field: 'b', op: 'truthy' }] });
    expect(parseCondition('not (a and b)')).toEqual({ not: { all: [{ field: 'a', op: 'truthy' }, { field: 'b', op: 'truthy' }] } });
  });

  it.each([
    ['riskScore >=', '"riskScore >=": a value is missing at the end'],
    ['(riskScore > 1', '"(riskScore > 1": unclosed ('],
    ['severity in [high, low', '"severity in [high, low": unclosed ['],
    ['riskScore > 1 and', '"riskScore > 1 and": expected a field name, got the end'],
    ['90 < riskScore', '"90 < riskScore": expected a field name, got 90'],
    ['riskScore = 90', '"riskScore = 90": cannot read "= 90"'],
    ['riskScore > 1 riskScore', '"riskScore > 1 riskScore": unexpected "riskScore"'],
    ['riskScore > 1)', '"riskScore > 1)": unexpected ")"'],
  ])('refuses %j', (text, message) => {
    expect(() => parseCondition(text)).toThrow(message);
  });
});

describe('evaluate', () => {
  it('numeric comparisons, only between numbers', () => {
    expect(holds('riskScore >= 85')).toBe(true);
    expect(holds('riskScore > 85')).toBe(false);
    expect(holds('riskScore < 90 and riskScore <= 85')).toBe(true);
    expect(holds('details.cvss > 9.5')).toBe(true);
    // A string never compares as a number, in either direction.
    expect(holds('details.fixedVersion > 1')).toBe(false);
    expect(holds('details.fixedVersion < 1')).toBe(false);
    expect(holds('details.missing < 1')).toBe(false);
  });

  it('string equality is case-insensitive, and != is its exact negation', () => {
    expect(holds('asset.environment == production')).toBe(true);
    expect(holds('asset.environment == PRODUCTION')).toBe(true);
    expect(holds('asset.environment != production')).toBe(false);
    expect(holds('asset.environment != staging')).toBe(true);
    expect(holds('environment == production')).toBe(true);
    expect(holds('riskScore == 85')).toBe(true);
    // Numbers are not strings: "85" the text is not 85 the number.
    expect(holds("riskScore == '85'")).toBe(false);
    expect(holds('asset.internetFacing == false')).toBe(true);
  });

  it('in: membership in a list, case-insensitive for text', () => {
    expect(holds('asset.environment in [prod, production]')).toBe(true);
    expect(holds('severity in [critical]')).toBe(false);
    expect(holds('severityRank in [3, 4]')).toBe(true);
    // `in` needs a list; a single word is never a list.
    expect(holds('severity in high')).toBe(false);
  });

  it('contains: list membership (exact) or substring', () => {
    expect(holds('asset.tags contains pci')).toBe(true);
    expect(holds('asset.tags contains PCI')).toBe(false);
    expect(holds('escalations contains sla_breached')).toBe(true);
    expect(holds("rule contains 'PowerShell'")).toBe(true);
    expect(holds('rule contains bash')).toBe(false);
    expect(holds('riskScore contains 8')).toBe(false);
  });

  it('truthiness, and/or/not, parentheses', () => {
    expect(holds('details.fixedVersion')).toBe(true);
    expect(holds('details.empty')).toBe(false);
    expect(holds('details.missing')).toBe(false);
    expect(holds('not details.missing')).toBe(true);
    expect(holds('riskScore >= 90 or asset.tags contains pci and severity == high')).toBe(true);
    expect(holds('(riskScore >= 90 or asset.tags contains pci) and severity == critical')).toBe(false);
    expect(holds('riskScore >= 90 or (asset.tags contains pci and severity == critical)')).toBe(false);
    expect(holds('not (riskScore >= 90 or verificationFailures < 2)')).toBe(true);
  });

  it('records every field it looked at, missing ones as null', () => {
    const seen: Record<string, unknown> = {};
    evaluate(parseCondition('riskScore >= 90 or (asset.environment == production and details.nope)'), ctx, seen);
    expect(seen).toEqual({ riskScore: 85, 'asset.environment': 'Production', 'details.nope': null });
  });

  it('short-circuits: fields after a decided "and"/"or" are not recorded', () => {
    const seen: Record<string, unknown> = {};
    expect(evaluate(parseCondition('riskScore > 90 and asset.environment == production'), ctx, seen)).toBe(false);
    expect(seen).toEqual({ riskScore: 85 });
  });
});

describe('the condition context', () => {
  it('has the facts plus severityRank, environment, verificationFailures, escalations, remediationId, doneSteps', () => {
    expect(ctx).toMatchObject({ severityRank: 3, environment: 'Production', verificationFailures: 2, escalations: ['sla_breached'], remediationId: 'rem-1', doneSteps: [] });
    expect(getPath(ctx, 'asset.tags')).toEqual(['pci', 'finance']);
    expect(getPath(ctx, 'asset.id.length')).toBeUndefined();
    expect(getPath(ctx, 'details.nope.deeper')).toBeUndefined();
  });
});

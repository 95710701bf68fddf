import { scoreRisk } from '../../../planner/risk';

describe('scoreRisk', () => {
  it('the detection\'s own score wins, clamped to 0–100 and rounded to one decimal', () => {
    const asset = { id: 'h', type: 'host', criticality: 'critical' as const, internetFacing: true };
    expect(scoreRisk({ severity: 'low', riskScore: 42, asset })).toEqual({ score: 42, why: 'risk score given by the detection' });
    expect(scoreRisk({ severity: 'low', riskScore: 0, asset })).toEqual({ score: 0, why: 'risk score given by the detection' });
    expect(scoreRisk({ severity: 'low', riskScore: 73.46, asset }).score).toBe(73.5);
    expect(scoreRisk({ severity: 'low', riskScore: 150, asset }).score).toBe(100);
    expect(scoreRisk({ severity: 'low', riskScore: -3, asset }).score).toBe(0);
  });

  it('otherwise severity, adjusted for the asset, with every part explained', () => {
    expect(scoreRisk({ severity: 'high', asset: { id: 'h', type: 'host' } })).toEqual({ score: 60, why: 'severity high → 60' });
    expect(scoreRisk({ severity: 'medium', asset: { id: 'h', type: 'host', criticality: 'high', internetFacing: true, environment: 'production' } })).toEqual({
      score: 65,
      why: 'severity medium → 40, criticality high +10, internet-facing +10, production +5',
    });
    expect(scoreRisk({ severity: 'low', asset: { id: 'h', type: 'host', criticality: 'low' } })).toEqual({ score: 10, why: 'severity low → 20, criticality low -10' });
    expect(scoreRisk({ severity: 'info', asset: { id: 'h', type: 'host', criticality: 'medium' } })).toEqual({ score: 5, why: 'severity info → 5, criticality medium +0' });
  });

  it('caps at 100 and never goes below 0', () => {
    expect(scoreRisk({ severity: 'critical', asset: { id: 'h', type: 'host', criticality: 'critical', internetFacing: true, environment: 'prod' } })).toEqual({
      score: 100,
      why: 'severity critical → 80, criticality critical +15, internet-facing +10, production +5',
    });
    expect(scoreRisk({ severity: 'info', asset: { id: 'h', type: 'host', criticality: 'low' } }).score).toBe(0);
  });

  it('"production" is any environment starting with prod, in any case; internetFacing false adds nothing', () => {
    const base = { severity: 'high' as const };
    expect(scoreRisk({ ...base, asset: { id: 'h', type: 'host', environment: 'Prod-EU' } }).score).toBe(65);
    expect(scoreRisk({ ...base, asset: { id: 'h', type: 'host', environment: 'preprod' } }).score).toBe(60);
    expect(scoreRisk({ ...base, asset: { id: 'h', type: 'host', environment: 'staging', internetFacing: false } })).toEqual({ score: 60, why: 'severity high → 60' });
  });
});

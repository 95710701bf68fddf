import { parsePlaybookText } from '../../../planner/load';
import { mismatch, selectPlaybook } from '../../../planner/match';
import type { Playbook } from '../../../planner/policy-schema';
import type { Facts } from '../../../planner/types';

function pb(match: string, id = 'p'): Playbook {
  const r = parsePlaybookText(`id: ${id}\nname: n\nmatch: ${match}\nsteps: [{ id: t, action: ticket.open }]\n`, `${id}.yaml`);
  if (!r.playbook) throw new Error(JSON.stringify(r.problems));
  return r.playbook;
}

const FACTS: Facts = {
  source: 'CrowdStrike',
  rule: 'Falcon-Ransomware-42',
  category: 'malware',
  severity: 'high',
  riskScore: 72,
  asset: { id: 'h1', type: 'Host', environment: 'production', criticality: 'high', internetFacing: false, tags: ['PCI', 'edge'], owner: 'team-a' },
  findingCount: 1,
  details: {},
};

function why(match: string, facts: Facts = FACTS): string | undefined {
  return mismatch(pb(match), facts, {});
}

describe('mismatch: each criterion, case-insensitive where it is text', () => {
  it('matches on every criterion at once, recording what it looked at', () => {
    const seen: Record<string, unknown> = {};
    const m = '{ sources: [crowdstrike], rules: ["/ransomware/"], categories: [MALWARE], severities: [high, critical], riskScore: { min: 70 }, asset: { types: [host], environments: [Production], criticalities: [high], internetFacing: false, tags: [pci], owners: [TEAM-A] } }';
    expect(mismatch(pb(m), FACTS, seen)).toBeUndefined();
    expect(seen).toEqual({
      source: 'CrowdStrike',
      rule: 'Falcon-Ransomware-42',
      category: 'malware',
      severity: 'high',
      riskScore: 72,
      'asset.type': 'Host',
      'asset.environment': 'production',
      'asset.criticality': 'high',
      'asset.internetFacing': false,
      'asset.tags': ['PCI', 'edge'],
      'asset.owner': 'team-a',
    });
  });

  it.each([
    ['{ sources: [falco] }', 'source CrowdStrike not in [falco]'],
    ['{ rules: [Falcon-Ransomware-4] }', 'rule Falcon-Ransomware-42 not matched'],
    ['{ rules: ["/^ransomware/"] }', 'rule Falcon-Ransomware-42 not matched'],
    ['{ categories: [vulnerability] }', 'category malware not in [vulnerability]'],
    ['{ severities: [critical] }', 'severity high not in [critical]'],
    ['{ riskScore: { min: 80 } }', 'risk 72 outside 80-100'],
    ['{ riskScore: { max: 50 } }', 'risk 72 outside 0-50'],
    ['{ asset: { types: [container] } }', 'asset type Host not in [container]'],
    ['{ asset: { environments: [staging] } }', 'environment production not in [staging]'],
    ['{ asset: { criticalities: [critical] } }', 'criticality high not in [critical]'],
    ['{ asset: { internetFacing: true } }', 'internetFacing is false'],
    ['{ asset: { tags: [pci, sox, edge] } }', 'asset lacks tags [sox]'],
    ['{ asset: { owners: [team-b] } }', 'owner team-a not in [team-b]'],
  ])('%s → %j', (m, reason) => {
    expect(why(m)).toBe(reason);
  });

  it('exact rule ids compare case-insensitively; /regex/ rules too', () => {
    expect(why('{ rules: [falcon-ransomware-42] }')).toBeUndefined();
    expect(why('{ rules: ["/RANSOMWARE-\\\\d+$/"] }')).toBeUndefined();
  });

  it('a fact the detection lacks never matches a criterion that asks for it', () => {
    const bare: Facts = { ...FACTS, category: undefined, asset: { id: 'h1', type: 'host' } };
    expect(why('{ categories: [malware] }', bare)).toBe('category (none) not in [malware]');
    expect(why('{ asset: { environments: [production] } }', bare)).toBe('environment (unknown) not in [production]');
    expect(why('{ asset: { criticalities: [high] } }', bare)).toBe('criticality (unknown) not in [high]');
    expect(why('{ asset: { owners: [team-a] } }', bare)).toBe('owner (unknown) not in [team-a]');
    // internetFacing unknown counts as not internet-facing.
    expect(why('{ asset: { internetFacing: false } }', bare)).toBeUndefined();
  });
});

describe('selectPlaybook', () => {
  it('explains the choice with the facts it matched on', () => {
    const r = selectPlaybook([pb('{ categories: [malware], riskScore: { min: 50 } }', 'm')], FACTS);
    expect(r?.explanation).toBe('playbook m (priority 0) matched on category="malware", riskScore=72');
    expect(r?.matchedOn).toEqual({ category: 'malware', riskScore: 72 });
  });

  it('returns undefined when nothing matches', () => {
    expect(selectPlaybook([pb('{ categories: [vulnerability] }')], FACTS)).toBeUndefined();
  });
});

describe('rule patterns are checked at load', () => {
  it('a /regex/ that does not compile is refused, not silently never matched', () => {
    const r = parsePlaybookText('id: p\nname: n\nmatch:\n  rules: [ok, "/([unclosed/"]\nsteps: [{ id: t, action: ticket.open }]\n', 'p.yaml');
    expect(r.playbook).toBeUndefined();
    expect(r.problems).toEqual([{ file: 'p.yaml', path: 'match.rules.1', line: 4, message: 'not a valid regular expression (RE2 syntax: no lookaround or backreferences): missing closing ]: `[unclosed`' }]);
  });
});

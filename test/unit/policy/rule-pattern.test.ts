import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPolicyDir, parsePlaybookText, PolicyError } from '../../../planner/load';
import { mismatch } from '../../../planner/match';
import { ruleMatches } from '../../../planner/rule-pattern';
import type { Facts } from '../../../planner/types';

const playbook = (rules: string) => `id: p\nname: n\nmatch:\n  rules: ${rules}\nsteps: [{ id: t, action: ticket.open }]\n`;

function facts(rule: string): Facts {
  return { source: 'edr', rule, severity: 'high', riskScore: 50, asset: { id: 'h1', type: 'host' }, findingCount: 1, details: {} };
}

describe('policy regular expressions cannot backtrack catastrophically', () => {
  it('a /(a+)+$/ rule refuses a 512-character hostile rule id at once (native backtracking takes seconds at 28)', () => {
    const { playbook: pb, problems } = parsePlaybookText(playbook('["/(a+)+$/"]'), 'redos.yaml');
    expect(problems).toEqual([]);
    const hostile = `${'a'.repeat(511)}!`;
    const started = Date.now();
    expect(mismatch(pb!, facts(hostile), {})).toBe(`rule ${hostile} not matched`);
    expect(mismatch(pb!, facts(`!${'a'.repeat(511)}`), {})).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['lookahead', '"/^(?=.*admin)/"'],
    ['backreference', '"/(a)\\\\1/"'],
  ])('a pattern with a %s (RE2 has neither) is refused at load, naming file, rule and line', (_what, rule) => {
    const r = parsePlaybookText(playbook(`[ok, ${rule}]`), 'bad.yaml');
    expect(r.playbook).toBeUndefined();
    expect(r.problems).toEqual([expect.objectContaining({ file: 'bad.yaml', path: 'match.rules.1', line: 4 })]);
    expect(r.problems[0].message).toMatch(/^not a valid regular expression \(RE2 syntax: no lookaround or backreferences\): /);
  });

  it('an oversized pattern or automaton is refused at load', () => {
    const r = parsePlaybookText(playbook(`["/${'x{1000}'.repeat(80)}/"]`), 'big.yaml');
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^regular expression longer than 512 characters$/)]);
    const r2 = parsePlaybookText(playbook(`["/${'[a-z]{1000}'.repeat(8)}/"]`), 'big.yaml');
    expect(r2.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^regular expression too large \(\d+ instructions, at most 5000\)$/)]);
  });

  it('loading a policy folder with such a rule fails with the file and rule in the message', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drw-policy-'));
    writeFileSync(path.join(dir, '10-bad.yaml'), playbook('["/(?<!x)y/"]'));
    let err: unknown;
    try {
      loadPolicyDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as Error).message).toMatch(/^invalid policy:\n10-bad\.yaml:4: match\.rules\.0: not a valid regular expression/);
  });

  it('keeps the matching people wrote: case-insensitive, found anywhere unless anchored, exact ids as before', () => {
    expect(ruleMatches('/ransomware-\\d+$/', 'Falcon-RANSOMWARE-42')).toBe(true);
    expect(ruleMatches('/^ransomware/', 'Falcon-Ransomware-42')).toBe(false);
    expect(ruleMatches('/^CVE-\\d{4}-\\d+$/', 'cve-2024-3094')).toBe(true);
    expect(ruleMatches('Falcon-Ransomware-42', 'falcon-ransomware-42')).toBe(true);
    expect(ruleMatches('Falcon-Ransomware-4', 'falcon-ransomware-42')).toBe(false);
  });
});

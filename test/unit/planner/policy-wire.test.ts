import { readdirSync } from 'node:fs';
import { compactPolicy, expandPolicy } from '../../../planner/policy-wire';
import type { PolicySet } from '../../../planner/policy-schema';
import { FIXTURES, loadDefault, loadFixture } from './helpers';

/** What planning reads of a policy: everything but the playbooks' descriptions and the files they came from. */
const planned = (p: PolicySet): PolicySet => ({ ...p, files: {}, playbooks: p.playbooks.map(({ description: _d, ...pb }) => pb) });

const policies = () => [['policies/default', loadDefault()] as const, ...readdirSync(FIXTURES).filter((name) => name !== 'invalid').map((name) => [name, loadFixture(name)] as const)];

describe('the policy as loadPolicy sends it to a workflow', () => {
  test('without each step\'s defaults, descriptions and file names, expanded back to everything planning reads of the policy the schema parsed (every shipped and fixture policy)', () => {
    for (const [name, policy] of policies()) {
      const sent = JSON.parse(JSON.stringify(compactPolicy(policy)));
      expect([name, expandPolicy(sent)]).toEqual([name, planned(policy)]);
      expect(JSON.stringify(sent)).not.toContain('"description"');
    }
  });

  test('smaller: the retry blocks, timeouts and flags that equal the defaults are not sent', () => {
    const policy = loadDefault();
    const whole = JSON.stringify(policy).length;
    const sent = JSON.stringify(compactPolicy(policy));
    expect(sent.length).toBeLessThan(whole * 0.8);
    expect(JSON.stringify(policy)).toContain('"retry":{"maximumAttempts":5,"initialInterval":1000,"backoffCoefficient":2,"maximumInterval":60000}');
    expect(sent).not.toContain('"retry":{"maximumAttempts":5,"initialInterval":1000,"backoffCoefficient":2,"maximumInterval":60000}');
    // A retry other than the default (the runbook step's 3 attempts) is sent.
    expect(sent).toContain('"retry":{"maximumAttempts":3,');
    // A step that sets something other than the default keeps it.
    const changed = { ...policy, playbooks: policy.playbooks.map((pb, i) => (i === 0 ? { ...pb, steps: pb.steps.map((s, j) => (j === 0 ? { ...s, timeout: 5000, disruptive: true } : s)) } : pb)) };
    expect(compactPolicy(changed).playbooks[0].steps[0]).toMatchObject({ timeout: 5000, disruptive: true });
    expect(expandPolicy(JSON.parse(JSON.stringify(compactPolicy(changed))))).toEqual(planned(changed));
  });

  test('a policy sent whole (an older activity worker, an older history) is planned with as it is', () => {
    const policy = loadDefault();
    expect(expandPolicy(policy)).toBe(policy);
  });
});

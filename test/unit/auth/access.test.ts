/** policies/access.yaml: loaded and validated at start like the playbooks, with file, line and field in every refusal. */
import path from 'node:path';
import { allows, loadAccessPolicy, parseAccessPolicy, permissionsOf } from '../../../api/auth/access';
import { accessProblems } from '../../helpers/access-policy';

const problems = accessProblems;

test('the shipped policies/access.yaml loads: secops may do everything, auditors only read', () => {
  const p = loadAccessPolicy(path.resolve(__dirname, '..', '..', '..', 'policies', 'access.yaml'));
  const secops = permissionsOf(p, 'alice', ['secops']);
  expect(['read', 'operate', 'decide', 'submit:drw', 'submit:falco'].every((x) => allows(secops, x as never))).toBe(true);
  const auditor = permissionsOf(p, 'carol', ['auditors']);
  expect([allows(auditor, 'read'), allows(auditor, 'operate'), allows(auditor, 'decide'), allows(auditor, 'submit:drw')]).toEqual([true, false, false, false]);
  expect(permissionsOf(p, 'mallory', []).size).toBe(0);
});

test('groups add up, a user may hold a grant of their own, and submit:* covers every source but no action', () => {
  const p = parseAccessPolicy('version: 1\ngroups:\n  a: [read]\n  b: ["submit:*"]\nusers:\n  bob: [decide]\n', 'access.yaml');
  const held = permissionsOf(p, 'bob', ['a', 'b', 'unknown-group']);
  expect([...held].sort()).toEqual(['decide', 'read', 'submit:*']);
  expect([allows(held, 'submit:trivy'), allows(held, 'operate')]).toEqual([true, false]);
});

test('a misspelt permission, an unknown source, an unknown key or bad YAML stops drw naming file, line and field', () => {
  expect(problems('version: 1\ngroups:\n  secops: [read, approve]\n')).toEqual([expect.stringMatching(/^access.yaml:3: groups.secops.1: one of read, operate, decide, submit:\* or submit:<source> \(drw, alertmanager/)]);
  expect(problems('version: 1\ngroups:\n  secops: ["submit:splunk"]\n')[0]).toMatch(/^access.yaml:3: groups.secops.0: one of/);
  expect(problems('version: 1\ngroup:\n  secops: [read]\n')[0]).toMatch(/^access.yaml(:\d+)?: \(top level\): Unrecognized key: "group"/);
  expect(problems('groups: {}\n')[0]).toMatch(/^access.yaml(:\d+)?: version: /);
  expect(problems('version: 1\ngroups:\n  secops: [read\n')[0]).toMatch(/^access.yaml:\d+: YAML: /);
  expect(problems('version: 1\ngroups:\n  secops: [read]\n  secops: [operate]\n')[0]).toMatch(/^access.yaml:4: YAML: Map keys must be unique/);
  expect(() => loadAccessPolicy('/nonexistent/access.yaml')).toThrow(/DRW_ACCESS_POLICY: cannot read \/nonexistent\/access.yaml: ENOENT/);
});

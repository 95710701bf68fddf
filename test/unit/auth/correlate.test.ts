/** policies/access.yaml's `correlate`: which sources may join the remediations another source opened (api/ownership.ts). */
import path from 'node:path';
import { loadAccessPolicy, parseAccessPolicy } from '../../../api/auth/access';
import { accessProblems } from '../../helpers/access-policy';
import { channelOf, notOwnerReason } from '../../../api/ownership';

const problems = accessProblems;

test('the shipped access.yaml correlates nothing: every remediation takes repeats and its resolve from the source that opened it only', () => {
  const p = loadAccessPolicy(path.resolve(__dirname, '..', '..', '..', 'policies', 'access.yaml'));
  expect(p.correlate).toEqual({});
  expect(notOwnerReason('r1', 'ingest:alertmanager', channelOf('alice'), p.correlate)).toMatch(/^remediation r1 was opened by ingest:alertmanager; only ingest:alertmanager may add repeats to it or resolve it \(this came from api\); correlate.alertmanager in policies\/access.yaml/);
  expect(notOwnerReason('r1', 'api', channelOf('api:crowdstrike'), p.correlate)).toBeUndefined();
});

test('correlate lets the listed sources join in one direction, by the same names as submit:<source>', () => {
  const { correlate } = parseAccessPolicy('version: 1\ncorrelate:\n  asff: [ocsf, drw]\n', 'access.yaml');
  expect(correlate).toEqual({ asff: ['ocsf', 'drw'] });
  // Channels as the routes name them: ingest:<format> for a tool's payload, a person or api:<source> for the native route.
  expect([notOwnerReason('r2', 'ingest:asff', channelOf('ingest:ocsf'), correlate), notOwnerReason('r2', 'ingest:asff', channelOf('bob'), correlate)]).toEqual([undefined, undefined]);
  expect(notOwnerReason('r2', 'ingest:asff', channelOf('ingest:falco'), correlate)).toMatch(/only ingest:asff or ingest:ocsf or api may add repeats to it or resolve it \(this came from ingest:falco\)/);
  expect(notOwnerReason('r3', 'ingest:ocsf', channelOf('ingest:asff'), correlate)).toMatch(/^remediation r3 was opened by ingest:ocsf; only ingest:ocsf may/);
});

test('a misspelt source as the owner or among the joiners stops drw naming file, line, key and the known sources', () => {
  expect(problems('version: 1\ncorrelate:\n  securityhub: [ocsf]\n')).toEqual([expect.stringMatching(/^access.yaml:3: correlate.securityhub: unknown source "securityhub" \(known: drw, alertmanager, asff, ocsf/)]);
  expect(problems('version: 1\ncorrelate:\n  asff:\n    - ocsf\n    - splunk\n')).toEqual([expect.stringMatching(/^access.yaml:5: correlate.asff.1: unknown source "splunk" \(known: drw, /)]);
  expect(problems('version: 1\ncorrelate:\n  asff: ocsf\n')[0]).toMatch(/^access.yaml:3: correlate.asff: /);
  expect(problems('version: 1\ncorrelates:\n  asff: [ocsf]\n')[0]).toMatch(/Unrecognized key: "correlates"/);
});

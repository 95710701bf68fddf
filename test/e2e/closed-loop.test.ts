/**
 * Honest outcomes through the real adapters and the embedded simulators (what `npm start` runs):
 * an IaC fix that cannot be made is never followed by a "done" verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import { DEFAULT_POLICY, startHarness, type Harness } from '../helpers/harness';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';
import { adapterSystems } from '../helpers/sims';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-closed-loop-'));
  sims = await startEmbeddedSimulators(dataDir, {}, { autoMergeAfterMs: 0 });
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: adapterSystems(buildSystems({ ...sims.env })) });
});

afterAll(async () => {
  await h?.close();
  await sims?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a public bucket the Terraform does not declare: the fix is blocked, the verification says not verified, nothing is called remediated', async () => {
  const account = asset('acct-nobucket');
  const id = await submit(
    h,
    detection({ source: 'prowler', rule: 's3_bucket_public_access', severity: 'high', category: 'misconfiguration', asset: { id: account, type: 'cloud-account', environment: 'dev' }, details: { bucket: 'acme-not-in-terraform', repository: 'acme/infra' } }),
  );
  // The verification has nothing to check (no pull request was opened): it is not verified, and says so.
  const s = await waitFor(h, id, (x) => step(x, 'cloud-misconfiguration.verify').status === 'failed' && x.status === 'escalated', 'escalated, not verified');
  expect(step(s, 'cloud-misconfiguration.fix-bucket')).toMatchObject({ status: 'blocked', note: expect.stringContaining('no aws_s3_bucket "acme-not-in-terraform"') });
  expect(step(s, 'cloud-misconfiguration.verify').note).toBe('not verified: pr_merged: no pull request was opened');
  expect(s.decisions.some((d: any) => d.kind === 'step_done' && d.stepId === 'cloud-misconfiguration.verify')).toBe(false);
  expect(s.decisions.filter((d: any) => d.kind === 'escalation').map((d: any) => d.trigger)).toEqual(['step_blocked', 'verification_failed']);
  expect(sims.simulators.github!.pulls().filter((p: any) => p.title?.includes(account))).toEqual([]);
});

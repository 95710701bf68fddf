import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './devserver';

let dir: string | undefined;

/**
 * The shipped playbooks with the native API trusted for risk scores (facts.yaml): the bench's
 * detections stand for an EDR's own, contained at once at 95 as through a trusted channel, and
 * stay comparable with builds before fact provenance.
 */
export function benchPolicyDir(): string {
  if (dir) return dir;
  dir = mkdtempSync(path.join(os.tmpdir(), 'drw-bench-policy-'));
  cpSync(path.join(REPO, 'policies', 'default'), dir, { recursive: true });
  writeFileSync(path.join(dir, 'facts.yaml'), 'trustedRiskSources: [drw]\nunknownAsset: { environment: production }\n');
  return dir;
}

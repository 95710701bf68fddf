import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './devserver';

let dir: string | undefined;

/**
 * The shipped playbooks with the native API trusted for risk scores (facts.yaml): the bench's
 * detections stand for an EDR's own, contained at once at 95 as through a trusted channel, and
 * stay comparable with builds before fact provenance. Without change control (changeControl
 * none): the baseline makes the 7 calls of a remediation without a CAB, and no CAB approves in
 * the bench's in-process systems (change control's cost is its own scenario, not this ratio).
 */
export function benchPolicyDir(): string {
  if (dir) return dir;
  dir = mkdtempSync(path.join(os.tmpdir(), 'drw-bench-policy-'));
  cpSync(path.join(REPO, 'policies', 'default'), dir, { recursive: true });
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    const file = path.join(dir, f);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/disruptiveInProduction: normal/g, 'disruptiveInProduction: none'));
  }
  writeFileSync(path.join(dir, 'facts.yaml'), 'trustedRiskSources: [drw]\nunknownAsset: { environment: production }\n');
  return dir;
}

import { defaultDedupeKey, type Detection } from '../domain/detection';
import { choosePlaybook } from './plan';
import type { PolicySet } from './policy-schema';
import { renderParams } from './template';
import type { Facts } from './types';

/** The deduplication key: the detection's own, else the matching playbook's template, else source|asset|rule. */
export function dedupeKeyFor(policy: PolicySet, d: Detection, facts: Facts): string {
  if (d.dedupeKey) return d.dedupeKey;
  const pb = choosePlaybook(policy, facts).playbook;
  if (pb.dedupeKey) {
    const key = String(renderParams({ k: pb.dedupeKey }, facts).k);
    if (key) return key;
  }
  return defaultDedupeKey(d);
}

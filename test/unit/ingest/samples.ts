import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectionSchema, type Detection } from '../../../domain/detection';
import { normalize, type FormatName, type NormalizeResult } from '../../../ingest';

/** CI clones the repo next to `shared/`, so `<repo>/../shared/samples` holds the real payloads. */
export const SAMPLES_DIR = process.env.DRW_SAMPLES_DIR ?? path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'samples');

/** The format of each samples folder. */
export const FOLDER_FORMAT: Record<string, FormatName> = {
  alertmanager: 'alertmanager',
  securityhub: 'asff',
  ocsf: 'ocsf',
  falco: 'falco',
  trivy: 'trivy',
  github: 'github',
  wazuh: 'wazuh',
  crowdstrike: 'falcon',
  defender: 'msgraph',
};

export const RECEIVED_AT = '2030-01-01T00:00:00.000Z';

export function sampleText(rel: string): string {
  return fs.readFileSync(path.join(SAMPLES_DIR, rel), 'utf8');
}

// Sample JSON is heterogeneous by nature; tests index into it freely.
export function sampleJson(rel: string): any {
  return JSON.parse(sampleText(rel));
}

export function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Normalizes a payload and re-checks every finding against the schema independently. */
export function run(format: string, payload: unknown, headers: Record<string, string> = {}): NormalizeResult {
  const result = normalize(format, payload, { headers, receivedAt: RECEIVED_AT });
  for (const f of result.findings) detectionSchema.parse(f);
  return result;
}

/** A sample that must yield exactly one finding and nothing skipped. */
export function single(format: string, rel: string, headers: Record<string, string> = {}): Detection {
  const r = run(format, sampleText(rel), headers);
  expect(r.skipped).toEqual([]);
  expect(r.findings).toHaveLength(1);
  return r.findings[0];
}

/** Every sample file, relative to SAMPLES_DIR, excluding documentation. */
export function allSampleFiles(dir = SAMPLES_DIR, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? allSampleFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .filter((f) => !f.toLowerCase().endsWith('.md'))
    .sort();
}

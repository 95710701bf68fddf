import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectFormat } from '../../../ingest';
import { allSampleFiles, FOLDER_FORMAT, run, sampleText, SAMPLES_DIR } from './samples';

/**
 * Guards against a sample being added and silently ignored: every file under the samples folder
 * must belong to a known format, normalize to at least one valid finding, be recognised by
 * detectFormat, and be named by one of the per-format tests (which assert its mapped values).
 */
const files = allSampleFiles();

const testSources = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.test.ts') && f !== path.basename(__filename))
  .map((f) => fs.readFileSync(path.join(__dirname, f), 'utf8'))
  .join('\n');

describe(`samples in ${SAMPLES_DIR}`, () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s is covered', (rel) => {
    const folder = rel.split('/')[0];
    const format = FOLDER_FORMAT[folder];
    if (!format) throw new Error(`sample folder "${folder}" has no format mapping in coverage.test.ts`);

    const r = run(format, sampleText(rel));
    expect(r.findings.length).toBeGreaterThan(0);
    expect(r.skipped).toEqual([]);
    expect(detectFormat(sampleText(rel))).toBe(format);

    if (!testSources.includes(path.basename(rel))) {
      throw new Error(`${rel} is not named by any test in test/unit/ingest: add assertions for its mapped values`);
    }
  });
});

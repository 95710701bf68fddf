/** The sealed archive in a local folder (the default): chain, exactly-once, tamper evidence, encryption at rest. */
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Archive, recordKey } from '../../../audit/archive';
import { LocalStore } from '../../../audit/store-local';
import { archiveBehaviours, draftOf } from '../../helpers/archive-suite';

const root = mkdtempSync(path.join(process.env.DRW_TEST_TMP ?? os.tmpdir(), 'drw-archive-'));
let n = 0;

archiveBehaviours(async () => new LocalStore(path.join(root, `a${++n}`)));

test('a sealed record in the folder is read-only, and nothing but records, index and head is left behind', async () => {
  const dir = path.join(root, 'ro');
  const archive = new Archive(new LocalStore(dir));
  await archive.append(draftOf());
  expect(statSync(path.join(dir, recordKey(0))).mode & 0o777).toBe(0o444);
  const keys: string[] = [];
  for await (const k of archive.store.list('')) keys.push(k);
  expect(keys).toEqual(['head.json', recordKey(0), expect.stringMatching(/^runs\/drw-test-[^/]+\/[0-9a-f-]{36}\.json$/)]);
});

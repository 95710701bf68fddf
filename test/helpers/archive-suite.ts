/**
 * What every archive store must do, run against each one (the local folder in the unit
 * tests, a real S3-compatible server in the contract tests), with histories recorded from a
 * real Temporal server.
 */
import { randomUUID } from 'node:crypto';
import { Archive, recordKey, type RecordDraft } from '../../audit/archive';
import { KeyRing } from '../../audit/keys';
import { readArchivedHistory } from '../../audit/read';
import { recordText, sealBytes } from '../../audit/record';
import { draftFromRun } from '../../audit/seal';
import type { ArchiveStore } from '../../audit/store';
import { verifyArchive } from '../../audit/verify';
import { runFromJson, type RunHistory } from '../../report/history';
import { CHAIN_FILE, EDR_FILE, fixtureRuns } from '../unit/report/fixtures';

const edr = fixtureRuns(EDR_FILE)[0];

/** The recorded EDR run under a new workflow id and run id (the archive keys on both). */
export function draftOf(workflowId = `drw-test-${randomUUID().slice(0, 8)}`, runId: string = randomUUID(), base: RunHistory = edr): RecordDraft {
  return draftFromRun(workflowId, { ...runFromJson(JSON.parse(base.text), runId), workflowId }, new Date('2026-11-30T00:00:00Z'));
}

export function testKeys(current = 'k1'): KeyRing {
  return KeyRing.of({ k1: Buffer.alloc(32, 1), k2: Buffer.alloc(32, 2) }, current);
}

/** Flips one byte of the stored object (in the middle of it), as an attacker with write access would. */
export async function tamperOneByte(store: ArchiveStore, key: string): Promise<void> {
  const bytes = (await store.get(key))!;
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at] === 0x41 ? 0x42 : 0x41;
  await store.put(key, bytes);
}

export function archiveBehaviours(freshStore: () => Promise<ArchiveStore>): void {
  test('sealing the same run twice, from two writers, stores one record', async () => {
    const store = await freshStore();
    const draft = draftOf();
    const a = await new Archive(store).append(draft);
    const b = await new Archive(store).append(draft);
    expect(a).toMatchObject({ seq: 0, created: true });
    expect(b).toEqual({ seq: 0, digest: a.digest, created: false });
    const keys: string[] = [];
    for await (const k of store.list('records/')) keys.push(k);
    expect(keys).toEqual([recordKey(0)]);
    const got = await new Archive(store).get(draft.workflowId, draft.runId);
    expect(got?.record.report).toEqual(draft.report);
    expect(got?.record.metadata).toMatchObject({ remediationId: draft.workflowId, playbook: 'edr-malware', outcome: { workflow: 'completed', status: 'remediated' } });
  });

  test('sixteen runs sealed at once by four writers form one linear chain that verifies', async () => {
    const store = await freshStore();
    const writers = [0, 1, 2, 3].map(() => new Archive(store));
    const drafts = Array.from({ length: 16 }, () => draftOf());
    const results = await Promise.all(drafts.map((d, i) => writers[i % 4].append(d)));
    expect(results.map((r) => r.seq).sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
    expect(results.every((r) => r.created)).toBe(true);
    const v = await verifyArchive(new Archive(store));
    expect(v).toMatchObject({ ok: true, records: 16, head: { seq: 15 } });
  });

  test('a writer killed after committing its record but before indexing it: sealing again finds that record', async () => {
    const store = await freshStore();
    const archive = new Archive(store);
    const first = await archive.append(draftOf());
    const draft = draftOf();
    // What the killed writer left: the committed record at the next position, no index, no head.
    const { text } = recordText({ drwAuditRecord: 1, seq: 1, prev: first.digest, sealedAt: new Date().toISOString(), ...draft });
    expect(await store.create(recordKey(1), sealBytes(text, recordKey(1), undefined))).toBe(true);
    const again = await new Archive(store).append(draft);
    expect(again).toMatchObject({ seq: 1, created: false });
    expect(await archive.find(draft.workflowId, draft.runId)).toEqual({ seq: 1, digest: again.digest });
    expect((await archive.append(draftOf())).seq).toBe(2);
    expect(await verifyArchive(archive)).toMatchObject({ ok: true, records: 3 });
  });

  test('an auditor edits one byte of the second of three records: verify fails at exactly that record', async () => {
    const store = await freshStore();
    const archive = new Archive(store);
    for (let i = 0; i < 3; i++) await archive.append(draftOf());
    await tamperOneByte(store, recordKey(1));
    const v = await verifyArchive(archive);
    expect(v.ok).toBe(false);
    expect(v.records).toBe(1);
    expect(v.broken).toMatchObject({ seq: 1, key: recordKey(1) });
    expect(v.broken!.reason).toMatch(/digest mismatch|not JSON|no digest/);
  });

  test('an encrypted archive: records are ciphertext at rest, read back with a rotated key ring, and a flipped byte fails verify at that record', async () => {
    const store = await freshStore();
    const oldRing = testKeys('k1');
    const d1 = draftOf();
    await new Archive(store, oldRing).append(d1);
    const d2 = draftOf();
    await new Archive(store, testKeys('k2')).append(d2);
    const raw = (await store.get(recordKey(0)))!.toString('utf8');
    expect(raw).toMatch(/^\{"drwEncrypted":1,"alg":"AES-256-GCM","keyId":"k1"/);
    expect(raw).not.toContain(d1.workflowId);
    expect((await store.get(recordKey(1)))!.toString('utf8')).toContain('"keyId":"k2"');
    const rotated = new Archive(store, testKeys('k2'));
    expect((await rotated.get(d1.workflowId, d1.runId))?.record.metadata.historySha256).toBe(d1.metadata.historySha256);
    expect(await verifyArchive(rotated)).toMatchObject({ ok: true, records: 2 });
    expect(await verifyArchive(new Archive(store))).toMatchObject({ ok: false, broken: { seq: 0, reason: expect.stringMatching(/encrypted with key "k1": set DRW_CODEC_KEYS/) } });
    await tamperOneByte(store, recordKey(1));
    expect(await verifyArchive(rotated)).toMatchObject({ ok: false, records: 1, broken: { seq: 1, reason: expect.stringMatching(/does not authenticate|damaged/) } });
  });

  test('a remediation of three continue-as-new runs, sealed out of order, reads back as its chain with the same digests', async () => {
    const store = await freshStore();
    const archive = new Archive(store);
    const runs = fixtureRuns(CHAIN_FILE);
    const workflowId = runs[0].workflowId!;
    for (const r of [runs[2], runs[0], runs[1]]) await archive.append(draftFromRun(workflowId, r));
    await archive.append(draftOf());
    const back = await readArchivedHistory(archive, workflowId);
    expect(back?.map((r) => [r.runId, r.sha256])).toEqual(runs.map((r) => [r.runId, r.sha256]));
    expect(await readArchivedHistory(archive, 'drw-never-sealed')).toBeUndefined();
  });
}

import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createFileInventory, loadInventoryConfig, parseCsv } from '../../../activities/adapters/inventory';
import { failureOf } from '../ticketing/helpers';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'inventory');

const WEB_01 = {
  found: true,
  ciId: 'web-01',
  name: 'web-01.prod.example.com',
  environment: 'production',
  criticality: 'critical',
  internetFacing: true,
  owner: 'team-storefront@example.com',
  tags: ['pci', 'web'],
  endpointIds: { crowdstrike: '4f1e9f0b2c9d4a6bb1f0c0de0000a001', defender: '7a1f0c3e9d2b4c5a8e6f10203040a001b2c3d4e5' },
  repository: 'example-org/storefront-infra',
};

describe.each(['assets.yaml', 'assets.csv'])('file inventory from %s', (file) => {
  const inventory = createFileInventory(path.join(FIXTURES, file));

  it('finds an asset by id with every fact', async () => {
    expect(await inventory.lookupAsset({ assetId: 'web-01' })).toEqual(WEB_01);
  });

  it('finds assets by name, alias, IP and hints, case-insensitively', async () => {
    expect(await inventory.lookupAsset({ assetId: 'WEB-01.prod.example.com' })).toMatchObject({ ciId: 'web-01' });
    expect(await inventory.lookupAsset({ assetId: 'storefront-web' })).toMatchObject({ ciId: 'web-01' });
    expect(await inventory.lookupAsset({ assetId: '203.0.113.10' })).toMatchObject({ ciId: 'web-01' });
    expect(await inventory.lookupAsset({ assetId: 'i-0123', hints: { ip: '10.0.2.20' } })).toEqual({
      found: true,
      ciId: 'db-02',
      name: 'db-02.prod.example.com',
      environment: 'production',
      criticality: 'high',
      internetFacing: false,
      owner: 'Data Platform, Ops',
      tags: ['database'],
    });
    expect(await inventory.lookupAsset({ assetId: 'i-0456', hints: { hostname: 'build-07.ci.example.com' } })).toMatchObject({
      ciId: 'build-07',
      environment: 'staging',
      criticality: 'medium',
      repository: 'example-org/ci-runners',
    });
    expect(await inventory.lookupAsset({ assetId: '10.9.0.8' })).toMatchObject({ ciId: 'build-07' });
  });

  it('answers found:false for an unknown asset', async () => {
    expect(await inventory.lookupAsset({ assetId: 'nope', hints: { ip: '192.0.2.1', hostname: 'nope.example.com' } })).toEqual({ found: false });
  });
});

describe('file inventory specifics', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'drw-inventory-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  /** Writes and moves the mtime forward, so the change is visible even within one clock tick. */
  async function write(file: string, text: string, bumpSeconds = 0): Promise<void> {
    await fs.writeFile(file, text);
    if (bumpSeconds) {
      const t = new Date(Date.now() + bumpSeconds * 1000);
      await fs.utimes(file, t, t);
    }
  }

  it('parses quoted CSV fields: commas, doubled quotes, line breaks, CRLF', async () => {
    expect(parseCsv('a,"b,c","say ""hi""","line1\nline2"\r\n1,2,3,4\r\n')).toEqual([
      ['a', 'b,c', 'say "hi"', 'line1\nline2'],
      ['1', '2', '3', '4'],
    ]);
    expect(parseCsv('\ufeffid,owner\nx,""\n')).toEqual([['id', 'owner'], ['x', '']]);
    expect(() => parseCsv('a,"b\n')).toThrow(/unterminated/);
    expect(parseCsv('id\n# a "quoted, comment\nx,"# not a comment"\n', { comments: true })).toEqual([['id'], ['x', '# not a comment']]);
    const inv = createFileInventory(path.join(FIXTURES, 'assets.csv'));
    expect(await inv.lookupAsset({ assetId: 'build-07' })).toMatchObject({ owner: 'CI team "runners"' });
  });

  it('loads once and reloads when the file changes', async () => {
    const file = path.join(dir, 'assets.yaml');
    await write(file, 'assets:\n  - id: app-1\n    criticality: low\n');
    const inv = createFileInventory(file);
    expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ criticality: 'low' });

    const reads = jest.spyOn(fs, 'readFile');
    try {
      await inv.lookupAsset({ assetId: 'app-1' });
      await inv.lookupAsset({ assetId: 'app-1' });
      expect(reads).not.toHaveBeenCalled();

      await write(file, 'assets:\n  - id: app-1\n    criticality: critical\n    internetFacing: yes\n', 5);
      expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ criticality: 'critical', internetFacing: true });
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });

  it('reloads a CSV inventory on change', async () => {
    const file = path.join(dir, 'assets.csv');
    await write(file, 'id,names,owner\nhost-a,a.example.com,alice\n');
    const inv = createFileInventory(file);
    expect(await inv.lookupAsset({ assetId: 'b.example.com' })).toEqual({ found: false });
    await write(file, 'id,names,owner\nhost-a,a.example.com,alice\nhost-b,"b.example.com;b",bob\n', 5);
    expect(await inv.lookupAsset({ assetId: 'b.example.com' })).toMatchObject({ ciId: 'host-b', owner: 'bob' });
  });

  it('keeps the last good version when an edit breaks the file, and says so', async () => {
    const file = path.join(dir, 'assets.yaml');
    await write(file, '- id: app-1\n  owner: alice\n');
    const warnings: Error[] = [];
    const inv = createFileInventory(file, { onReloadError: (e) => warnings.push(e) });
    expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ owner: 'alice' });

    await write(file, '- id: app-1\n  criticality: extreme\n', 5);
    expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ owner: 'alice' });
    expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ owner: 'alice' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toContain('criticality');

    await write(file, '- id: app-1\n  owner: bob\n', 10);
    expect(await inv.lookupAsset({ assetId: 'app-1' })).toMatchObject({ owner: 'bob' });
  });

  it('fails non-retryably on a missing or invalid file, naming the problem', async () => {
    const missing = await failureOf(createFileInventory(path.join(dir, 'none.yaml')).lookupAsset({ assetId: 'x' }));
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toContain('ENOENT');

    const file = path.join(dir, 'bad.csv');
    await write(file, 'id,hostnmae,criticality\nx,x.example.com,extreme\n');
    const bad = await failureOf(createFileInventory(file).lookupAsset({ assetId: 'x' }));
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect(bad.nonRetryable).toBe(true);
    expect(bad.type).toBe('inventory.InvalidFile');
    expect(bad.message).toContain('record 1: unknown field "hostnmae"');
    expect(bad.message).toContain('criticality');

    await write(file, 'id,names\nx,a\nx,b\n', 5);
    expect((await failureOf(createFileInventory(file).lookupAsset({ assetId: 'x' }))).message).toContain('"x" appears twice');
  });

  it('does not guess between assets sharing an identifier', async () => {
    const file = path.join(dir, 'assets.yaml');
    await write(file, '- { id: vm-old, ips: [10.1.1.1], owner: old }\n- { id: vm-new, ips: [10.1.1.1], owner: new }\n');
    const inv = createFileInventory(file);
    expect(await inv.lookupAsset({ assetId: '10.1.1.1' })).toEqual({ found: false });
    expect(await inv.lookupAsset({ assetId: 'vm-new', hints: { ip: '10.1.1.1' } })).toMatchObject({ owner: 'new' });
  });

  it('is configured by DRW_INVENTORY_FILE', () => {
    expect(loadInventoryConfig({})).toBeUndefined();
    expect(loadInventoryConfig({ DRW_INVENTORY_FILE: '/etc/drw/assets.csv' })).toEqual({ path: '/etc/drw/assets.csv' });
    expect(() => loadInventoryConfig({ DRW_INVENTORY_FILE: '/etc/drw/assets.txt' })).toThrow(/DRW_INVENTORY_FILE/);
  });
});

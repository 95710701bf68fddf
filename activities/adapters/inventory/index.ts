import { promises as fs } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ApplicationFailure } from '@temporalio/common';
import type { AssetFacts, Cmdb, LookupAssetInput } from '../../interfaces';
import { parseCsv } from './csv';
import { inventoryAssetSchema, normalizeKeys, type InventoryAsset } from './schema';

export { parseCsv } from './csv';
export type { InventoryAsset } from './schema';

export interface FileInventoryOptions {
  /** Told when a changed file is invalid and the previous version stays in use. */
  onReloadError?: (err: Error) => void;
}

interface Index {
  byId: Map<string, InventoryAsset>;
  /** Names, aliases, IPs and serials; more than one asset under a key makes that key ambiguous. */
  byIdentifier: Map<string, InventoryAsset[]>;
}

/** Loads `DRW_INVENTORY_FILE` (YAML or CSV); undefined when it is not set. */
export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env): { path: string } | undefined {
  const path = env.DRW_INVENTORY_FILE?.trim();
  if (!path) return undefined;
  if (!/\.(ya?ml|csv|json)$/i.test(path)) throw new Error('invalid inventory configuration: DRW_INVENTORY_FILE: must end in .yaml, .yml, .json or .csv');
  return { path };
}

/**
 * A CMDB for teams without one: a YAML or CSV file of assets. It is parsed once and re-parsed
 * only when its mtime, size or inode changes (editors often replace the file), so lookups cost
 * one stat. A broken edit keeps the last good version in service rather than failing every
 * remediation until someone notices.
 */
export function createFileInventory(path: string, opts: FileInventoryOptions = {}): Cmdb {
  let good: { version: string; index: Index } | undefined;
  let bad: { version: string; error: ApplicationFailure } | undefined;
  let loading: Promise<Index> | undefined;
  const warn = opts.onReloadError ?? ((err: Error) => process.emitWarning(err.message, 'DrwInventoryWarning'));

  async function load(): Promise<Index> {
    let version: string;
    try {
      const st = await fs.stat(path);
      version = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch (err) {
      if (good) return good.index;
      throw invalid(`inventory file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (good?.version === version) return good.index;
    if (bad?.version === version) {
      if (good) return good.index;
      throw bad.error;
    }
    try {
      const index = buildIndex(parseInventory(await fs.readFile(path, 'utf8'), path));
      good = { version, index };
      bad = undefined;
      return index;
    } catch (err) {
      const error = err instanceof ApplicationFailure ? err : invalid(`inventory file ${path}: ${(err as Error).message}`);
      bad = { version, error };
      if (!good) throw error;
      warn(error);
      return good.index;
    }
  }

  return {
    async lookupAsset(input: LookupAssetInput): Promise<AssetFacts> {
      // Concurrent lookups share one reload instead of parsing the file side by side.
      const index = await (loading ??= load().finally(() => (loading = undefined)));
      const asset = find(index, input);
      return asset ? toFacts(asset) : { found: false };
    },
  };
}

export function parseInventory(text: string, path: string): InventoryAsset[] {
  const records = /\.csv$/i.test(extname(path)) ? csvRecords(text) : yamlRecords(text);
  const problems: string[] = [];
  const assets: InventoryAsset[] = [];
  records.forEach(({ where, raw }) => {
    const { value, problems: keyProblems } = normalizeKeys(raw);
    keyProblems.forEach((p) => problems.push(`${where}: ${p}`));
    const parsed = inventoryAssetSchema.safeParse(value);
    if (parsed.success) assets.push(parsed.data);
    else parsed.error.issues.forEach((i) => problems.push(`${where}: ${i.path.join('.') || 'entry'}: ${i.message}`));
  });
  if (problems.length) throw invalid(`inventory file ${path} is invalid: ${problems.slice(0, 10).join('; ')}`);
  return assets;
}

function yamlRecords(text: string): { where: string; raw: Record<string, unknown> }[] {
  const doc: unknown = parseYaml(text);
  const list = Array.isArray(doc) ? doc : (doc as { assets?: unknown } | null)?.assets;
  if (!Array.isArray(list)) throw new Error('expected a list of assets, or an "assets:" list');
  return list.map((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`asset #${i + 1} is not a mapping`);
    return { where: `asset #${i + 1}`, raw: raw as Record<string, unknown> };
  });
}

function csvRecords(text: string): { where: string; raw: Record<string, unknown> }[] {
  const rows = parseCsv(text, { comments: true });
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  return rows.slice(1).map((cells, i) => {
    if (cells.length > header.length) throw new Error(`record ${i + 1} has ${cells.length} fields, the header ${header.length}`);
    const raw: Record<string, unknown> = {};
    header.forEach((h, j) => (raw[h] = cells[j] ?? ''));
    return { where: `record ${i + 1}`, raw };
  });
}

function buildIndex(assets: InventoryAsset[]): Index {
  const byId = new Map<string, InventoryAsset>();
  const byIdentifier = new Map<string, InventoryAsset[]>();
  for (const a of assets) {
    const id = a.id.toLowerCase();
    if (byId.has(id)) throw invalid(`asset id "${a.id}" appears twice`);
    byId.set(id, a);
    for (const key of new Set([...a.names, ...a.aliases, ...a.ips, ...a.serials].map((k) => k.toLowerCase()))) {
      byIdentifier.set(key, [...(byIdentifier.get(key) ?? []), a]);
    }
  }
  return { byId, byIdentifier };
}

/** The id wins; then names/aliases/IPs/serials, skipping any identifier two assets share. */
function find(index: Index, input: LookupAssetInput): InventoryAsset | undefined {
  const candidates = [input.assetId, input.hints?.hostname, input.hints?.ip, input.hints?.serial]
    .filter((v): v is string => !!v && !!v.trim())
    .map((v) => v.trim().toLowerCase());
  for (const c of candidates) {
    const hit = index.byId.get(c);
    if (hit) return hit;
  }
  for (const c of candidates) {
    const hits = index.byIdentifier.get(c);
    if (hits?.length === 1) return hits[0];
  }
  return undefined;
}

function toFacts(a: InventoryAsset): AssetFacts {
  const facts: AssetFacts = {
    found: true,
    ciId: a.id,
    name: a.names[0] ?? a.id,
    environment: a.environment,
    criticality: a.criticality,
    internetFacing: a.internetFacing,
    owner: a.owner,
    tags: a.tags.length ? a.tags : undefined,
    endpointIds: a.crowdstrikeId || a.defenderId ? { crowdstrike: a.crowdstrikeId, defender: a.defenderId } : undefined,
    repository: a.repository,
  };
  if (facts.endpointIds) facts.endpointIds = dropUndefined(facts.endpointIds);
  return dropUndefined(facts);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function invalid(message: string): ApplicationFailure {
  // An operator has to fix the file; retrying the activity cannot.
  return ApplicationFailure.create({ message, type: 'inventory.InvalidFile', nonRetryable: true });
}

import { z } from 'zod';
import { criticalitySchema } from '../../../domain/detection';

/** One inventory entry, after column/key names are normalized (see `canonicalKey`). */
export interface InventoryAsset {
  id: string;
  names: string[];
  ips: string[];
  aliases: string[];
  serials: string[];
  environment?: string;
  criticality?: z.infer<typeof criticalitySchema>;
  internetFacing?: boolean;
  owner?: string;
  tags: string[];
  crowdstrikeId?: string;
  defenderId?: string;
  repository?: string;
}

/** Header and key spellings people actually use, mapped to the canonical field. */
const KEY_ALIASES: Record<string, keyof InventoryAsset> = {
  id: 'id',
  assetid: 'id',
  name: 'names',
  names: 'names',
  hostname: 'names',
  hostnames: 'names',
  ip: 'ips',
  ips: 'ips',
  ipaddress: 'ips',
  ipaddresses: 'ips',
  alias: 'aliases',
  aliases: 'aliases',
  serial: 'serials',
  serials: 'serials',
  serialnumber: 'serials',
  environment: 'environment',
  env: 'environment',
  criticality: 'criticality',
  internetfacing: 'internetFacing',
  owner: 'owner',
  tags: 'tags',
  crowdstrikeid: 'crowdstrikeId',
  crowdstrikeaid: 'crowdstrikeId',
  defenderid: 'defenderId',
  defendermachineid: 'defenderId',
  repository: 'repository',
  repo: 'repository',
};

export function canonicalKey(key: string): keyof InventoryAsset | undefined {
  return KEY_ALIASES[key.toLowerCase().replace(/[^a-z0-9]/g, '')];
}

const blankToUndefined = (v: unknown) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v);
const optionalText = z.preprocess(blankToUndefined, z.coerce.string().trim().max(512).optional());

/** CSV cells hold lists as "a;b" (commas work too inside a quoted cell); YAML may use either form. */
const list = z.preprocess(
  (v) => (v == null ? [] : typeof v === 'string' ? v.split(/[;,|]/) : Array.isArray(v) ? v : [v]),
  z.array(z.coerce.string().trim().max(512)).transform((a) => a.filter(Boolean)),
);

const bool = z.preprocess((v) => {
  const b = blankToUndefined(v);
  if (typeof b !== 'string') return b;
  const s = b.trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(s)) return true;
  if (['false', 'no', 'n', '0'].includes(s)) return false;
  return b;
}, z.boolean({ error: 'must be true or false' }).optional());

const criticality = z.preprocess(
  (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : blankToUndefined(v)),
  criticalitySchema.optional(),
);

export const inventoryAssetSchema = z
  .object({
    id: z.coerce.string().trim().min(1, { error: 'id is required' }).max(512),
    names: list,
    ips: list,
    aliases: list,
    serials: list,
    environment: optionalText.transform((v) => v?.toLowerCase()),
    criticality,
    internetFacing: bool,
    owner: optionalText,
    tags: list,
    crowdstrikeId: optionalText,
    defenderId: optionalText,
    repository: optionalText,
  })
  .strict();

const LIST_KEYS = new Set<keyof InventoryAsset>(['names', 'ips', 'aliases', 'serials', 'tags']);

/**
 * Renames keys to canonical ones. Unknown keys are problems, since a typo would silently drop a
 * fact; list columns spelled two ways (name + hostnames) are merged.
 */
export function normalizeKeys(raw: Record<string, unknown>): { value: Record<string, unknown>; problems: string[] } {
  const value: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const key = canonicalKey(k);
    if (!key) problems.push(`unknown field "${k}"`);
    else if (value[key] === undefined) value[key] = v;
    else if (LIST_KEYS.has(key)) value[key] = [...toArray(value[key]), ...toArray(v)];
    else problems.push(`field "${k}" given twice`);
  }
  return { value, problems };
}

function toArray(v: unknown): unknown[] {
  if (v == null) return [];
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? v.split(/[;,|]/) : [v];
}

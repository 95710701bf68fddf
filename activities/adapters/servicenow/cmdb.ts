import type { AssetFacts, Cmdb, LookupAssetInput } from '../../interfaces';
import type { ServiceNowConfig } from './config';
import { createServiceNowClient, queryValue, resultOf, text } from './client';

type Row = Record<string, unknown>;

/** An identifier to try, best first: the earlier a condition, the more it says about identity. */
interface Condition {
  field: string;
  value: string;
}

const BASE_FIELDS = [
  'sys_id',
  'name',
  'fqdn',
  'ip_address',
  'serial_number',
  'asset_tag',
  'sys_class_name',
  'owned_by',
  'assigned_to',
  'managed_by',
  'environment',
  'used_for',
  'sys_tags',
];

export function createServiceNowCmdb(config: ServiceNowConfig): Cmdb {
  const http = createServiceNowClient(config);
  const fields = [...BASE_FIELDS, config.criticalityField, config.internetFacingField].filter((f): f is string => !!f);

  return {
    async lookupAsset(input: LookupAssetInput): Promise<AssetFacts> {
      const conditions = conditionsFor(input);
      if (conditions.length === 0) return { found: false };
      const { data } = await http.get(`/api/now/table/${config.cmdbTable}`, {
        params: {
          // Only fields every cmdb_ci has: ServiceNow silently drops conditions on unknown fields.
          sysparm_query: conditions.map((c, i) => `${i ? '^OR' : ''}${c.field}=${c.value}`).join(''),
          sysparm_fields: fields.join(','),
          sysparm_display_value: 'true',
          sysparm_exclude_reference_link: 'true',
          sysparm_limit: 20,
        },
      });
      const rows = resultOf<Row[]>(data, 'CI lookup');
      const best = bestMatch(Array.isArray(rows) ? rows : [], conditions);
      return best ? toFacts(best, config) : { found: false };
    },
  };
}

function conditionsFor(input: LookupAssetInput): Condition[] {
  const out: Condition[] = [];
  const add = (field: string, raw: string | undefined) => {
    const value = queryValue(raw);
    if (value && !out.some((c) => c.field === field && c.value.toLowerCase() === value.toLowerCase())) out.push({ field, value });
  };
  const id = input.assetId;
  if (/^[0-9a-f]{32}$/.test(id)) add('sys_id', id);
  add('name', id);
  add('fqdn', id);
  if (isIp(id)) add('ip_address', id);
  add('name', input.hints?.hostname);
  add('fqdn', input.hints?.hostname);
  add('ip_address', input.hints?.ip);
  add('serial_number', input.hints?.serial);
  add('asset_tag', input.hints?.serial);
  return out;
}

/**
 * Re-checks every row against the conditions rather than trusting the query: an instance with
 * invalid-query filtering off would return the whole table for a condition it ignored. An
 * identifier shared by several CIs (a recycled IP, a duplicate CI) says nothing, so the next
 * one is tried: a wrong owner or criticality is worse than none.
 */
function bestMatch(rows: Row[], conditions: Condition[]): Row | undefined {
  for (const c of conditions) {
    const hits = rows.filter((row) => text(row[c.field])?.toLowerCase() === c.value.toLowerCase());
    const ids = new Set(hits.map((row) => text(row.sys_id)));
    if (ids.size === 1) return hits[0];
  }
  return undefined;
}

function toFacts(row: Row, config: ServiceNowConfig): AssetFacts {
  const tags = (text(row.sys_tags) ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const facts: AssetFacts = {
    found: true,
    ciId: text(row.sys_id),
    name: text(row.name),
    environment: text(row.environment)?.toLowerCase() ?? text(row.used_for)?.toLowerCase(),
    criticality: criticality(text(row[config.criticalityField])),
    internetFacing: internetFacing(row, tags, config),
    owner: text(row.owned_by) ?? text(row.assigned_to) ?? text(row.managed_by),
    tags: tags.length ? tags : undefined,
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as AssetFacts;
}

/** business_criticality choices are "1 - most critical" .. "4 - not critical"; a bare number or word also works. */
export function criticality(value: string | undefined): AssetFacts['criticality'] {
  if (!value) return undefined;
  const v = value.trim().toLowerCase();
  const rank = /^([1-4])\b/.exec(v)?.[1];
  if (rank) return (['critical', 'high', 'medium', 'low'] as const)[Number(rank) - 1];
  if (/not critical|^low/.test(v)) return 'low';
  if (/less critical|^medium|^moderate/.test(v)) return 'medium';
  if (/somewhat critical|^high/.test(v)) return 'high';
  if (/critical/.test(v)) return 'critical';
  return undefined;
}

function internetFacing(row: Row, tags: string[], config: ServiceNowConfig): boolean | undefined {
  let answer: boolean | undefined;
  if (config.internetFacingField) {
    const v = text(row[config.internetFacingField])?.trim().toLowerCase();
    if (v && ['true', 'yes', '1', 'y'].includes(v)) answer = true;
    else if (v && ['false', 'no', '0', 'n'].includes(v)) answer = false;
  }
  if (config.internetFacingTag) {
    const tagged = tags.some((t) => t.toLowerCase() === config.internetFacingTag!.toLowerCase());
    answer = tagged || (answer ?? false);
  }
  return answer;
}

function isIp(value: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || (/^[0-9a-f:]+$/i.test(value) && value.includes(':'));
}

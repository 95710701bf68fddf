import type { AxiosInstance } from 'axios';
import type { AssetFacts, Cmdb, LookupAssetInput } from '../../interfaces';
import type { ServiceNowConfig } from './config';
import { createServiceNowClient, queryValue, rawValue, resultOf, text } from './client';
import { checkCmdbFields } from './cmdb-schema';

type Row = Record<string, unknown>;

/** An identifier to try, best first: the earlier a condition, the more it says about identity. */
interface Condition {
  field: string;
  value: string;
}

/** Columns of cmdb_ci itself: a query on cmdb_ci answers only these, whatever the CI's class. */
const BASE_FIELDS = ['sys_id', 'name', 'fqdn', 'ip_address', 'serial_number', 'asset_tag', 'sys_class_name', 'owned_by', 'assigned_to', 'managed_by'];
const TABLE = /^[a-z][a-z0-9_]{0,79}$/;
const SYS_ID = /^[0-9a-f]{32}$/;
/** Business services a CI supports, at most; a host in more is rare and the most critical wins. */
const SERVICES_MAX = 100;

export interface ServiceNowCmdb extends Cmdb {
  /** Checks the configured fields against the instance's data dictionary; for worker start. */
  preflight(): Promise<void>;
}

/**
 * CMDB lookups through the Table API. The CI is found on cmdb_ci (identity fields every CI
 * has); what only some classes have (environment, exposure) is read from the CI's own class
 * table, criticality from the business services that depend on the CI (cmdb_rel_ci →
 * cmdb_ci_service.busines_criticality) unless configured on the CI, and tags from label_entry.
 * The configured fields are checked once against sys_dictionary before the first lookup.
 */
export function createServiceNowCmdb(config: ServiceNowConfig): ServiceNowCmdb {
  const http = createServiceNowClient(config);
  let checked: Promise<void> | undefined;
  const preflight = () => {
    checked ??= checkCmdbFields(http, config).catch((err: unknown) => {
      checked = undefined;
      throw err;
    });
    return checked;
  };

  return {
    preflight,
    async lookupAsset(input: LookupAssetInput): Promise<AssetFacts> {
      await preflight();
      const conditions = conditionsFor(input);
      if (conditions.length === 0) return { found: false };
      const { data } = await http.get(`/api/now/table/${config.cmdbTable}`, {
        params: {
          // Only fields every cmdb_ci has: ServiceNow silently drops conditions on unknown fields.
          sysparm_query: conditions.map((c, i) => `${i ? '^OR' : ''}${c.field}=${c.value}`).join(''),
          sysparm_fields: BASE_FIELDS.join(','),
          sysparm_display_value: 'all',
          sysparm_exclude_reference_link: 'true',
          sysparm_limit: 20,
        },
      });
      const rows = resultOf<Row[]>(data, 'CI lookup');
      const best = bestMatch(Array.isArray(rows) ? rows : [], conditions);
      if (!best) return { found: false };
      const sysId = rawValue(best.sys_id);
      const cls = rawValue(best.sys_class_name);
      if (!sysId || !SYS_ID.test(sysId)) return { found: false };
      const [own, tags, serviceCriticality] = await Promise.all([
        classFields(http, config, cls, sysId),
        tagsOf(http, sysId),
        config.criticalityFrom === 'services' ? servicesCriticality(http, config, sysId) : Promise.resolve(undefined),
      ]);
      return toFacts(best, own, tags, config.criticalityFrom === 'services' ? serviceCriticality : criticality(text(own[config.criticalityField])), config);
    },
  };
}

/** The CI's class-specific fields, from its own class table (a parent table does not answer them). */
async function classFields(http: AxiosInstance, config: ServiceNowConfig, cls: string | undefined, sysId: string): Promise<Row> {
  if (!cls || !TABLE.test(cls)) return {};
  const fields = [...new Set([config.environmentField, config.internetFacingField, ...(config.criticalityFrom === 'ci' ? [config.criticalityField] : [])])];
  const { data } = await http.get(`/api/now/table/${cls}/${sysId}`, {
    params: { sysparm_fields: fields.join(','), sysparm_display_value: 'true', sysparm_exclude_reference_link: 'true' },
  });
  return resultOf<Row>(data, `${cls} read`) ?? {};
}

/** The most critical of the business services that depend on the CI. */
async function servicesCriticality(http: AxiosInstance, config: ServiceNowConfig, sysId: string): Promise<AssetFacts['criticality']> {
  const { data: rels } = await http.get('/api/now/table/cmdb_rel_ci', {
    params: { sysparm_query: `child=${sysId}`, sysparm_fields: 'parent', sysparm_limit: SERVICES_MAX },
  });
  const parents = resultOf<Row[]>(rels, 'relationship lookup')
    .map((r) => rawValue(r.parent))
    .filter((id): id is string => !!id && SYS_ID.test(id));
  if (!parents.length) return undefined;
  const { data } = await http.get('/api/now/table/cmdb_ci_service', {
    params: { sysparm_query: `sys_idIN${[...new Set(parents)].join(',')}`, sysparm_fields: `sys_id,${config.criticalityField}`, sysparm_display_value: 'true', sysparm_limit: SERVICES_MAX },
  });
  const ranks: AssetFacts['criticality'][] = ['critical', 'high', 'medium', 'low'];
  const levels = resultOf<Row[]>(data, 'service lookup').map((r) => criticality(text(r[config.criticalityField])));
  return ranks.find((r) => levels.includes(r));
}

/** Tags live in label_entry (the list's Tags column is not a stored field). */
async function tagsOf(http: AxiosInstance, sysId: string): Promise<string[]> {
  const { data } = await http.get('/api/now/table/label_entry', {
    params: { sysparm_query: `table_key=${sysId}`, sysparm_fields: 'label', sysparm_display_value: 'true', sysparm_exclude_reference_link: 'true', sysparm_limit: 100 },
  });
  return resultOf<Row[]>(data, 'tag lookup')
    .map((r) => text(r.label))
    .filter((t): t is string => !!t);
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
    const hits = rows.filter((row) => rawValue(row[c.field])?.toLowerCase() === c.value.toLowerCase());
    const ids = new Set(hits.map((row) => rawValue(row.sys_id)));
    if (ids.size === 1) return hits[0];
  }
  return undefined;
}

function toFacts(row: Row, own: Row, tags: string[], level: AssetFacts['criticality'], config: ServiceNowConfig): AssetFacts {
  const facts: AssetFacts = {
    found: true,
    ciId: rawValue(row.sys_id),
    name: text(row.name),
    environment: text(own[config.environmentField])?.toLowerCase(),
    criticality: level,
    internetFacing: internetFacing(own, tags, config),
    owner: text(row.owned_by) ?? text(row.assigned_to) ?? text(row.managed_by),
    tags: tags.length ? tags : undefined,
  };
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as AssetFacts;
}

/** busines_criticality choices are "1 - most critical" .. "4 - not critical"; a bare number or word also works. */
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

/** firewall_status answers Internet or Intranet; a custom flag true/false. */
function internetFacing(own: Row, tags: string[], config: ServiceNowConfig): boolean | undefined {
  let answer: boolean | undefined;
  const v = text(own[config.internetFacingField])?.trim().toLowerCase();
  if (v && ['true', 'yes', '1', 'y', 'internet'].includes(v)) answer = true;
  else if (v && ['false', 'no', '0', 'n', 'intranet'].includes(v)) answer = false;
  if (config.internetFacingTag) {
    const tagged = tags.some((t) => t.toLowerCase() === config.internetFacingTag!.toLowerCase());
    answer = tagged || (answer ?? false);
  }
  return answer;
}

function isIp(value: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(value) || (/^[0-9a-f:]+$/i.test(value) && value.includes(':'));
}

import type { Severity } from '../../domain/detection';
import { Collector, arr, assetHints, first, isObj, obj, pairsToMap, slug, str, strings, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * Microsoft Graph security alerts v2 (`GET /security/alerts_v2/{id}`, Defender XDR), a single alert
 * or a `{"value": [...]}` list page.
 */
export const FORMAT = 'msgraph';

const isAlert = (v: unknown): v is Obj =>
  isObj(v) &&
  typeof v.id === 'string' &&
  (String(v['@odata.type'] ?? '').endsWith('security.alert') || (v.severity !== undefined && (v.serviceSource !== undefined || v.detectionSource !== undefined)));

export const detect: Detector = (p) => isAlert(p) || (isObj(p) && Array.isArray(p.value) && p.value.length > 0 && p.value.every(isAlert));

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload)) throw notFormat(FORMAT, '$', 'must be a Graph security alert or a {"value": [...]} list');
  if (!Array.isArray(payload.value)) {
    if (!str(payload.id)) throw notFormat(FORMAT, '$.id', 'is missing (expected a security alert or a $.value list of them)');
    if (!isAlert(payload)) throw notFormat(FORMAT, '$.severity', 'or $.serviceSource is missing (expected a microsoft.graph.security.alert)');
  }
  const alerts: unknown[] = Array.isArray(payload.value) ? payload.value : [payload];
  const out = new Collector(ctx);
  alerts.forEach((a, i) => {
    const ref = Array.isArray(payload.value) ? `value[${i}]` : undefined;
    // Change notifications also arrive as {"value": [...]} but carry only a resource path.
    if (!isAlert(a)) return out.skip('not a security alert (change notification or other resource)', ref);
    out.add(() => toDraft(a), ref ?? str(a.id));
  });
  return out.result();
};

const SEVERITY: Record<string, Severity> = { high: 'high', medium: 'medium', low: 'low', informational: 'info' };

/** Products whose alerts are about accounts: Defender for Identity, Entra ID Protection. */
const IDENTITY_SOURCES = new Set(['microsoftdefenderforidentity', 'azureadidentityprotection', 'entraidprotection']);
/** Alert categories that say an account's credentials are at stake. */
const IDENTITY_CATEGORIES = new Set(['credential-access', 'initial-access']);

function toDraft(a: Obj): Draft {
  const evidence = arr(a.evidence).map(obj);
  const device = evidence.find((e) => odataType(e) === 'deviceEvidence');
  const machineId = str(device?.mdeDeviceId) ?? evidence.map((e) => str(e.mdeDeviceId)).find(Boolean);
  const resolved = str(a.status) === 'resolved';
  const id = str(a.id) as string;
  const user = evidence.map((e) => (odataType(e) === 'userEvidence' ? evidenceAsset(e) : undefined)).find((u) => u?.id);
  const category = str(a.category) ? slug(str(a.category) as string, true) : undefined;
  const identityProduct = [str(a.serviceSource), str(a.detectionSource)].some((s) => IDENTITY_SOURCES.has((s ?? '').toLowerCase()));
  // An identity product's alert is about the account even when a device is in the evidence; the account is what gets contained.
  const asset = identityProduct && user ? user : assetOf(a, evidence, device, machineId);
  const identity = identityProduct || (asset.type === 'user' && IDENTITY_CATEGORIES.has(category ?? ''));
  return {
    source: 'defender',
    // detectorId names the detection logic, stable across alerts; the title is for people.
    rule: str(a.detectorId) ?? str(a.title),
    title: str(a.title),
    severity: SEVERITY[str(a.severity) ?? ''] ?? 'info',
    category: identity ? 'identity' : category,
    asset,
    status: resolved ? 'resolved' : 'open',
    observedAt: resolved
      ? first(toIso(a.resolvedDateTime), toIso(a.lastUpdateDateTime))
      : first(toIso(a.lastUpdateDateTime), toIso(a.createdDateTime)),
    dedupeKey: `defender|${id}`,
    details: {
      alertId: id,
      providerAlertId: str(a.providerAlertId),
      incidentId: str(a.incidentId),
      alertStatus: str(a.status),
      classification: str(a.classification),
      determination: str(a.determination),
      serviceSource: str(a.serviceSource),
      detectionSource: str(a.detectionSource),
      detectorId: str(a.detectorId),
      alertCategory: str(a.category),
      mitreTechniques: strings(a.mitreTechniques),
      threatFamilyName: str(a.threatFamilyName),
      account: user?.id,
      defenderMachineId: machineId,
      deviceDnsName: str(device?.deviceDnsName),
      azureAdDeviceId: str(device?.azureAdDeviceId),
      tenantId: str(a.tenantId),
      incidentWebUrl: str(a.incidentWebUrl),
      systemTags: strings(a.systemTags),
      description: str(a.description)?.slice(0, 512),
    },
    raw: { format: FORMAT, element: a, sourceId: id, url: str(a.alertWebUrl) },
  };
}

function odataType(e: Obj): string {
  return String(e['@odata.type'] ?? '').split('.').pop() ?? '';
}

/** The device if there is one; else the user, mailbox or cloud resource; else the tenant. */
function assetOf(a: Obj, evidence: Obj[], device: Obj | undefined, machineId: string | undefined): Draft['asset'] {
  if (device) {
    const tags = strings(device.tags);
    return { id: str(device.deviceDnsName) ?? machineId ?? str(device.azureAdDeviceId), type: 'host', tags, ...assetHints(pairsToMap(tags)) };
  }
  if (machineId) return { id: machineId, type: 'host' };
  for (const e of evidence) {
    const candidate = evidenceAsset(e);
    if (candidate?.id) return candidate;
  }
  return { id: str(a.tenantId), type: 'tenant' };
}

function evidenceAsset(e: Obj): { id: string | undefined; type: string } | undefined {
  const account = obj(e.userAccount);
  switch (odataType(e)) {
    case 'userEvidence':
      return { id: str(account.userPrincipalName) ?? str(account.accountName), type: 'user' };
    case 'mailboxEvidence':
      return { id: str(e.primaryAddress), type: 'mailbox' };
    case 'azureResourceEvidence':
      return { id: str(e.resourceId), type: 'cloud-resource' };
    case 'cloudApplicationEvidence':
      return { id: str(e.displayName) ?? str(e.appId), type: 'cloud-application' };
    default:
      return undefined;
  }
}

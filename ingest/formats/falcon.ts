import type { Severity } from '../../domain/detection';
import { Collector, arr, first, isObj, num, obj, severityWord, str, toIso, type Draft, type Obj } from '../common';
import { notFormat } from '../errors';
import type { Detector, Normalizer } from '../types';

/**
 * CrowdStrike Falcon streaming API events (`{metadata, event}`), one or an array:
 * DetectionSummaryEvent (legacy), EppDetectionSummaryEvent, Falcon Identity Protection's
 * IdpDetectionSummaryEvent and IdentityProtectionEvent (category `identity`, the account as the
 * asset), and UserActivityAuditEvent `detection_update` that closes a detection. Other event types are skipped, not rejected,
 * because a stream consumer forwards everything it reads.
 */
export const FORMAT = 'falcon';

const isStreamEvent = (v: unknown): v is Obj => isObj(v) && isObj(v.metadata) && typeof v.metadata.eventType === 'string' && isObj(v.event);

export const detect: Detector = (p) => isStreamEvent(p) || (Array.isArray(p) && p.length > 0 && p.every(isStreamEvent));

export const normalize: Normalizer = (payload, ctx) => {
  if (!isObj(payload) && !Array.isArray(payload)) throw notFormat(FORMAT, '$', 'must be a Falcon stream event object or an array of them');
  if (!Array.isArray(payload)) {
    if (!isObj(payload.metadata) || !str(payload.metadata.eventType)) throw notFormat(FORMAT, '$.metadata.eventType', 'is missing (expected a Falcon streaming API event)');
    if (!isObj(payload.event)) throw notFormat(FORMAT, '$.event', 'is missing');
  } else if (!payload.some(isStreamEvent)) {
    throw notFormat(FORMAT, '$[*].metadata.eventType', 'is missing (expected Falcon streaming API events)');
  }
  const events = Array.isArray(payload) ? payload : [payload];
  const out = new Collector(ctx);
  events.forEach((e, i) => {
    const ref = Array.isArray(payload) ? `[${i}]` : undefined;
    if (!isStreamEvent(e)) return out.skip('not a Falcon stream event', ref);
    const type = str(obj(e.metadata).eventType) as string;
    if (type === 'DetectionSummaryEvent' || type === 'EppDetectionSummaryEvent') return out.add(() => detection(e, type), ref);
    if (type === 'IdpDetectionSummaryEvent' || type === 'IdentityProtectionEvent') return out.add(() => identityDetection(e, type), ref);
    if (type === 'UserActivityAuditEvent') {
      const d = detectionUpdate(e);
      return typeof d === 'string' ? out.skip(d, ref) : out.add(() => d, ref);
    }
    out.skip(`Falcon event type ${type} is not a detection`, ref);
  });
  return out.result();
};

const SEVERITY_1_TO_5: Record<number, Severity> = { 1: 'info', 2: 'low', 3: 'medium', 4: 'high', 5: 'critical' };

/** SeverityName when present; else Severity, 1-5 in legacy events and 0-100 in Epp events. */
function severityOf(ev: Obj, epp: boolean): Severity {
  const named = severityWord(ev.SeverityName);
  if (named) return named;
  const n = num(ev.Severity);
  if (n === undefined) return 'medium';
  if (!epp) return SEVERITY_1_TO_5[n] ?? 'medium';
  return n >= 90 ? 'critical' : n >= 70 ? 'high' : n >= 50 ? 'medium' : n >= 30 ? 'low' : 'info';
}

/** `ldt:<aid>:<n>` / `<cid>:ind:<aid>:<n>` → aid, the Falcon device id. */
function agentIdFromDetectionId(id: string | undefined): string | undefined {
  const parts = id?.split(':') ?? [];
  if (parts[0] === 'ldt') return parts[1];
  if (parts[1] === 'ind') return parts[2];
  return undefined;
}

/** The same id in a detection and in its later detection_update, so the update closes it. */
function detectionKey(id: string): string {
  return `crowdstrike|detection:${id}`;
}

function detection(e: Obj, type: string): Draft {
  const ev = obj(e.event);
  const meta = obj(e.metadata);
  const epp = type === 'EppDetectionSummaryEvent';
  const detectionId = str(ev.CompositeId) ?? str(ev.DetectId);
  const deviceId = str(ev.AgentId) ?? str(ev.SensorId) ?? agentIdFromDetectionId(detectionId);
  const host = str(ev.Hostname) ?? str(ev.ComputerName);
  const rule = str(ev.DetectName) ?? str(ev.Name) ?? str(ev.Technique);
  const assetId = host ?? deviceId;
  const description = str(ev.DetectDescription) ?? str(ev.Description);
  return {
    source: 'crowdstrike',
    rule,
    title: description ? `${rule}: ${description}` : `${rule} on ${assetId}`,
    severity: severityOf(ev, epp),
    category: 'malware',
    // Only Epp severities are on a 0-100 scale; legacy 1-5 would be invented precision.
    riskScore: epp ? num(ev.Severity) : undefined,
    asset: { id: assetId, type: 'host' },
    status: 'open',
    observedAt: first(toIso(meta.eventCreationTime), toIso(ev.ProcessStartTime)),
    dedupeKey: detectionId ? detectionKey(detectionId) : undefined,
    details: {
      eventType: type,
      crowdstrikeDeviceId: deviceId,
      detectionId,
      aggregateId: str(ev.AggregateId),
      hostname: host,
      machineDomain: str(ev.MachineDomain) ?? str(ev.LogonDomain),
      localIp: str(ev.LocalIP),
      userName: str(ev.UserName),
      fileName: str(ev.FileName),
      filePath: str(ev.FilePath),
      sha256: str(ev.SHA256String),
      iocType: str(ev.IOCType),
      iocValue: str(ev.IOCValue),
      tactic: str(ev.Tactic),
      technique: str(ev.Technique),
      objective: str(ev.Objective),
      patternId: num(ev.PatternId),
      patternDisposition: str(ev.PatternDispositionDescription),
      severityName: str(ev.SeverityName),
    },
    raw: { format: FORMAT, element: e, sourceId: detectionId ?? `${str(meta.customerIDString)}:${str(meta.offset)}`, url: str(ev.FalconHostLink) },
  };
}

/**
 * Falcon Identity Protection: a detection about an account (IdpDetectionSummaryEvent) or an
 * identity incident (IdentityProtectionEvent). The asset is the account, by UPN when Falcon
 * knows it (what Okta and Entra ID are asked with), else DOMAIN\\name.
 */
function identityDetection(e: Obj, type: string): Draft {
  const ev = obj(e.event);
  const meta = obj(e.metadata);
  const incident = type === 'IdentityProtectionEvent';
  const id = incident ? str(ev.IdentityProtectionIncidentId) ?? str(ev.IncidentId) : str(ev.CompositeId) ?? str(ev.DetectId);
  const userName = str(ev.SourceAccountName) ?? str(ev.UserName);
  const domain = str(ev.SourceAccountDomain);
  const upn = str(ev.SourceAccountUpn) ?? (userName?.includes('@') ? userName : undefined);
  const account = upn ?? (domain && userName && !userName.includes('\\') ? `${domain}\\${userName}` : userName);
  const rule = (incident ? str(ev.IncidentType) : str(ev.DetectName) ?? str(ev.Name)) ?? str(ev.Category);
  const description = incident ? str(ev.IncidentDescription) : str(ev.DetectDescription) ?? str(ev.Description);
  const severity = num(ev.Severity);
  return {
    source: 'crowdstrike',
    rule,
    title: description ? `${rule}: ${description}` : `${rule} for ${account}`,
    // Identity events give 0-100 severities; a small number is the 1-5 scale of other events.
    severity: severityOf(ev, severity === undefined || severity > 5),
    category: 'identity',
    riskScore: severity !== undefined && severity > 5 ? severity : undefined,
    asset: { id: account, type: 'user' },
    status: 'open',
    observedAt: first(toIso(meta.eventCreationTime), toIso(ev.StartTime), toIso(ev.ContextTimeStamp)),
    dedupeKey: id ? `crowdstrike|identity:${id}` : undefined,
    details: {
      eventType: type,
      detectionId: id,
      account,
      userPrincipalName: upn,
      samAccountName: userName,
      accountDomain: domain,
      accountSid: str(ev.SourceAccountObjectSid),
      endpointName: str(ev.SourceEndpointHostName) ?? str(ev.EndpointName),
      endpointIp: str(ev.SourceEndpointIpAddress) ?? str(ev.EndpointIp),
      tactic: str(ev.Tactic),
      technique: str(ev.Technique),
      objective: str(ev.Objective),
      incidentState: str(ev.State),
      severityName: str(ev.SeverityName),
    },
    raw: { format: FORMAT, element: e, sourceId: id ?? `${str(meta.customerIDString)}:${str(meta.offset)}`, url: str(ev.FalconHostLink) },
  };
}

// Legacy detection states: new, in_progress, true_positive, false_positive, ignored, closed, reopened.
// A true positive is confirmed, not finished, so it stays open.
const CLOSING_STATES = new Set(['closed', 'false_positive', 'ignored', 'resolved']);

/** A UserActivityAuditEvent that closes a detection → resolved finding; anything else → skip reason. */
function detectionUpdate(e: Obj): Draft | string {
  const ev = obj(e.event);
  const op = str(ev.OperationName);
  if (op !== 'detection_update') return `audit operation ${op ?? 'unknown'} is not a detection update`;
  const kv: Record<string, string> = {};
  for (const item of arr(ev.AuditKeyValues)) {
    const k = str(obj(item).Key);
    const v = str(obj(item).ValueString);
    if (k && v) kv[k] = v;
  }
  const detectionId = kv.detection_id ?? kv.composite_id;
  const state = kv.new_state ?? kv.status;
  if (!detectionId) return 'detection_update without detection_id';
  if (!state || !CLOSING_STATES.has(state)) return `detection_update to state ${state ?? 'unchanged'} does not close the detection`;
  const deviceId = agentIdFromDetectionId(detectionId);
  return {
    source: 'crowdstrike',
    rule: 'detection_update',
    title: `Detection ${detectionId} set to ${state}`,
    // The update carries no severity; the open detection it closes has one.
    severity: 'info',
    category: 'malware',
    // The audit event names no hostname, only the device id inside the detection id.
    asset: { id: deviceId ?? detectionId, type: 'host' },
    status: 'resolved',
    observedAt: first(toIso(ev.UTCTimestamp), toIso(obj(e.metadata).eventCreationTime)),
    dedupeKey: detectionKey(detectionId),
    details: {
      eventType: 'UserActivityAuditEvent',
      crowdstrikeDeviceId: deviceId,
      detectionId,
      newState: state,
      updatedBy: str(ev.UserId),
      serviceName: str(ev.ServiceName),
    },
    raw: { format: FORMAT, element: e, sourceId: detectionId },
  };
}

import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { EndpointHint, EndpointTarget, ResolvedDevice, ResolveDeviceInput } from '../interfaces';

/**
 * Which EDR device a step may act on. A device id can come from a detection, which anyone who
 * can submit one controls, so no id is used before the EDR itself says the device carries the
 * asset's hostname. Shared by every endpoint adapter and the in-process fake, so that the rule
 * is the same whichever EDR answers.
 *
 * The match rule (`sameHost`): names compare without ASCII case and without a trailing dot;
 * equal names match, and a short name (no dot) matches a full name whose first label it is
 * ("web-1" ~ "WEB-1.corp.example.com"). Two different full names never match
 * ("web-1.corp.example.com" ≁ "web-1.dmz.example.com"), nor do IP addresses by their first
 * octet. Anything else, look-alike letters included, is another host.
 */

/** A device as an EDR reports it, with the vendor's own record for the adapter's later use. */
export interface EdrDevice<T = unknown> {
  deviceId: string;
  hostname: string;
  lastSeen?: string;
  record: T;
}

/** The two questions the resolution asks an EDR. */
export interface DeviceDirectory<T> {
  vendor: string;
  /** A device id is well-formed for this EDR (checked before it goes into a request). */
  validId(id: string): boolean;
  /** A hostname is safe to put into this EDR's query language. */
  validHostname(name: string): boolean;
  /** The device with this id, or undefined when the EDR has none. */
  byId(id: string): Promise<EdrDevice<T> | undefined>;
  /** Devices the EDR lists for this hostname (the rule above is applied to them again here). */
  byHostname(name: string): Promise<EdrDevice<T>[]>;
}

const id = z.string().max(255, 'is longer than 255 characters');
const targetSchema = z.object({
  assetId: z.string({ error: 'is required' }).trim().min(1, 'is required').max(255, 'is longer than 255 characters'),
  // null arrives where a workflow wrote "none"; it means the same as absent.
  hostname: id.nullish(),
  deviceId: id.nullish(),
  hint: z.union([id, z.object({ crowdstrike: id.nullish(), defender: id.nullish() })], { error: 'must be a device id or endpointIds' }).nullish(),
});

export const TARGET_MISMATCH = 'TargetMismatch';
export const TARGET_AMBIGUOUS = 'TargetAmbiguous';
export const TARGET_NOT_FOUND = 'TargetNotFound';

/** The name a device must carry: the CMDB's hostname when the caller has one, else the asset id. */
export function expectedHostname(input: { assetId: string; hostname?: string }): string {
  return input.hostname?.trim() || input.assetId;
}

export function sameHost(asset: string, device: string): boolean {
  const a = normalize(asset);
  const d = normalize(device);
  if (!a || !d) return false;
  if (a === d) return true;
  if (!a.includes('.')) return a === firstLabel(d);
  if (!d.includes('.')) return d === firstLabel(a);
  return false;
}

/** The device id from a hint: a plain id, or this vendor's entry of the CMDB's endpointIds. */
export function hintFor(vendor: string, hint: EndpointHint | undefined): string | undefined {
  if (typeof hint === 'string') return hint.trim() || undefined;
  return hint?.[vendor as keyof typeof hint] || undefined;
}

/**
 * resolveDevice for one EDR: the hinted device when the EDR confirms its hostname (TargetMismatch
 * otherwise: a hint naming another host is an error, not something to route around), else the
 * one device the EDR lists under the asset's hostname. A hint the EDR does not know (a stale
 * CMDB record) falls back to the hostname search, which only ever finds the asset's own name.
 */
export async function resolveTarget<T>(dir: DeviceDirectory<T>, input: ResolveDeviceInput): Promise<{ device: EdrDevice<T>; resolved: ResolvedDevice }> {
  checkInput(dir.vendor, input);
  const wanted = expectedHostname(input);
  const hint = hintFor(dir.vendor, input.hint);
  if (hint) {
    if (!dir.validId(hint)) throw badInput(dir.vendor, `device id given for asset ${quote(input.assetId)} is malformed`);
    const device = await dir.byId(hint);
    if (device) {
      requireSameHost(dir.vendor, input, device);
      return { device, resolved: { deviceId: device.deviceId, hostname: device.hostname, via: 'cmdb', vendor: dir.vendor } };
    }
  }
  if (!dir.validHostname(wanted)) throw badInput(dir.vendor, `asset ${quote(wanted)} is not a hostname ${dir.vendor} can search; give its device id`);
  const devices = (await dir.byHostname(wanted)).filter((d) => sameHost(wanted, d.hostname));
  if (devices.length === 0) {
    throw failure(dir.vendor, TARGET_NOT_FOUND, `no device named ${quote(wanted)}${hint ? ` (nor the given id ${hint})` : ''}`, { assetId: input.assetId, hostname: wanted });
  }
  if (devices.length > 1) {
    const listed = devices.map((d) => ({ deviceId: d.deviceId, hostname: d.hostname, ...(d.lastSeen ? { lastSeen: d.lastSeen } : {}) }));
    const names = listed.slice(0, 10).map((d) => `${d.deviceId} ${quote(d.hostname)}${d.lastSeen ? ` last seen ${d.lastSeen}` : ''}`);
    const more = listed.length > 10 ? ` and ${listed.length - 10} more` : '';
    throw failure(
      dir.vendor,
      TARGET_AMBIGUOUS,
      `${listed.length} devices are named ${quote(wanted)}: ${names.join('; ')}${more}; record the right one in the CMDB (endpointIds.${dir.vendor})`,
      { assetId: input.assetId, hostname: wanted, devices: listed.slice(0, 100) },
    );
  }
  const device = devices[0];
  return { device, resolved: { deviceId: device.deviceId, hostname: device.hostname, via: 'edr', vendor: dir.vendor } };
}

/**
 * The device an action or a containment read goes to: the given id once the EDR confirmed its
 * hostname, else the asset's one device (resolveTarget). Called before anything is changed.
 */
export async function confirmTarget<T>(dir: DeviceDirectory<T>, input: EndpointTarget): Promise<EdrDevice<T>> {
  checkInput(dir.vendor, input);
  if (!input.deviceId) return (await resolveTarget(dir, input)).device;
  if (!dir.validId(input.deviceId)) throw badInput(dir.vendor, `device id for asset ${quote(input.assetId)} is malformed`);
  const device = await dir.byId(input.deviceId);
  if (!device) throw failure(dir.vendor, TARGET_NOT_FOUND, `no device ${input.deviceId}`, { assetId: input.assetId, deviceId: input.deviceId });
  requireSameHost(dir.vendor, input, device);
  return device;
}

/** Refuses, before anything is changed, a device that is not the asset the step names. */
export function requireSameHost(vendor: string, input: { assetId: string; hostname?: string }, device: { deviceId: string; hostname?: string }): void {
  const wanted = expectedHostname(input);
  if (device.hostname && sameHost(wanted, device.hostname)) return;
  throw failure(
    vendor,
    TARGET_MISMATCH,
    `device ${device.deviceId} is host ${quote(device.hostname ?? '(no hostname)')}, not asset ${quote(wanted)}; nothing was done`,
    { assetId: input.assetId, hostname: wanted, deviceId: device.deviceId, deviceHostname: device.hostname ?? null },
  );
}

/** Activity input comes from workflow history: its shape is checked like any other boundary. */
function checkInput(vendor: string, input: unknown): void {
  const r = targetSchema.safeParse(input);
  if (r.success) return;
  const i = r.error.issues[0];
  throw badInput(vendor, `${i.path.join('.') || 'input'} ${i.message}`);
}

function failure(vendor: string, type: string, message: string, details: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({ message: `${vendor}: ${message}`, type, nonRetryable: true, details: [{ vendor, ...details }] });
}

function badInput(vendor: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `${vendor}: ${message}`, type: `${vendor}.BadInput`, nonRetryable: true });
}

/** Hostnames come from outside (detections, EDR records): bounded and quoted in messages. */
function quote(s: string): string {
  return JSON.stringify(s.length > 255 ? `${s.slice(0, 255)}…` : s);
}

/** ASCII case only: folding other scripts would let look-alike letters (the Kelvin sign) match. */
function normalize(name: string): string {
  return name.trim().replace(/\.$/, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function firstLabel(name: string): string | undefined {
  return /^[\d.]+$/.test(name) ? undefined : name.split('.')[0];
}

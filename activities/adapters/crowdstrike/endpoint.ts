import { ApplicationFailure } from '@temporalio/common';
import type { ContainmentState, Endpoint, EndpointActionInput, EndpointActionResult } from '../../interfaces';
import { heartbeatIfActivity, sleepCancellable } from '../activity-context';
import { confirmTarget, type DeviceDirectory, type EdrDevice, resolveTarget } from '../edr-target';
import type { CrowdStrikeConfig } from './config';
import { envelopeErrors, FalconApi, statusOf, VENDOR } from './falcon-api';

const FALCON_STATES: ReadonlySet<string> = new Set(['normal', 'containment_pending', 'contained', 'lift_containment_pending']);
// FQL has quoting rules of its own; refusing anything beyond hostname characters keeps an
// asset id from widening the device query.
const HOSTNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const DEVICE_ID = /^[A-Za-z0-9-]{1,64}$/;

interface FalconDevice {
  device_id: string;
  hostname?: string;
  status?: string;
  last_seen?: string;
}

// A hostname search lists every record with that name (stale ones of re-imaged hosts included);
// more than a page of them is ambiguous anyway.
const SEARCH_LIMIT = 100;

type Target = { action: 'contain' | 'lift_containment'; done: ContainmentState; pending: ContainmentState };
const CONTAIN: Target = { action: 'contain', done: 'contained', pending: 'containment_pending' };
const LIFT: Target = { action: 'lift_containment', done: 'normal', pending: 'lift_containment_pending' };
const OPPOSITE_PENDING: Record<Target['action'], ContainmentState> = { contain: LIFT.pending, lift_containment: CONTAIN.pending };

/**
 * CrowdStrike Falcon host containment. Falcon has no idempotency key, so every action reads
 * the device's containment status first and only asks for a change the device is not
 * already in (or on its way to): a Temporal retry after a lost answer sends nothing new.
 */
export function createCrowdStrikeEndpoint(config: CrowdStrikeConfig, api = new FalconApi(config)): Endpoint {
  const pollIntervalMs = config.pollIntervalMs ?? 5_000;
  const settleWaitMs = config.settleWaitMs ?? 60_000;

  const directory: DeviceDirectory<FalconDevice> = {
    vendor: VENDOR,
    validId: (id) => DEVICE_ID.test(id),
    validHostname: (name) => HOSTNAME.test(name),
    async byId(id) {
      try {
        const env = await api.request<FalconDevice>({ method: 'GET', url: '/devices/entities/devices/v2', params: { ids: id } });
        return asDevices(env.resources).find((d) => d.deviceId === id);
      } catch (err) {
        // Falcon answers 404 when none of the ids exists.
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async byHostname(name) {
      let ids = await queryHostname(name);
      // Windows hosts report their short name to Falcon; an inventory often knows the FQDN.
      if (!ids.length && name.includes('.')) ids = await queryHostname(name.split('.')[0]);
      if (!ids.length) return [];
      const env = await api.request<FalconDevice>({
        method: 'POST',
        url: '/devices/entities/devices/v2',
        data: { ids },
        headers: { 'Content-Type': 'application/json' },
      });
      return asDevices(env.resources);
    },
  };

  async function queryHostname(name: string): Promise<string[]> {
    const env = await api.request<string>({
      method: 'GET',
      url: '/devices/queries/devices/v1',
      params: { filter: `hostname:'${name}'`, sort: 'last_seen.desc', limit: SEARCH_LIMIT },
    });
    return (env.resources ?? []).filter((id): id is string => typeof id === 'string');
  }

  async function readDevice(deviceId: string): Promise<FalconDevice> {
    const env = await api.request<FalconDevice>({ method: 'GET', url: '/devices/entities/devices/v2', params: { ids: deviceId } });
    const device = env.resources?.find((d) => d.device_id === deviceId) ?? env.resources?.[0];
    if (!device) throw nonRetryable(`Falcon device ${deviceId} not found${suffix(envelopeErrors(env))}`, 'DeviceNotFound');
    return device;
  }

  async function readState(deviceId: string): Promise<ContainmentState> {
    return stateOf(await readDevice(deviceId));
  }

  async function requestAction(deviceId: string, action: Target['action']): Promise<void> {
    const env = await api.request<{ id: string }>({
      method: 'POST',
      url: '/devices/entities/devices-actions/v2',
      params: { action_name: action },
      data: { ids: [deviceId] },
      headers: { 'Content-Type': 'application/json' },
    });
    const errors = envelopeErrors(env);
    if (errors && !(env.resources ?? []).length) throw nonRetryable(`${action} on ${deviceId} refused: ${errors}`, 'ActionRefused');
  }

  async function settle(deviceId: string, target: Target, state: ContainmentState): Promise<ContainmentState> {
    const deadline = Date.now() + settleWaitMs;
    while (state !== target.done && Date.now() < deadline) {
      heartbeatIfActivity({ deviceId, state });
      await sleepCancellable(Math.min(pollIntervalMs, Math.max(deadline - Date.now(), 0)));
      state = await readState(deviceId);
    }
    return state;
  }

  async function drive(input: EndpointActionInput, target: Target): Promise<EndpointActionResult> {
    const device = (await confirmTarget(directory, input)).record;
    const deviceId = device.device_id;
    let state = stateOf(device);
    if (state === OPPOSITE_PENDING[target.action]) {
      // Falcon refuses a change while the opposite one is under way; it finishes on its own.
      throw ApplicationFailure.create({
        message: `${VENDOR}: device ${deviceId} is ${state}; ${target.action} must wait for it`,
        type: `${VENDOR}.ActionConflict`,
        nonRetryable: false,
      });
    }
    if (state !== target.done && state !== target.pending) {
      // Falcon's containment API takes no comment; the ticket and workflow history carry it.
      await requestAction(deviceId, target.action);
      state = target.pending;
    }
    state = await settle(deviceId, target, state);
    return { system: VENDOR, deviceId, state };
  }

  return {
    resolveDevice: async (input) => (await resolveTarget(directory, input)).resolved,
    isolateHost: (input) => drive(input, CONTAIN),
    releaseHost: (input) => drive(input, LIFT),
    async getContainment(input) {
      const device = (await confirmTarget(directory, input)).record;
      return { system: VENDOR, deviceId: device.device_id, state: stateOf(device) };
    },
  };
}

function stateOf(device: FalconDevice): ContainmentState {
  return device.status && FALCON_STATES.has(device.status) ? (device.status as ContainmentState) : 'unknown';
}

function asDevices(resources: FalconDevice[] | null | undefined): EdrDevice<FalconDevice>[] {
  return (resources ?? [])
    .filter((d) => typeof d?.device_id === 'string')
    .map((d) => ({ deviceId: d.device_id, hostname: d.hostname ?? '', lastSeen: d.last_seen, record: d }));
}

function nonRetryable(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.create({ message: `${VENDOR}: ${message}`, type: `${VENDOR}.${type}`, nonRetryable: true });
}

function suffix(s: string | undefined): string {
  return s ? `: ${s}` : '';
}

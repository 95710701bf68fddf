import { ApplicationFailure } from '@temporalio/common';
import type { ContainmentState, Endpoint, EndpointActionInput, EndpointActionResult } from '../../interfaces';
import { heartbeatIfActivity, sleepCancellable } from '../activity-context';
import { confirmTarget, type DeviceDirectory, type EdrDevice, resolveTarget } from '../edr-target';
import type { DefenderConfig } from './config';
import { DefenderApi, statusOf, VENDOR } from './defender-api';
import { containmentFrom, isActive, type IsolationActionType, type MachineAction, TERMINAL } from './machine-actions';

const MACHINE_ID = /^[A-Za-z0-9-]{1,64}$/;
const DNS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

interface Machine {
  id: string;
  computerDnsName?: string;
  lastSeen?: string;
}

interface Target {
  type: IsolationActionType;
  path: 'isolate' | 'unisolate';
  done: ContainmentState;
  pending: ContainmentState;
  body: (comment: string) => Record<string, string>;
}
const ISOLATE: Target = {
  type: 'Isolate',
  path: 'isolate',
  done: 'contained',
  pending: 'containment_pending',
  body: (Comment) => ({ Comment, IsolationType: 'Full' }),
};
const UNISOLATE: Target = {
  type: 'Unisolate',
  path: 'unisolate',
  done: 'normal',
  pending: 'lift_containment_pending',
  body: (Comment) => ({ Comment }),
};

/**
 * Microsoft Defender for Endpoint isolation. Defender has no idempotency key, so before asking
 * it reads the machine's isolation actions and reuses one that is running or already did the
 * job; Defender's refusal of a duplicate (400, `ActiveRequestAlreadyExists` or the documented
 * "Action is already in progress") is handled the same way.
 */
export function createDefenderEndpoint(config: DefenderConfig, api = new DefenderApi(config)): Endpoint {
  const pollIntervalMs = config.pollIntervalMs ?? 10_000;
  const actionWaitMs = config.actionWaitMs ?? 120_000;

  const directory: DeviceDirectory<Machine> = {
    vendor: VENDOR,
    validId: (id) => MACHINE_ID.test(id),
    validHostname: (name) => DNS_NAME.test(name),
    async byId(id) {
      try {
        return asDevices([await api.request<Machine>({ method: 'GET', url: `/api/machines/${encodeURIComponent(id)}` })])[0];
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async byHostname(dnsName) {
      // Defender stores names in lower case; its OData `eq` compares them as stored.
      const name = dnsName.toLowerCase();
      let machines = await findMachines(`computerDnsName eq '${name}'`);
      // Defender records the FQDN; an inventory often knows only the short name (and the reverse
      // for machines outside a domain).
      if (!machines.length && !name.includes('.')) machines = await findMachines(`startswith(computerDnsName,'${name}.')`);
      if (!machines.length && name.includes('.')) machines = await findMachines(`computerDnsName eq '${name.split('.')[0]}'`);
      return asDevices(machines);
    },
  };

  async function findMachines(filter: string): Promise<Machine[]> {
    try {
      const res = await api.request<{ value?: Machine[] }>({ method: 'GET', url: '/api/machines', params: { $filter: filter } });
      return [...(res.value ?? [])];
    } catch (err) {
      // List machines documents "no recent machines" as 404: not found by this name, not an error.
      if (statusOf(err) === 404) return [];
      throw err;
    }
  }

  async function isolationActions(machineId: string): Promise<MachineAction[]> {
    const lists = await Promise.all(
      (['Isolate', 'Unisolate'] as const).map((type) =>
        api.request<{ value?: MachineAction[] }>({
          method: 'GET',
          url: '/api/machineactions',
          params: { $filter: `machineId eq '${machineId}' and type eq '${type}'` },
        }),
      ),
    );
    return lists.flatMap((l) => l.value ?? []);
  }

  async function requestAction(machineId: string, target: Target, input: EndpointActionInput): Promise<MachineAction> {
    // The key in the comment lets an analyst tie the action in the Defender portal to its step.
    const comment = `${input.comment.slice(0, 900)} [drw ${input.idempotencyKey}]`;
    try {
      return await api.request<MachineAction>({
        method: 'POST',
        url: `/api/machines/${machineId}/${target.path}`,
        data: target.body(comment),
        headers: { 'Content-Type': 'application/json' },
      });
    } catch (err) {
      if (!isAlreadyInProgress(err)) throw err;
      // Something is running on the machine already; if it is our kind of action, it is ours to reuse.
      const current = containmentFrom(await isolationActions(machineId));
      if (current.action && current.action.type === target.type && isActive(current.action)) return current.action;
      throw ApplicationFailure.create({
        message: `${VENDOR}: machine ${machineId} has another action pending; ${target.type} must wait for it`,
        type: `${VENDOR}.ActionConflict`,
        nonRetryable: false,
      });
    }
  }

  async function awaitAction(action: MachineAction, target: Target): Promise<MachineAction> {
    const deadline = Date.now() + actionWaitMs;
    while (!TERMINAL.has(action.status) && Date.now() < deadline) {
      heartbeatIfActivity({ actionId: action.id, status: action.status });
      await sleepCancellable(Math.min(pollIntervalMs, Math.max(deadline - Date.now(), 0)));
      action = await api.request<MachineAction>({ method: 'GET', url: `/api/machineactions/${encodeURIComponent(action.id)}` });
    }
    if (TERMINAL.has(action.status) && action.status !== 'Succeeded') {
      // Re-running the same step would only repeat a refused action; the workflow decides what next.
      throw ApplicationFailure.create({
        message: `${VENDOR}: ${target.type} action ${action.id} ended ${action.status}`,
        type: `${VENDOR}.ActionFailed`,
        nonRetryable: true,
        details: [{ actionId: action.id, status: action.status }],
      });
    }
    return action;
  }

  async function drive(input: EndpointActionInput, target: Target): Promise<EndpointActionResult> {
    const machineId = (await confirmTarget(directory, input)).deviceId;
    const current = containmentFrom(await isolationActions(machineId));
    if (current.state === target.done) return { system: VENDOR, deviceId: machineId, actionId: current.action?.id, state: target.done };
    const reusable = current.action && current.action.type === target.type && isActive(current.action);
    const action = reusable ? current.action! : await requestAction(machineId, target, input);
    const final = await awaitAction(action, target);
    return { system: VENDOR, deviceId: machineId, actionId: final.id, state: final.status === 'Succeeded' ? target.done : target.pending };
  }

  return {
    resolveDevice: async (input) => (await resolveTarget(directory, input)).resolved,
    isolateHost: (input) => drive(input, ISOLATE),
    releaseHost: (input) => drive(input, UNISOLATE),
    async getContainment(input) {
      const machineId = (await confirmTarget(directory, input)).deviceId;
      const current = containmentFrom(await isolationActions(machineId));
      return { system: VENDOR, deviceId: machineId, actionId: current.action?.id, state: current.state };
    },
  };
}

function asDevices(machines: Machine[]): EdrDevice<Machine>[] {
  return machines
    .filter((m) => typeof m?.id === 'string')
    .map((m) => ({ deviceId: m.id, hostname: m.computerDnsName ?? '', lastSeen: m.lastSeen, record: m }));
}

function isAlreadyInProgress(err: unknown): boolean {
  return err instanceof ApplicationFailure && statusOf(err) === 400 && /ActiveRequestAlreadyExists|action is already in progress/i.test(err.message);
}

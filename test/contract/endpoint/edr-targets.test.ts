/**
 * The attack of issue 11: a detection names another machine's EDR device (a domain controller's)
 * for the asset it is about, so that containment hits that machine. Every EDR drw drives (Falcon
 * and Defender through their simulators, and the in-process fake) must refuse it, change nothing,
 * and say which two hosts differ.
 */
import { createCrowdStrikeEndpoint } from '../../../activities/adapters/crowdstrike';
import { createDefenderEndpoint } from '../../../activities/adapters/defender';
import { createInProcessSystems } from '../../../activities/inprocess';
import type { Endpoint, EndpointActionInput } from '../../../activities/interfaces';
import { startCrowdStrikeSimulator } from '../../../simulators/crowdstrike';
import { startDefenderSimulator } from '../../../simulators/defender';
import { defenderConfigFor } from './defender-config';
import { failureOf } from './temporal-like';

interface Devices {
  web: string;
  dc: string;
  /** Named like web-1, with a Cyrillic "е". */
  lookalike: string;
  app: [string, string];
}

interface World {
  endpoint: Endpoint;
  /** Containment changes (contain, lift, isolate, unisolate) that reached the EDR. */
  actionRequests(): number;
  close(): Promise<void>;
}

const falconIds: Devices = {
  web: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  dc: 'dc00c3d4e5f60718293a4b5c6d7e8f90',
  lookalike: 'e0e0c3d4e5f60718293a4b5c6d7e8f90',
  app: ['a3a3c3d4e5f60718293a4b5c6d7e8f01', 'a3a3c3d4e5f60718293a4b5c6d7e8f02'],
};
const defenderIds: Devices = {
  web: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
  dc: 'dc0bc9d7e413ddd7902c2932e418702b84d0cc07',
  lookalike: 'e0ebc9d7e413ddd7902c2932e418702b84d0cc07',
  app: ['a3abc9d7e413ddd7902c2932e418702b84d0cc01', 'a3abc9d7e413ddd7902c2932e418702b84d0cc02'],
};
const fakeIds: Devices = { web: 'fake-web-1', dc: 'fake-dc-01', lookalike: 'fake-lookalike', app: ['fake-app-3a', 'fake-app-3b'] };

const EDRS: Array<{ name: string; vendor: string; ids: Devices; start: () => Promise<World> }> = [
  {
    name: 'CrowdStrike Falcon',
    vendor: 'crowdstrike',
    ids: falconIds,
    async start() {
      const i = falconIds;
      const sim = await startCrowdStrikeSimulator({
        readsUntilEffective: 0,
        devices: [
          { deviceId: i.web, hostname: 'web-1' },
          { deviceId: i.dc, hostname: 'DC-01' },
          { deviceId: i.lookalike, hostname: 'w\u0435b-1' },
          { deviceId: i.app[0], hostname: 'app-3' },
          { deviceId: i.app[1], hostname: 'app-3' },
        ],
      });
      const endpoint = createCrowdStrikeEndpoint({ baseUrl: sim.baseUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, timeoutMs: 750, pollIntervalMs: 5, settleWaitMs: 200 });
      return { endpoint, actionRequests: () => sim.actionRequests().length, close: () => sim.close() };
    },
  },
  {
    name: 'Defender for Endpoint',
    vendor: 'defender',
    ids: defenderIds,
    async start() {
      const i = defenderIds;
      const sim = await startDefenderSimulator({
        readsPerStep: 0,
        machines: [
          { id: i.web, computerDnsName: 'web-1.corp.example.com' },
          { id: i.dc, computerDnsName: 'dc-01.corp.example.com' },
          { id: i.lookalike, computerDnsName: 'w\u0435b-1.corp.example.com' },
          { id: i.app[0], computerDnsName: 'app-3.corp.example.com' },
          { id: i.app[1], computerDnsName: 'app-3.lab.example.com' },
        ],
      });
      const endpoint = createDefenderEndpoint(defenderConfigFor(sim, { actionWaitMs: 200 }));
      return { endpoint, actionRequests: () => sim.actionRequests().length, close: () => sim.close() };
    },
  },
  {
    name: 'in-process fake EDR',
    vendor: 'inprocess',
    ids: fakeIds,
    async start() {
      const i = fakeIds;
      const systems = createInProcessSystems({
        devices: [
          { deviceId: i.web, hostname: 'web-1' },
          { deviceId: i.dc, hostname: 'dc-01.corp.example.com' },
          { deviceId: i.lookalike, hostname: 'w\u0435b-1' },
          { deviceId: i.app[0], hostname: 'app-3' },
          { deviceId: i.app[1], hostname: 'APP-3.corp.example.com' },
        ],
      });
      return { endpoint: systems.endpoint, actionRequests: () => systems.record.isolateCalls.length, close: async () => undefined };
    },
  },
];

describe.each(EDRS)('$name refuses a device that is not the asset', ({ vendor, ids, start }) => {
  let world: World;
  const step = (over: Partial<EndpointActionInput>): EndpointActionInput => ({
    idempotencyKey: 'rem-web-1:contain',
    remediationId: 'rem-web-1',
    assetId: 'web-1',
    comment: 'contain: malware on web-1',
    ...over,
  });

  beforeEach(async () => {
    world = await start();
  });
  afterEach(() => world.close());

  it("a detection names the domain controller's device for web-1: resolveDevice refuses with TargetMismatch naming both hosts", async () => {
    const f = await failureOf(world.endpoint.resolveDevice({ assetId: 'web-1', hint: ids.dc }));
    expect(f).toMatchObject({ type: 'TargetMismatch', nonRetryable: true });
    expect(f.message).toMatch(new RegExp(`^${vendor}: device ${ids.dc} is host "dc-01(\\.corp\\.example\\.com)?", not asset "web-1"`, 'i'));
    expect(f.details).toEqual([expect.objectContaining({ vendor, assetId: 'web-1', hostname: 'web-1', deviceId: ids.dc })]);
    expect(world.actionRequests()).toBe(0);
  });

  it("the domain controller's id put in the CMDB's endpointIds is refused as well", async () => {
    const f = await failureOf(world.endpoint.resolveDevice({ assetId: 'web-1', hint: { crowdstrike: ids.dc, defender: ids.dc } }));
    expect(f.type).toBe('TargetMismatch');
  });

  it("isolating web-1 with the domain controller's device is refused and nothing is contained", async () => {
    const f = await failureOf(world.endpoint.isolateHost(step({ deviceId: ids.dc })));
    expect(f).toMatchObject({ type: 'TargetMismatch', nonRetryable: true });
    expect(f.message).toContain('not asset "web-1"; nothing was done');
    expect(world.actionRequests()).toBe(0);
    expect((await world.endpoint.getContainment({ assetId: 'dc-01', deviceId: ids.dc })).state).toBe('normal');
  });

  it("releasing web-1 with the contained domain controller's device is refused and the controller stays contained", async () => {
    await world.endpoint.isolateHost(step({ assetId: 'dc-01', deviceId: ids.dc, idempotencyKey: 'rem-dc:contain' }));
    const before = world.actionRequests();
    const f = await failureOf(world.endpoint.releaseHost(step({ deviceId: ids.dc, idempotencyKey: 'rem-web-1:release' })));
    expect(f.type).toBe('TargetMismatch');
    expect(world.actionRequests()).toBe(before);
    expect((await world.endpoint.getContainment({ assetId: 'dc-01', deviceId: ids.dc })).state).toBe('contained');
  });

  it("verifying web-1 against the domain controller's device is refused, not answered with the controller's state", async () => {
    const f = await failureOf(world.endpoint.getContainment({ assetId: 'web-1', deviceId: ids.dc }));
    expect(f.type).toBe('TargetMismatch');
  });

  it('a device named with a look-alike letter is another host', async () => {
    const f = await failureOf(world.endpoint.isolateHost(step({ deviceId: ids.lookalike })));
    expect(f.type).toBe('TargetMismatch');
    expect(world.actionRequests()).toBe(0);
  });

  it("the CMDB's device id is accepted when the EDR names it after the asset, and web-1 is contained", async () => {
    expect(await world.endpoint.resolveDevice({ assetId: 'web-1', hint: ids.web })).toEqual({
      deviceId: ids.web,
      hostname: expect.stringMatching(/^web-1(\.corp\.example\.com)?$/),
      via: 'cmdb',
      vendor,
    });
    const contained = await world.endpoint.isolateHost(step({ deviceId: ids.web }));
    expect(contained).toMatchObject({ deviceId: ids.web, state: 'contained' });
    expect(world.actionRequests()).toBe(1);
  });

  it('without an id, web-1 is found in the EDR by its hostname', async () => {
    expect(await world.endpoint.resolveDevice({ assetId: 'web-1' })).toMatchObject({ deviceId: ids.web, via: 'edr', vendor });
  });

  it("an asset whose id is not a hostname is matched through the hostname the CMDB gives", async () => {
    const asset = { assetId: 'i-0abc1234', hostname: 'web-1' };
    expect(await world.endpoint.resolveDevice({ ...asset, hint: ids.web })).toMatchObject({ deviceId: ids.web, via: 'cmdb' });
    expect(await world.endpoint.isolateHost(step({ ...asset, deviceId: ids.web }))).toMatchObject({ deviceId: ids.web, state: 'contained' });
    expect((await failureOf(world.endpoint.isolateHost(step({ assetId: 'i-0abc1234', deviceId: ids.web })))).type).toBe('TargetMismatch');
  });

  it('a step without an asset id, or with a hint of the wrong shape, is refused naming the field', async () => {
    const noAsset = await failureOf(world.endpoint.resolveDevice({ assetId: ' ' }));
    expect(noAsset).toMatchObject({ type: `${vendor}.BadInput`, nonRetryable: true, message: `${vendor}: assetId is required` });
    const badHint = await failureOf(world.endpoint.resolveDevice({ assetId: 'web-1', hint: 42 as never }));
    expect(badHint.message).toBe(`${vendor}: hint must be a device id or endpointIds`);
    expect(world.actionRequests()).toBe(0);
  });

  it('two devices named app-3 are refused as ambiguous, both listed', async () => {
    const f = await failureOf(world.endpoint.resolveDevice({ assetId: 'app-3' }));
    expect(f).toMatchObject({ type: 'TargetAmbiguous', nonRetryable: true });
    for (const id of ids.app) expect(f.message).toContain(id);
    const listed = (f.details?.[0] as { devices: Array<{ deviceId: string }> }).devices.map((d) => d.deviceId);
    expect(listed.sort()).toEqual([...ids.app].sort());
  });

  it('the CMDB settles an ambiguous hostname by naming one of its devices', async () => {
    expect(await world.endpoint.resolveDevice({ assetId: 'app-3', hint: ids.app[1] })).toMatchObject({ deviceId: ids.app[1], via: 'cmdb' });
  });
});

import type { DefenderConfig } from '../../../activities/adapters/defender';
import type { DefenderSimulator } from '../../../simulators/defender';

/** The adapter's configuration for a simulator (short waits: the simulator answers at once). */
export function defenderConfigFor(sim: DefenderSimulator, over: Partial<DefenderConfig> = {}): DefenderConfig {
  return {
    tenantId: sim.tenantId,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    apiUrl: sim.baseUrl,
    loginUrl: sim.baseUrl,
    scope: 'https://api.securitycenter.microsoft.com/.default',
    timeoutMs: 750,
    pollIntervalMs: 5,
    actionWaitMs: 2_000,
    ...over,
  };
}

import type { AxiosInstance } from 'axios';
import { parse as parseYaml } from 'yaml';
import type { Runbook, RunbookInput } from '../../interfaces';
import { createVendorClient, nonRetryable } from '../http';
import { jobVariables, MARKER, runJob, stepParams, tailSummary, type JobDriver } from '../runbook-job';
import type { RundeckConfig } from './config';

export const VENDOR = 'rundeck';

/** An execution as /api/{v}/execution/{id} and the run answer describe it; only what drw reads. */
export interface RundeckExecution {
  id: number;
  status: string;
  permalink?: string;
  customStatus?: string;
  job?: { id?: string; options?: Record<string, string> };
  argstring?: string;
}

interface JobOption {
  name: string;
  required?: boolean;
  value?: string;
}

/** Still going: running, or scheduled to run (runAtTime). Every other status is final. */
const ACTIVE = new Set(['running', 'scheduled']);
const SEARCH_DEPTH = 50;
/** Options drw adds besides the step's params; passed only when the job defines them (the marker must be defined). */
const CONTEXT_OPTIONS = new Set(['drw_asset', 'drw_remediation']);

/**
 * Runbooks as Rundeck jobs: run (POST /api/{v}/job/{id}/run with its options), poll
 * /api/{v}/execution/{id} until it is no longer running, and summarize the last lines of
 * /api/{v}/execution/{id}/output. Rundeck has no idempotency key, so every job drw runs must
 * define an option `drw_idempotency_key`: the step's key goes there, and the job's latest
 * executions are read for it before running.
 */
export function createRundeckRunbook(config: RundeckConfig, http: AxiosInstance = rundeckClient(config)): Runbook {
  const api = `/api/${config.apiVersion}`;
  const wait = { pollIntervalMs: config.pollIntervalMs, waitMs: config.jobWaitMs };

  function jobOf(input: RunbookInput): string {
    const id = config.jobs[input.runbook];
    if (id === undefined) throw nonRetryable(VENDOR, `runbook "${input.runbook}" has no job (RUNDECK_JOBS)`, 'UnknownRunbook');
    return id;
  }

  async function find(jobId: string, key: string): Promise<RundeckExecution | undefined> {
    const res = await http.get<{ executions?: RundeckExecution[] }>(`${api}/job/${jobId}/executions`, { params: { max: SEARCH_DEPTH } });
    return (res.data.executions ?? []).find((e) => e.job?.options?.[MARKER] === key);
  }

  /** The job's options, from its definition (YAML: served by every API version, JSON only from v44). */
  async function optionsOf(jobId: string): Promise<JobOption[]> {
    const res = await http.get<string>(`${api}/job/${jobId}`, { params: { format: 'yaml' }, responseType: 'text', headers: { Accept: 'text/yaml' } });
    const doc = parseYaml(String(res.data)) as Array<{ options?: JobOption[] | Record<string, Omit<JobOption, 'name'>> }> | undefined;
    const options = doc?.[0]?.options ?? [];
    // job-yaml v12 lists options; older definitions map name → option.
    return Array.isArray(options) ? options : Object.entries(options).map(([name, o]) => ({ name, ...o }));
  }

  async function launch(jobId: string, input: RunbookInput): Promise<RundeckExecution> {
    const defined = await optionsOf(jobId);
    const names = new Set(defined.map((o) => o.name));
    if (!names.has(MARKER)) {
      throw nonRetryable(VENDOR, `job ${jobId} does not define the option ${MARKER}; add it (text, not required) so drw can find its executions again`, 'JobWithoutMarker');
    }
    const vars = jobVariables(input);
    const unknown = Object.keys(stepParams(input)).filter((k) => !names.has(k));
    if (unknown.length) throw nonRetryable(VENDOR, `job ${jobId} does not define the options ${unknown.join(', ')} given as the step's params`, 'UnknownOptions');
    const missing = defined.filter((o) => o.required && o.value === undefined && !(o.name in vars)).map((o) => o.name);
    if (missing.length) throw nonRetryable(VENDOR, `job ${jobId} requires the options ${missing.join(', ')}; give them as the step's params`, 'MissingOptions');
    const options = Object.fromEntries(Object.entries(vars).filter(([k]) => !CONTEXT_OPTIONS.has(k) || names.has(k)));
    const body = { options, ...(config.filterToAsset ? { filter: `name: ${input.assetId}` } : {}) };
    const res = await http.post<RundeckExecution>(`${api}/job/${jobId}/run`, body, { headers: { 'Content-Type': 'application/json' } });
    return res.data;
  }

  return {
    async runRunbook(input) {
      const jobId = jobOf(input);
      const driver: JobDriver<RundeckExecution> = {
        vendor: VENDOR,
        find: () => find(jobId, input.idempotencyKey),
        launch: () => launch(jobId, input),
        read: async (e) => (await http.get<RundeckExecution>(`${api}/execution/${e.id}`)).data,
        finished: (e) => !ACTIVE.has(e.status),
        output: async (e) => {
          const res = await http.get<{ entries?: Array<{ log?: string }> }>(`${api}/execution/${e.id}/output`, { params: { format: 'json', lastlines: config.outputLines } });
          return tailSummary((res.data.entries ?? []).map((x) => x.log ?? '').join('\n'), config.outputMaxChars);
        },
        result: (e) => ({
          runbook: input.runbook,
          ok: e.status === 'succeeded',
          system: VENDOR,
          jobId: String(e.id),
          status: e.status === 'other' && e.customStatus ? e.customStatus : e.status,
          url: e.permalink,
        }),
        describe: (e) => `execution ${e.id} of job ${jobId} (${e.status})`,
      };
      return runJob(driver, wait);
    },
  };
}

function rundeckClient(config: RundeckConfig): AxiosInstance {
  return createVendorClient({ vendor: VENDOR, baseURL: config.baseUrl, timeoutMs: config.timeoutMs, headers: { 'X-Rundeck-Auth-Token': config.token } });
}

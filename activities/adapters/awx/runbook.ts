import type { AxiosInstance } from 'axios';
import type { Runbook, RunbookInput } from '../../interfaces';
import { createVendorClient, nonRetryable } from '../http';
import { jobVariables, MARKER, runJob, tailSummary, type JobDriver } from '../runbook-job';
import type { AwxConfig } from './config';

export const VENDOR = 'awx';

/** A job as /api/v2/jobs/{id}/ (and the launch answer) describe it; only what drw reads. */
export interface AwxJob {
  id: number;
  status: string;
  failed?: boolean;
  job_template?: number | null;
  extra_vars?: string;
  job_explanation?: string;
}

interface LaunchInfo {
  ask_variables_on_launch?: boolean;
  ask_limit_on_launch?: boolean;
  passwords_needed_to_start?: string[];
  variables_needed_to_start?: string[];
}

const FINISHED = new Set(['successful', 'failed', 'error', 'canceled']);
/** Jobs of the template read when searching for this step's job: retries come minutes, not hundreds of jobs, later. */
const SEARCH_DEPTH = 50;

/**
 * Runbooks as Ansible AWX / Automation Platform job templates: launch
 * (POST /api/v2/job_templates/{id}/launch/), poll /api/v2/jobs/{id}/ until it finishes, and
 * summarize /api/v2/jobs/{id}/stdout/?format=txt. AWX has no idempotency key and refuses
 * filters on extra_vars, so the step's key travels in extra_vars and the template's latest
 * jobs are read for it before launching.
 */
export function createAwxRunbook(config: AwxConfig, http: AxiosInstance = awxClient(config)): Runbook {
  const wait = { pollIntervalMs: config.pollIntervalMs, waitMs: config.jobWaitMs };
  const api = config.apiPath;
  // The AAP 2.5 gateway serves the jobs' pages under /execution, AWX under its hash routes.
  const page = (id: number) => (api.startsWith('/api/controller/') ? `${config.baseUrl}/execution/jobs/playbook/${id}/output` : `${config.baseUrl}/#/jobs/playbook/${id}/output`);

  function templateOf(input: RunbookInput): number {
    const id = config.templates[input.runbook];
    if (id === undefined) throw nonRetryable(VENDOR, `runbook "${input.runbook}" has no job template (AWX_JOB_TEMPLATES)`, 'UnknownRunbook');
    return id;
  }

  async function find(templateId: number, key: string): Promise<AwxJob | undefined> {
    const res = await http.get<{ results?: AwxJob[] }>(`${api}/job_templates/${templateId}/jobs/`, { params: { order_by: '-id', page_size: SEARCH_DEPTH } });
    return (res.data.results ?? []).find((j) => markerOf(j) === key);
  }

  async function launch(templateId: number, input: RunbookInput): Promise<AwxJob> {
    // Without prompting, AWX would launch the job and silently drop the variables (ignored_fields): check first.
    const info = (await http.get<LaunchInfo>(`${api}/job_templates/${templateId}/launch/`)).data;
    if (!info.ask_variables_on_launch) {
      throw nonRetryable(VENDOR, `job template ${templateId} does not prompt for variables on launch; enable it so drw can pass the step's parameters and its idempotency marker`, 'TemplateNotPrompting');
    }
    if (info.passwords_needed_to_start?.length) {
      throw nonRetryable(VENDOR, `job template ${templateId} needs passwords to start (${info.passwords_needed_to_start.join(', ')}); store them in its credentials`, 'TemplateNeedsPasswords');
    }
    if (config.limitToAsset && !info.ask_limit_on_launch) {
      throw nonRetryable(VENDOR, `job template ${templateId} does not prompt for a limit on launch (AWX_LIMIT_TO_ASSET is set)`, 'TemplateNotPrompting');
    }
    const vars = jobVariables(input);
    const missing = (info.variables_needed_to_start ?? []).filter((v) => !(v in vars));
    if (missing.length) throw nonRetryable(VENDOR, `job template ${templateId} needs the survey variables ${missing.join(', ')}; give them as the step's params`, 'MissingVariables');
    const body = { extra_vars: JSON.stringify(vars), ...(config.limitToAsset ? { limit: input.assetId } : {}) };
    const res = await http.post<AwxJob & { job?: number; ignored_fields?: Record<string, unknown> }>(`${api}/job_templates/${templateId}/launch/`, body, {
      headers: { 'Content-Type': 'application/json' },
    });
    return { ...res.data, id: res.data.job ?? res.data.id };
  }

  return {
    async runRunbook(input) {
      const templateId = templateOf(input);
      const driver: JobDriver<AwxJob> = {
        vendor: VENDOR,
        find: () => find(templateId, input.idempotencyKey),
        launch: () => launch(templateId, input),
        read: async (job) => (await http.get<AwxJob>(`${api}/jobs/${job.id}/`)).data,
        finished: (job) => FINISHED.has(job.status),
        output: async (job) => {
          const res = await http.get<string>(`${api}/jobs/${job.id}/stdout/`, { params: { format: 'txt' }, responseType: 'text', headers: { Accept: 'text/plain' } });
          const text = tailSummary(String(res.data ?? ''), config.outputMaxChars);
          return job.job_explanation ? `${job.job_explanation}\n${text}`.trim() : text;
        },
        result: (job) => ({
          runbook: input.runbook,
          ok: job.status === 'successful',
          system: VENDOR,
          jobId: String(job.id),
          status: job.status,
          url: page(job.id),
        }),
        describe: (job) => `job ${job.id} (template ${templateId}, ${job.status})`,
      };
      return runJob(driver, wait);
    },
  };
}

function awxClient(config: AwxConfig): AxiosInstance {
  return createVendorClient({
    vendor: VENDOR,
    baseURL: config.baseUrl,
    timeoutMs: config.timeoutMs,
    headers: config.token ? { Authorization: `Bearer ${config.token}` } : {},
    auth: config.token ? undefined : { username: config.username!, password: config.password! },
  });
}

/** AWX shows a job's extra_vars as a JSON (or YAML) string; the marker is a plain string value in it. */
export function markerOf(job: AwxJob): string | undefined {
  const text = job.extra_vars ?? '';
  try {
    const v = (JSON.parse(text) as Record<string, unknown>)[MARKER];
    return typeof v === 'string' ? v : undefined;
  } catch {
    const m = new RegExp(`^\\s*${MARKER}:\\s*["']?([^"'\\n]+?)["']?\\s*$`, 'm').exec(text);
    return m?.[1];
  }
}

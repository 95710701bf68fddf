import { randomUUID } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Rundeck simulator (API v14–v47): job definitions (YAML export), running a job with an
 * options map, executions that stay `running` for a few reads and then end `succeeded` (or a
 * chosen status), a job's execution list (newest first) and an execution's log output
 * (`lastlines`). Follows Rundeck's documented shapes: the run answer is the execution, options
 * the job does not define are not kept, a missing required option is refused, errors are
 * `{error: true, apiversion, errorCode, message}`, and the token travels in X-Rundeck-Auth-Token.
 */

export interface RundeckJobSeed {
  id?: string;
  name: string;
  group?: string;
  project?: string;
  options?: Array<{ name: string; required?: boolean; value?: string }>;
}

export type RundeckStatus = 'running' | 'succeeded' | 'failed' | 'aborted' | 'timedout' | 'failed-with-retry' | 'scheduled' | 'other';

export interface SimExecution {
  id: number;
  href: string;
  permalink: string;
  status: RundeckStatus;
  project: string;
  user: string;
  'date-started': { unixtime: number; date: string };
  'date-ended'?: { unixtime: number; date: string };
  job: { id: string; name: string; group: string; project: string; href: string; permalink: string; options: Record<string, string> };
  description: string;
  argstring: string;
  successfulNodes?: string[];
  failedNodes?: string[];
}

export interface RundeckSimulatorOptions {
  token?: string;
  jobs?: RundeckJobSeed[];
  /** Reads of a running execution before it ends; 0 = executions end at once. */
  readsToFinish?: number;
  /** Log lines each execution writes. */
  logLines?: number;
}

const MAX_VERSION = 47;

export class RundeckSimulator extends SimulatorServer {
  readonly jobs = new Map<string, Required<RundeckJobSeed>>();
  readonly executions: SimExecution[] = [];
  readsToFinish: number;
  logLines: number;
  readonly token: string;
  private readonly reads = new Map<number, number>();
  private readonly outcomes = new Map<number, RundeckStatus>();
  private nextOutcomes: RundeckStatus[] = [];
  private answerDelays: number[] = [];

  constructor(opts: RundeckSimulatorOptions = {}) {
    super('rundeck');
    this.token = opts.token ?? 'sim-rundeck-' + randomUUID();
    this.readsToFinish = opts.readsToFinish ?? 2;
    this.logLines = opts.logLines ?? 3;
    for (const j of opts.jobs ?? []) this.seedJob(j);

    this.route('GET', '/api/:v/job/:id', (r) => this.authed(r, () => this.definition(r)));
    this.route('POST', '/api/:v/job/:id/run', (r) => this.authed(r, () => this.run(r)));
    this.route('GET', '/api/:v/job/:id/executions', (r) => this.authed(r, () => this.listExecutions(r)));
    this.route('GET', '/api/:v/execution/:id', (r) => this.authed(r, () => this.execution(r)));
    this.route('GET', '/api/:v/execution/:id/output', (r) => this.authed(r, () => this.output(r)));
  }

  seedJob(j: RundeckJobSeed): string {
    const id = j.id ?? randomUUID();
    this.jobs.set(id, { id, group: '', project: 'ops', options: [], ...j });
    return id;
  }

  nextExecutionOutcome(status: RundeckStatus): void {
    this.nextOutcomes.push(status);
  }

  delayNextRunAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  runs(): SimRequest[] {
    return this.served((r) => r.method === 'POST' && r.path.endsWith('/run')) as SimRequest[];
  }

  private authed(r: SimRequest, next: () => SimResponse | Promise<SimResponse>): SimResponse | Promise<SimResponse> {
    const v = Number(r.params.v);
    if (!Number.isInteger(v) || v < 14 || v > MAX_VERSION) return rdError(400, 'api.error.api-version.unsupported', `Unsupported API Version "${r.params.v}". API Request: ${r.path}. Reason: Minimum supported version: 14; current version: ${MAX_VERSION}`);
    if (r.headers['x-rundeck-auth-token'] !== this.token) return rdError(403, 'unauthorized', `Not authorized for: ${r.path}`);
    return next();
  }

  private job(r: SimRequest): Required<RundeckJobSeed> | undefined {
    return this.jobs.get(r.params.id);
  }

  private definition(r: SimRequest): SimResponse {
    const job = this.job(r);
    if (!job) return rdError(404, 'api.error.item.doesnotexist', `Job ID does not exist: ${r.params.id}`);
    const def = [{ id: job.id, uuid: job.id, name: job.name, group: job.group || undefined, project: job.project, loglevel: 'INFO', options: job.options, sequence: { commands: [{ exec: 'systemctl restart ${option.service}' }] } }];
    return { status: 200, headers: { 'Content-Type': 'text/yaml' }, body: toYaml(def) };
  }

  private async run(r: SimRequest): Promise<SimResponse> {
    const job = this.job(r);
    if (!job) return rdError(404, 'api.error.item.doesnotexist', `Job ID does not exist: ${r.params.id}`);
    const body = (typeof r.body === 'object' && r.body ? r.body : {}) as { options?: Record<string, unknown>; filter?: string };
    const given = body.options ?? {};
    const kept: Record<string, string> = {};
    for (const o of job.options) {
      const value = given[o.name] ?? o.value;
      if (value !== undefined) kept[o.name] = String(value);
      else if (o.required) return rdError(400, 'api.error.job.options-invalid', `Job options were not valid: Option '${o.name}' is required.`);
    }
    const id = this.executions.length + 1;
    const now = Date.now();
    const node = /^name:\s*(\S+)$/.exec(body.filter ?? '')?.[1] ?? 'localhost';
    const exec: SimExecution = {
      id,
      href: `${this.baseUrl}/api/${r.params.v}/execution/${id}`,
      permalink: `${this.baseUrl}/project/${job.project}/execution/show/${id}`,
      status: 'running',
      project: job.project,
      user: 'drw',
      'date-started': { unixtime: now, date: new Date(now).toISOString() },
      job: {
        id: job.id,
        name: job.name,
        group: job.group,
        project: job.project,
        href: `${this.baseUrl}/api/${r.params.v}/job/${job.id}`,
        permalink: `${this.baseUrl}/project/${job.project}/job/show/${job.id}`,
        options: kept,
      },
      description: job.name,
      argstring: Object.entries(kept).map(([k, v]) => `-${k} ${v}`).join(' '),
      successfulNodes: [node],
    };
    this.executions.push(exec);
    this.outcomes.set(id, this.nextOutcomes.shift() ?? 'succeeded');
    if (this.readsToFinish <= 0) this.finish(exec);
    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay).unref());
    return { status: 200, body: exec };
  }

  private listExecutions(r: SimRequest): SimResponse {
    const job = this.job(r);
    if (!job) return rdError(404, 'api.error.item.doesnotexist', `Job ID does not exist: ${r.params.id}`);
    const all = this.executions.filter((e) => e.job.id === job.id).reverse();
    const max = r.query.max ? Number(r.query.max) : all.length;
    const offset = Number(r.query.offset ?? 0);
    const page = all.slice(offset, offset + max);
    return { status: 200, body: { paging: { count: page.length, total: all.length, offset, max }, executions: page } };
  }

  private execution(r: SimRequest): SimResponse {
    const exec = this.executions.find((e) => e.id === Number(r.params.id));
    if (!exec) return rdError(404, 'api.error.execution.doesnotexist', `Execution ID does not exist: ${r.params.id}`);
    if (exec.status === 'running') {
      const n = (this.reads.get(exec.id) ?? 0) + 1;
      this.reads.set(exec.id, n);
      if (n >= this.readsToFinish) this.finish(exec);
    }
    return { status: 200, body: exec };
  }

  private output(r: SimRequest): SimResponse {
    const exec = this.executions.find((e) => e.id === Number(r.params.id));
    if (!exec) return rdError(404, 'api.error.execution.doesnotexist', `Execution ID does not exist: ${r.params.id}`);
    const node = exec.successfulNodes?.[0] ?? exec.failedNodes?.[0] ?? 'localhost';
    const logs = Array.from({ length: this.logLines }, (_x, i) => `step ${i + 1} on ${node}: ok`);
    if (exec.status === 'failed') logs.push(`Failed: NonZeroResultCode: Remote command failed with exit status 1`);
    else if (exec.status === 'succeeded') logs.push(`restarted ${exec.job.options.service ?? 'service'}`);
    const last = r.query.lastlines ? logs.slice(-Number(r.query.lastlines)) : logs;
    const done = exec.status !== 'running';
    return {
      status: 200,
      body: {
        id: String(exec.id),
        offset: String(logs.length * 64),
        completed: done,
        execCompleted: done,
        hasFailedNodes: exec.status === 'failed',
        execState: exec.status,
        lastModified: String(Date.now()),
        execDuration: 100,
        totalSize: logs.length * 64,
        entries: last.map((log) => ({ time: '12:00:00', absolute_time: new Date().toISOString(), level: 'NORMAL', log, user: 'drw', node, stepctx: '1' })),
      },
    };
  }

  private finish(exec: SimExecution): void {
    exec.status = this.outcomes.get(exec.id) ?? 'succeeded';
    const now = Date.now();
    exec['date-ended'] = { unixtime: now, date: new Date(now).toISOString() };
    if (exec.status !== 'succeeded') {
      exec.failedNodes = exec.successfulNodes;
      exec.successfulNodes = [];
    }
  }
}

function rdError(status: number, errorCode: string, message: string): SimResponse {
  return { status, body: { error: true, apiversion: MAX_VERSION, errorCode, message } };
}

export async function startRundeckSimulator(opts: RundeckSimulatorOptions = {}): Promise<RundeckSimulator> {
  const sim = new RundeckSimulator(opts);
  await sim.start();
  return sim;
}

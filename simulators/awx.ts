import { z } from 'zod';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * Ansible AWX / Automation Platform controller simulator (API v2): job templates that launch
 * jobs, jobs that go pending → waiting → running → successful (or a chosen outcome) as they
 * are read, the template's job list, and the job's stdout as text. Follows AWX's documented
 * shapes: the launch answer is 201 with `job`, `ignored_fields` and the job; extra_vars are
 * dropped into `ignored_fields` when the template does not prompt for them; filtering on
 * extra_vars is refused as AWX refuses it; errors are Django REST framework's `{detail}` or
 * `{field: [messages]}`. Bearer token or basic auth.
 */

export interface AwxTemplateSeed {
  id: number;
  name: string;
  ask_variables_on_launch?: boolean;
  ask_limit_on_launch?: boolean;
  /** Survey variables that must be given (variables_needed_to_start). */
  survey?: string[];
}

export type AwxStatus = 'new' | 'pending' | 'waiting' | 'running' | 'successful' | 'failed' | 'error' | 'canceled';

export interface SimAwxJob {
  id: number;
  type: 'job';
  url: string;
  name: string;
  job_template: number;
  status: AwxStatus;
  failed: boolean;
  started: string | null;
  finished: string | null;
  extra_vars: string;
  limit: string;
  job_explanation: string;
  launch_type: 'manual';
}

export interface AwxSimulatorOptions {
  token?: string;
  username?: string;
  password?: string;
  templates?: AwxTemplateSeed[];
  /** Reads of a job per status step; 0 = jobs finish at launch. */
  readsPerStep?: number;
  /** Lines of play output each job writes (to exercise the bounded summary). */
  stdoutLines?: number;
  /** Where the controller API is served: /api/v2 (AWX), /api/controller/v2 (behind the AAP 2.5 gateway). */
  apiPath?: string;
}

const STEPS: AwxStatus[] = ['pending', 'waiting', 'running'];

export class AwxSimulator extends SimulatorServer {
  readonly templates = new Map<number, Required<AwxTemplateSeed>>();
  readonly jobs: SimAwxJob[] = [];
  readsPerStep: number;
  stdoutLines: number;
  readonly apiPath: string;
  private readonly token?: string;
  private readonly basic?: string;
  private readonly reads = new Map<number, number>();
  private readonly outcomes = new Map<number, AwxStatus>();
  private nextOutcomes: AwxStatus[] = [];
  private answerDelays: number[] = [];

  constructor(opts: AwxSimulatorOptions = {}) {
    super('awx');
    this.token = opts.token;
    this.basic = opts.username ? Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64') : undefined;
    this.readsPerStep = opts.readsPerStep ?? 1;
    this.stdoutLines = opts.stdoutLines ?? 4;
    for (const t of opts.templates ?? []) this.seedTemplate(t);

    const api = (this.apiPath = opts.apiPath ?? '/api/v2');
    this.route('GET', `${api}/job_templates/:id/launch`, (r) => this.authed(r, () => this.launchInfo(r)));
    this.route('POST', `${api}/job_templates/:id/launch`, (r) => this.authed(r, () => this.launch(r)));
    this.route('GET', `${api}/job_templates/:id/jobs`, (r) => this.authed(r, () => this.listJobs(r)));
    this.route('GET', `${api}/jobs/:id`, (r) => this.authed(r, () => this.getJob(r)));
    this.route('GET', `${api}/jobs/:id/stdout`, (r) => this.authed(r, () => this.stdout(r)));
  }

  seedTemplate(t: AwxTemplateSeed): void {
    this.templates.set(t.id, { ask_variables_on_launch: true, ask_limit_on_launch: false, survey: [], ...t });
  }

  /** The next launched job ends with this status instead of successful. */
  nextJobOutcome(status: AwxStatus): void {
    this.nextOutcomes.push(status);
  }

  /** The next launch is carried out, but its answer comes `ms` later. */
  delayNextLaunchAnswer(ms: number): void {
    this.answerDelays.push(ms);
  }

  /** Launch requests that reached the API (faulted ones excluded). */
  launches(): SimRequest[] {
    return this.served((r) => r.method === 'POST' && /\/launch\/?$/.test(r.path)) as SimRequest[];
  }

  private authed(r: SimRequest, next: () => SimResponse | Promise<SimResponse>): SimResponse | Promise<SimResponse> {
    const auth = String(r.headers.authorization ?? '');
    const ok = (this.token && auth === `Bearer ${this.token}`) || (this.basic && auth === `Basic ${this.basic}`);
    if (!ok) return { status: 401, body: { detail: 'Authentication credentials were not provided. To establish a login session, visit /api/login/.' } };
    return next();
  }

  private template(r: SimRequest): Required<AwxTemplateSeed> | undefined {
    return this.templates.get(Number(r.params.id));
  }

  private launchInfo(r: SimRequest): SimResponse {
    const t = this.template(r);
    if (!t) return { status: 404, body: { detail: 'Not found.' } };
    return {
      status: 200,
      body: {
        can_start_without_user_input: t.survey.length === 0,
        passwords_needed_to_start: [],
        ask_variables_on_launch: t.ask_variables_on_launch,
        ask_limit_on_launch: t.ask_limit_on_launch,
        survey_enabled: t.survey.length > 0,
        variables_needed_to_start: t.survey,
        credential_needed_to_start: false,
        inventory_needed_to_start: false,
        job_template_data: { name: t.name, id: t.id, description: '' },
      },
    };
  }

  private async launch(r: SimRequest): Promise<SimResponse> {
    const t = this.template(r);
    if (!t) return { status: 404, body: { detail: 'Not found.' } };
    const body = (typeof r.body === 'object' && r.body ? r.body : {}) as Record<string, unknown>;
    let vars: Record<string, unknown> = {};
    if (body.extra_vars !== undefined) {
      try {
        vars = typeof body.extra_vars === 'string' ? (JSON.parse(body.extra_vars || '{}') as Record<string, unknown>) : (body.extra_vars as Record<string, unknown>);
      } catch {
        return { status: 400, body: { extra_vars: ['Cannot parse as JSON (error: Expecting value) or YAML (error: ...).'] } };
      }
    }
    const ignored: Record<string, unknown> = {};
    if (!t.ask_variables_on_launch && body.extra_vars !== undefined) {
      ignored.extra_vars = vars;
      vars = {};
    }
    let limit = '';
    if (body.limit !== undefined) {
      if (t.ask_limit_on_launch) limit = String(body.limit);
      else ignored.limit = body.limit;
    }
    const missing = t.survey.filter((v) => !(v in vars));
    if (missing.length) return { status: 400, body: { variables_needed_to_start: missing.map((v) => `'${v}' value missing`) } };

    const id = this.jobs.length + 1;
    const job: SimAwxJob = {
      id,
      type: 'job',
      url: `${this.apiPath}/jobs/${id}/`,
      name: t.name,
      job_template: t.id,
      status: 'pending',
      failed: false,
      started: null,
      finished: null,
      extra_vars: JSON.stringify(vars),
      limit,
      job_explanation: '',
      launch_type: 'manual',
    };
    this.jobs.push(job);
    this.outcomes.set(id, this.nextOutcomes.shift() ?? 'successful');
    this.reads.set(id, 0);
    if (this.readsPerStep <= 0) this.finish(job);
    const delay = this.answerDelays.shift();
    if (delay) await new Promise((res) => setTimeout(res, delay).unref());
    return { status: 201, headers: { Location: job.url }, body: { job: id, ignored_fields: ignored, ...job } };
  }

  private listJobs(r: SimRequest): SimResponse {
    const t = this.template(r);
    if (!t) return { status: 404, body: { detail: 'Not found.' } };
    if (Object.keys(r.query).some((k) => k.startsWith('extra_vars'))) return { status: 400, body: { detail: 'Filtering on extra_vars is not allowed.' } };
    const size = Math.min(Number(r.query.page_size ?? 25) || 25, 200);
    let list = this.jobs.filter((j) => j.job_template === t.id);
    if (r.query.order_by === '-id') list = [...list].reverse();
    return { status: 200, body: { count: list.length, next: list.length > size ? `${this.apiPath}/job_templates/${t.id}/jobs/?page=2` : null, previous: null, results: list.slice(0, size) } };
  }

  private getJob(r: SimRequest): SimResponse {
    const job = this.jobs.find((j) => j.id === Number(r.params.id));
    if (!job) return { status: 404, body: { detail: 'Not found.' } };
    this.advance(job);
    return { status: 200, body: job };
  }

  private stdout(r: SimRequest): SimResponse {
    const job = this.jobs.find((j) => j.id === Number(r.params.id));
    if (!job) return { status: 404, body: { detail: 'Not found.' } };
    if (r.query.format !== 'txt') return { status: 200, body: { range: { start: 0, end: 0, absolute_end: 0 }, content: '' } };
    const vars = JSON.parse(job.extra_vars || '{}') as Record<string, string>;
    const host = job.limit || vars.drw_asset || 'localhost';
    const lines = [`\x1b[0;32mPLAY [${job.name}] ***********************************************************\x1b[0m`];
    for (let i = 1; i <= this.stdoutLines; i++) lines.push(`TASK [step ${i}] ****`, `ok: [${host}]`);
    if (job.status === 'successful') lines.push('PLAY RECAP *****', `${host} : ok=${this.stdoutLines} changed=1 unreachable=0 failed=0`);
    else if (job.status === 'failed') lines.push(`fatal: [${host}]: FAILED! => {"msg": "service did not start"}`, 'PLAY RECAP *****', `${host} : ok=1 changed=0 unreachable=0 failed=1`);
    return { status: 200, body: lines.join('\n') + '\n', headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
  }

  private advance(job: SimAwxJob): void {
    if (!STEPS.includes(job.status)) return;
    const n = (this.reads.get(job.id) ?? 0) + 1;
    this.reads.set(job.id, n);
    if (n < this.readsPerStep) return;
    this.reads.set(job.id, 0);
    const next = STEPS.indexOf(job.status) + 1;
    if (next < STEPS.length) {
      job.status = STEPS[next];
      if (job.status === 'running') job.started = new Date().toISOString();
    } else this.finish(job);
  }

  private finish(job: SimAwxJob): void {
    job.status = this.outcomes.get(job.id) ?? 'successful';
    job.failed = job.status !== 'successful';
    job.started ??= new Date().toISOString();
    job.finished = new Date().toISOString();
    if (job.status === 'error') job.job_explanation = 'Job terminated due to error';
  }

  /** What survives a restart of the embedded default: see AwxSnapshot. */
  snapshot(): AwxSnapshot {
    const running = this.jobs.filter((j) => STEPS.includes(j.status));
    return {
      jobs: this.jobs.map((j) => ({ ...j })),
      pending: running.map((j) => ({ id: j.id, reads: this.reads.get(j.id) ?? 0, outcome: this.outcomes.get(j.id) ?? 'successful' })),
    };
  }

  restore(data: unknown): void {
    const s = AwxSnapshotSchema.parse(data);
    this.jobs.splice(0, this.jobs.length, ...s.jobs.map((j) => ({ ...j, url: `${this.apiPath}/jobs/${j.id}/` })));
    this.reads.clear();
    this.outcomes.clear();
    for (const p of s.pending) {
      this.reads.set(p.id, p.reads);
      this.outcomes.set(p.id, p.outcome);
    }
  }
}

export async function startAwxSimulator(opts: AwxSimulatorOptions = {}): Promise<AwxSimulator> {
  const sim = new AwxSimulator(opts);
  await sim.start();
  return sim;
}

/**
 * Every job with its status, times and output variables (job ids continue from the last one), and
 * for a job still on its way its progress and the outcome it was given, so a runbook launched
 * before a restart is found, polled and finished after it. Templates are configuration, not state.
 */
export interface AwxSnapshot {
  jobs: SimAwxJob[];
  pending: { id: number; reads: number; outcome: AwxStatus }[];
}

const AwxStatusSchema = z.enum(['new', 'pending', 'waiting', 'running', 'successful', 'failed', 'error', 'canceled']);
const AwxSnapshotSchema = z
  .object({
    jobs: z.array(
      z.object({
        id: z.number().int().positive(),
        type: z.literal('job'),
        url: z.string(),
        name: z.string(),
        job_template: z.number().int(),
        status: AwxStatusSchema,
        failed: z.boolean(),
        started: z.string().nullable(),
        finished: z.string().nullable(),
        extra_vars: z.string(),
        limit: z.string(),
        job_explanation: z.string(),
        launch_type: z.literal('manual'),
      }),
    ),
    pending: z.array(z.object({ id: z.number().int().positive(), reads: z.number().int().nonnegative(), outcome: AwxStatusSchema })),
  })
  // Job ids are positions (the next id is the count plus one), so they must be 1..n in order.
  .refine((s) => s.jobs.every((j, i) => j.id === i + 1), { message: 'job ids must be 1, 2, 3, … in order', path: ['jobs'] });

import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { type SimRequest, type SimResponse, SimulatorServer } from './base';

/**
 * AWS Security Hub simulator for GetFindings (POST /findings, restJson1): `Filters` on string
 * fields (EQUALS / PREFIX OR-ed, NOT_EQUALS / PREFIX_NOT_EQUALS AND-ed, as the API reference
 * says), `MaxResults` (1–100), `NextToken` pagination, and findings of the region the request
 * is signed for only (no cross-region aggregation). It does not verify SigV4 signatures, but
 * refuses a request without an `AWS4-HMAC-SHA256` Authorization for the `securityhub` service
 * and an X-Amz-Date, and an unknown access key, with AWS's error shapes (x-amzn-ErrorType and
 * `{Message, Code}`). Tests seed findings (full ASFF) and change their state through methods or
 * the admin routes `POST /_sim/findings` ({Findings}) and `PATCH /_sim/findings`
 * ({Id, ProductArn, Compliance?, Workflow?, RecordState?}).
 */

export interface SecurityHubSimulatorOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  /** GetFindings answers this many empty pages (with a NextToken) before the real results, as Security Hub can. */
  emptyPagesFirst?: number;
}

export type AsffFinding = Record<string, unknown> & { Id: string; ProductArn: string };

export interface FindingStateChange {
  Compliance?: { Status: 'PASSED' | 'WARNING' | 'FAILED' | 'NOT_AVAILABLE' };
  Workflow?: { Status: 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED' };
  RecordState?: 'ACTIVE' | 'ARCHIVED';
}

type Getter = (f: AsffFinding) => unknown;
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
/** The string filters of AwsSecurityFindingFilters this simulator knows; any other is refused (400), so drift shows. */
const FIELDS: Record<string, Getter> = {
  Id: (f) => f.Id,
  ProductArn: (f) => f.ProductArn,
  AwsAccountId: (f) => f.AwsAccountId,
  GeneratorId: (f) => f.GeneratorId,
  ComplianceStatus: (f) => obj(f.Compliance).Status,
  ComplianceSecurityControlId: (f) => obj(f.Compliance).SecurityControlId,
  WorkflowStatus: (f) => obj(f.Workflow).Status,
  RecordState: (f) => f.RecordState,
  ResourceId: (f) => obj((f.Resources as unknown[] | undefined)?.[0]).Id,
};
const COMPARISONS = new Set(['EQUALS', 'PREFIX', 'NOT_EQUALS', 'PREFIX_NOT_EQUALS']);
const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=[0-9a-f]{64}$/;

export class SecurityHubSimulator extends SimulatorServer {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** "ProductArn|Id" → finding (ASFF's identity). */
  readonly findings = new Map<string, AsffFinding>();
  private emptyPages: number;
  private failures: { status: number; type: string; message: string }[] = [];

  constructor(opts: SecurityHubSimulatorOptions = {}) {
    super('securityhub');
    this.accessKeyId = opts.accessKeyId ?? 'AKIASIMULATOR0000001';
    this.secretAccessKey = opts.secretAccessKey ?? 'sim-secret-access-key';
    this.emptyPages = opts.emptyPagesFirst ?? 0;
    this.route('POST', '/findings', (r) => this.signed(r, () => this.getFindings(r)));
    this.route('POST', '/_sim/findings', (r) => {
      const list = obj(r.body).Findings;
      if (!Array.isArray(list)) return { status: 400, body: { Message: 'Findings must be an array of ASFF findings' } };
      return { status: 200, body: { SuccessCount: this.importFindings(list as AsffFinding[]).length, FailedCount: 0 } };
    });
    this.route('PATCH', '/_sim/findings', (r) => {
      const b = obj(r.body);
      try {
        return { status: 200, body: this.setState(String(b.Id), String(b.ProductArn), b as FindingStateChange) };
      } catch (e) {
        return { status: 404, body: { Message: (e as Error).message } };
      }
    });
  }

  /** Adds or replaces findings (BatchImportFindings' upsert by ProductArn + Id); Region defaults to the product ARN's. */
  importFindings(findings: AsffFinding[]): AsffFinding[] {
    return findings.map((f) => {
      if (typeof f.Id !== 'string' || typeof f.ProductArn !== 'string') throw new Error('an ASFF finding needs Id and ProductArn');
      const stored = { Region: f.ProductArn.split(':')[3], RecordState: 'ACTIVE', Workflow: { Status: 'NEW' }, ...structuredClone(f) } as AsffFinding;
      this.findings.set(`${f.ProductArn}|${f.Id}`, stored);
      return stored;
    });
  }

  /** What a person (Workflow), a re-evaluated control (Compliance) or Security Hub itself (RecordState) changes. */
  setState(id: string, productArn: string, change: FindingStateChange): AsffFinding {
    const f = this.findings.get(`${productArn}|${id}`);
    if (!f) throw new Error(`no finding ${id} of ${productArn}`);
    if (change.Compliance) f.Compliance = { ...obj(f.Compliance), Status: change.Compliance.Status };
    if (change.Workflow) f.Workflow = { ...obj(f.Workflow), Status: change.Workflow.Status };
    if (change.RecordState) f.RecordState = change.RecordState;
    f.UpdatedAt = new Date().toISOString();
    return f;
  }

  /** What outlives an `npm start` restart (simulators/persistence.ts): the findings as they are now. */
  snapshot(): unknown {
    return { findings: [...this.findings.values()] };
  }

  restore(data: unknown): void {
    const s = z.object({ findings: z.array(z.looseObject({ Id: z.string(), ProductArn: z.string() })) }).parse(data);
    this.findings.clear();
    for (const f of s.findings) this.findings.set(`${f.ProductArn}|${f.Id}`, f as AsffFinding);
  }

  /** The next `count` GetFindings calls fail with this AWS error (e.g. 429 LimitExceededException, 403 AccessDeniedException). */
  failNext(count: number, status: number, type: string, message: string): void {
    this.failures = Array.from({ length: count }, () => ({ status, type, message }));
  }

  private error(status: number, type: string, message: string): SimResponse {
    return { status, headers: { 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID() }, body: { Message: message, Code: type } };
  }

  private signed(r: SimRequest, next: () => SimResponse): SimResponse {
    const auth = String(r.headers.authorization ?? '');
    if (!auth) return this.error(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m = AUTH_RE.exec(auth);
    if (!m || !r.headers['x-amz-date']) return this.error(403, 'IncompleteSignatureException', 'Authorization header requires an AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature, and X-Amz-Date is required');
    if (m[4] !== 'securityhub') return this.error(403, 'InvalidSignatureException', `Credential should be scoped to correct service: 'securityhub'.`);
    if (m[1] !== this.accessKeyId) return this.error(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    const failure = this.failures.shift();
    if (failure) return this.error(failure.status, failure.type, failure.message);
    return next();
  }

  private getFindings(r: SimRequest): SimResponse {
    const region = AUTH_RE.exec(String(r.headers.authorization))![3];
    const b = obj(r.body);
    const max = b.MaxResults === undefined ? 100 : Number(b.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) return this.error(400, 'InvalidInputException', 'MaxResults must be between 1 and 100');
    const filters = obj(b.Filters);
    const tests: ((f: AsffFinding) => boolean)[] = [];
    for (const [field, list] of Object.entries(filters)) {
      const get = FIELDS[field];
      if (!get) return this.error(400, 'InvalidInputException', `Filters.${field} is not supported by this simulator`);
      if (!Array.isArray(list) || list.length === 0 || list.length > 20) return this.error(400, 'InvalidInputException', `Filters.${field} must be a list of 1 to 20 StringFilters`);
      const parsed = list.map(obj);
      const bad = parsed.find((s) => typeof s.Value !== 'string' || !COMPARISONS.has(String(s.Comparison)));
      if (bad) return this.error(400, 'InvalidInputException', `Filters.${field}: each filter needs a string Value and a Comparison of ${[...COMPARISONS].join(', ')}`);
      tests.push(match(get, parsed as { Value: string; Comparison: string }[]));
    }
    const all = [...this.findings.values()].filter((f) => f.Region === region && tests.every((t) => t(f)));
    let offset = 0;
    if (b.NextToken !== undefined) {
      const decoded = /^sim:(\d+)$/.exec(Buffer.from(String(b.NextToken), 'base64url').toString());
      if (!decoded) return this.error(400, 'InvalidInputException', 'NextToken is invalid');
      offset = Number(decoded[1]);
    }
    const token = (n: number) => Buffer.from(`sim:${n}`).toString('base64url');
    if (this.emptyPages > 0) {
      this.emptyPages--;
      return { status: 200, body: { Findings: [], NextToken: token(offset) } };
    }
    const page = all.slice(offset, offset + max);
    return { status: 200, body: { Findings: page, ...(offset + max < all.length ? { NextToken: token(offset + max) } : {}) } };
  }
}

/** EQUALS and PREFIX filters on one field are OR-ed, NOT_EQUALS and PREFIX_NOT_EQUALS AND-ed. */
function match(get: Getter, filters: { Value: string; Comparison: string }[]): (f: AsffFinding) => boolean {
  const positive = filters.filter((x) => x.Comparison === 'EQUALS' || x.Comparison === 'PREFIX');
  const negative = filters.filter((x) => x.Comparison.endsWith('NOT_EQUALS'));
  return (f) => {
    const v = get(f);
    const s = typeof v === 'string' ? v : undefined;
    const hit = (x: { Value: string; Comparison: string }) => s !== undefined && (x.Comparison.startsWith('PREFIX') ? s.startsWith(x.Value) : s === x.Value);
    return (positive.length === 0 || positive.some(hit)) && negative.every((x) => !hit(x));
  };
}

export async function startSecurityHubSimulator(opts: SecurityHubSimulatorOptions = {}): Promise<SecurityHubSimulator> {
  const sim = new SecurityHubSimulator(opts);
  await sim.start();
  return sim;
}

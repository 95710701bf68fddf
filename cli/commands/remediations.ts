/** `drw list`, `drw show`, `drw approve|deny`, `drw risk`. */
import { provenanceLines } from '../../planner/provenance';
import { SEVERITIES } from '../../domain/detection';
import type { RemediationListItem } from '../../api/routes/list';
import { REMEDIATION_ID_PATTERN } from '../../domain/ids';
import { REMEDIATION_STATUSES } from '../../planner/types';
import { CliError, EXIT, list, str, textTable, UsageError, type CommandSpec, type Ctx, type ParsedArgs } from './common';

function remediationId(v: string): string {
  if (!REMEDIATION_ID_PATTERN.test(v)) throw new CliError(EXIT.notFound, `no remediation ${v} (ids look like drw-<key>-<hash>)`);
  return v;
}

/** api/routes/list.ts (loaded only when listing: it brings the API server and the Temporal SDK). */
const listModule = () => import('../../api/routes/list');
/** Same values as api/routes/list.ts (a unit test checks), for help text without loading it. */
export const LIST_HELP = { statuses: [...REMEDIATION_STATUSES, 'open', 'closed'], defaultPageSize: 50, maxPageSize: 1000 };

function listRows(items: RemediationListItem[]): string {
  return textTable(
    ['ID', 'STATUS', 'SEVERITY', 'RISK', 'ASSET', 'PLAYBOOK', 'APPROVAL', 'STARTED'],
    items.map((r) => [r.id, r.status ?? r.execution.toLowerCase(), r.severity ?? '', r.riskScore === undefined ? '' : String(r.riskScore), r.asset ?? '', r.playbook ?? '', r.pendingApproval ? 'pending' : '', r.startTime]),
  );
}

/** The same filters for `drw list` and the aggregate report: the visibility query, or a usage error naming the option. */
export async function listQueryOf(values: ParsedArgs['values']): Promise<string> {
  const { buildListQuery, ListQueryError } = await listModule();
  try {
    return buildListQuery({
      ...(values.status ? { status: list(values.status) } : {}),
      ...(values.severity ? { severity: list(values.severity) } : {}),
      ...(str(values.asset) !== undefined ? { asset: str(values.asset) } : {}),
      ...(values['pending-approval'] ? { pendingApproval: true } : {}),
      ...(str(values.since) ? { since: sinceTime(str(values.since)!) } : {}),
    });
  } catch (e) {
    if (e instanceof ListQueryError) throw new UsageError(`--${e.field === 'pendingApproval' ? 'pending-approval' : e.field}: ${e.message.replace(/^\w+: /, '')}`);
    throw e;
  }
}

/** The filter options `drw list` and the aggregate report share. */
export const LIST_FILTER_OPTIONS = {
  status: { type: 'string', multiple: true, arg: 'status', help: 'remediation status (any of; comma-separated)' },
  severity: { type: 'string', multiple: true, arg: 'severity', help: 'severity (any of; comma-separated)' },
  asset: { type: 'string', arg: 'id', help: 'asset id (exact)' },
} as const;

export const listCmd: CommandSpec = {
  name: 'list',
  summary: 'List remediations (Temporal visibility on DrwStatus, DrwSeverity, DrwAsset, DrwPendingApproval)',
  usage: ['drw list [--status <s>[,<s>]] [--severity <s>[,<s>]] [--asset <id>] [--pending-approval] [--page-size <n>] [--page-token <t> | --all]'],
  description: `Statuses: ${LIST_HELP.statuses.join(', ')}. Severities: ${SEVERITIES.join(', ')}.\nReads Temporal directly (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API key settings as for drw itself).`,
  options: {
    ...LIST_FILTER_OPTIONS,
    'pending-approval': { type: 'boolean', help: 'only remediations waiting for an approval' },
    since: { type: 'string', arg: 'time', help: 'started at or after (ISO 8601, or a duration back from now: 24h, 7d)' },
    'page-size': { type: 'string', arg: 'n', help: `results per page (default ${LIST_HELP.defaultPageSize}, max ${LIST_HELP.maxPageSize})` },
    'page-token': { type: 'string', arg: 'token', help: 'continue from the token a previous page printed' },
    all: { type: 'boolean', help: 'every page' },
  },
  positionals: [0, 0],
  examples: ['drw list --status awaiting_approval', 'drw list --severity critical,high --pending-approval --json'],
  async run(ctx, { values }) {
    const { DEFAULT_PAGE_SIZE, ListQueryError, listPage, MAX_PAGE_SIZE } = await listModule();
    const pageSize = values['page-size'] === undefined ? DEFAULT_PAGE_SIZE : Number(values['page-size']);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw new UsageError(`--page-size: an integer from 1 to ${MAX_PAGE_SIZE}`);
    if (values.all && values['page-token']) throw new UsageError('--all and --page-token do not go together');
    const query = await listQueryOf(values);
    const client = await ctx.temporal();
    const items: RemediationListItem[] = [];
    let token = str(values['page-token']);
    let pages = 0;
    for (;;) {
      let page;
      try {
        page = await listPage(client, query, pageSize, token);
      } catch (e) {
        if (e instanceof ListQueryError) throw new UsageError(`--page-token: ${e.message.replace(/^\w+: /, '')}`);
        throw e;
      }
      pages++;
      items.push(...page.remediations);
      token = page.nextPageToken;
      if (!values.all || !token) break;
      ctx.progress(`${items.length} remediations so far (page ${pages})...`);
    }
    if (ctx.json) {
      ctx.outJson({ query, remediations: items, ...(token ? { nextPageToken: token } : {}) });
    } else {
      ctx.out(items.length ? listRows(items) : 'no remediations match');
      if (token) ctx.err(`more: drw list ... --page-token ${token}`);
    }
    return EXIT.ok;
  },
};

/** ISO time, or a duration back from now ("24h", "7d"). */
export function sinceTime(v: string, now = Date.now()): string {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/.exec(v.trim());
  if (m) return new Date(now - Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w']).toISOString();
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageError(`--since: an ISO date/time or a duration such as 24h or 7d (got "${v}")`);
  return new Date(t).toISOString();
}

function showText(v: any): string {
  const lines = [
    `${v.id}`,
    `  ${v.title}`,
    `  status ${v.status}${v.resolution ? ` (${v.resolution})` : ''} · severity ${v.severity} · risk ${v.riskScore} · ${v.findingCount} finding(s)`,
    `  asset ${v.asset?.id} (${v.asset?.type}${v.asset?.environment ? `, ${v.asset.environment}` : ''}) · source ${v.source} · rule ${v.rule}`,
    `  playbook ${v.plan?.playbook || '-'} · plan v${v.plan?.version} · policy ${v.plan?.policyVersion || '-'}`,
  ];
  if (v.facts) lines.push('  facts:', ...provenanceLines(v.facts).map((l) => `    ${l}`));
  if (v.slaDeadline) lines.push(`  SLA ${v.slaBreached ? 'BREACHED' : 'until'} ${v.slaDeadline}`);
  if (v.ticket) lines.push(`  ticket ${v.ticket.system} ${v.ticket.ticketId}${v.ticket.url ? ` ${v.ticket.url}` : ''}`);
  lines.push('', 'Plan:');
  lines.push(
    textTable(
      ['STEP', 'ACTION', 'STATUS', 'WHY', 'APPROVAL / NOTE'],
      (v.plan?.steps ?? []).map((s: any) => [
        s.id,
        s.action,
        s.status,
        s.reason?.rule ?? '',
        [s.approval ? `needs ${[...s.approval.users, ...s.approval.groups.map((g: string) => `@${g}`)].join(' or ')}${s.approval.quorum > 1 ? ` (quorum ${s.approval.quorum})` : ''}${s.approval.approvedBy?.length ? `; approved by ${s.approval.approvedBy.join(', ')}` : ''}` : '', s.note ?? ''].filter(Boolean).join('; '),
      ]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  // What an approval binds to: the step's digest, and what it acts on.
  const reviewable = (v.plan?.steps ?? []).filter((s: any) => s.approval || s.target);
  if (reviewable.length) {
    lines.push('', 'Targets and digests (an approval is for this content):');
    for (const s of reviewable) {
      const t = s.target ? `${s.target.kind} ${s.target.id}${s.target.name ? ` (${s.target.name})` : ''} via ${s.target.via}` : 'no resolved target';
      lines.push(`  ${s.id}  ${t}  digest ${s.digest ?? '-'}`);
      const c = s.target?.change;
      // The change itself, for the step an approver is asked about: what the pull request will push.
      if (c && s.status === 'awaiting_approval') {
        lines.push(`    change ${c.digest} on ${c.base} at ${String(c.baseCommit).slice(0, 12)}${c.summary ? `: ${c.summary}` : ''}`);
        if (c.diff) lines.push(...String(c.diff).trimEnd().split('\n').map((l: string) => `    ${l}`), ...(c.truncated ? ['    … (diff cut at 16 KiB; the digest covers the whole change)'] : []));
      }
    }
  }
  const decisions = (v.decisions ?? []) as any[];
  if (decisions.length) {
    lines.push('', `Decisions (last ${Math.min(10, decisions.length)} of ${decisions.length}):`);
    for (const d of decisions.slice(-10)) lines.push(`  ${d.at}  ${d.kind.padEnd(20)} ${d.summary}${d.by ? ` (by ${d.by})` : ''}`);
  }
  return lines.join('\n');
}

export const show: CommandSpec = {
  name: 'show',
  summary: 'Show a remediation: status, facts, plan with reasons, recent decisions',
  usage: ['drw show <id>'],
  description: 'Reads GET /v1/remediations/{id} from the drw API (DRW_API_URL, DRW_TOKEN).',
  options: {},
  positionals: [1, 1],
  async run(ctx, { positionals }) {
    const id = remediationId(positionals[0]);
    const res = await ctx.api('GET', `/v1/remediations/${encodeURIComponent(id)}`);
    ctx.check(res, id);
    if (ctx.json) ctx.outJson(res.body);
    else ctx.out(showText(res.body));
    return EXIT.ok;
  },
};

/** A short step id ("contain") becomes the plan's full id ("edr-malware.contain") when unambiguous. */
async function resolveStep(ctx: Ctx, id: string, step: string): Promise<string> {
  if (step.includes('.')) return step;
  const res = await ctx.api('GET', `/v1/remediations/${encodeURIComponent(id)}`);
  ctx.check(res, id);
  const ids: string[] = (res.body?.plan?.steps ?? []).map((s: any) => String(s.id));
  const hits = ids.filter((s) => s === step || s.endsWith(`.${step}`));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) throw new UsageError(`step "${step}" is ambiguous: ${hits.join(', ')}`);
  throw new CliError(EXIT.refused, `${id} has no step "${step}"; steps: ${ids.join(', ') || '(none)'}`);
}

async function currentDigest(ctx: Ctx, id: string, step: string): Promise<string | undefined> {
  const res = await ctx.api('GET', `/v1/remediations/${encodeURIComponent(id)}`);
  ctx.check(res, id);
  return (res.body?.plan?.steps ?? []).find((s: any) => s.id === step)?.digest;
}

function decideCmd(kind: 'approve' | 'deny'): CommandSpec {
  return {
    name: kind,
    summary: kind === 'approve' ? 'Approve a plan step awaiting approval' : 'Deny a plan step awaiting approval (it is skipped)',
    usage: [`drw ${kind} <id> <step> --reason <text> [--digest <sha256>] [--as <user>] [--groups <a,b>]`],
    description: [
      'Calls the workflow update through the drw API; the answer is the re-planned plan.',
      'The approver is --as, else DRW_USER, else your OS user name; --groups are the groups you act as.',
      'With DRW_TOKEN set (an API with person authentication), identity and groups come from the token: omit --as/--groups.',
      'A short step id (contain) is resolved to the plan step (edr-malware.contain).',
      '--digest is the step digest you reviewed (drw show); without it the current one is read and printed. A step',
      'that changed since (another digest) is refused: exit 4, and the step as it is now is shown.',
      'Exit 4 when the approval is refused (not authorized, self-approval, not awaiting approval).',
    ].join('\n'),
    options: {
      reason: { type: 'string', arg: 'text', help: 'why (required; recorded in the history)' },
      as: { type: 'string', arg: 'user', help: 'approver identity' },
      groups: { type: 'string', multiple: true, arg: 'a,b', help: 'groups of the approver' },
      digest: { type: 'string', arg: 'sha256', help: 'the step digest you reviewed (drw show)' },
    },
    positionals: [2, 2],
    examples: [`drw ${kind} drw-crowdstrike-web-1-… contain --reason "confirmed by SOC" --as alice --groups secops`],
    async run(ctx, { values, positionals }) {
      const id = remediationId(positionals[0]);
      const reason = str(values.reason)?.trim();
      if (!reason) throw new UsageError(`--reason is required: say why you ${kind}`);
      // With a token (DRW_TOKEN) the API takes who and the groups from it: send them only when given.
      const token = Boolean(ctx.io.env.DRW_TOKEN?.trim());
      const approver = token && !str(values.as) ? undefined : ctx.identity(str(values.as));
      const groups = token && values.groups === undefined ? undefined : list(values.groups);
      const step = await resolveStep(ctx, id, positionals[1]);
      const digest = str(values.digest)?.trim().toLowerCase() ?? (await currentDigest(ctx, id, step));
      if (digest !== undefined && !/^[0-9a-f]{64}$/.test(digest)) throw new UsageError('--digest is the 64 hexadecimal characters drw show prints for the step');
      if (!str(values.digest) && digest && !ctx.json) ctx.err(`${kind === 'approve' ? 'approving' : 'denying'} ${step} at digest ${digest} (its content now; pass --digest to bind to what you reviewed)`);
      const res = await ctx.api('POST', `/v1/remediations/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/${kind}`, { ...(approver ? { approver } : {}), ...(groups ? { groups } : {}), reason, ...(digest ? { digest } : {}) });
      ctx.check(res, `${kind} ${step}`);
      const plan = res.body?.plan;
      if (ctx.json) {
        ctx.outJson(res.body);
      } else {
        const s = (plan?.steps ?? []).find((x: any) => x.id === step);
        ctx.out(`${kind === 'approve' ? 'approved' : 'denied'} ${step} of ${id}${approver ? ` as ${approver}` : ' (identity from the token)'}: step now ${s?.status ?? '?'}${s?.note ? ` (${s.note})` : ''}; plan v${plan?.version}`);
      }
      return EXIT.ok;
    },
  };
}

export const approve = decideCmd('approve');
export const deny = decideCmd('deny');

export const risk: CommandSpec = {
  name: 'risk',
  summary: "Change a remediation's risk score (the plan is re-built)",
  usage: ['drw risk <id> <score> --reason <text> [--as <user>]'],
  description: 'Sends riskScoreChanged through the drw API. Score 0-100.',
  options: {
    reason: { type: 'string', arg: 'text', help: 'why (required)' },
    as: { type: 'string', arg: 'user', help: 'who changes it (default DRW_USER or your OS user)' },
  },
  positionals: [2, 2],
  async run(ctx, { values, positionals }) {
    const id = remediationId(positionals[0]);
    const score = Number(positionals[1]);
    if (positionals[1].trim() === '' || !Number.isFinite(score) || score < 0 || score > 100) throw new UsageError(`<score>: a number from 0 to 100 (got "${positionals[1]}")`);
    const reason = str(values.reason)?.trim();
    if (!reason) throw new UsageError('--reason is required');
    const by = ctx.io.env.DRW_TOKEN?.trim() && !str(values.as) ? undefined : ctx.identity(str(values.as));
    const res = await ctx.api('POST', `/v1/remediations/${encodeURIComponent(id)}/risk`, { riskScore: score, reason, ...(by ? { by } : {}) });
    ctx.check(res, id);
    if (ctx.json) ctx.outJson(res.body);
    else ctx.out(`risk score of ${id} → ${score} (signal accepted; the plan is re-built)`);
    return EXIT.ok;
  },
};

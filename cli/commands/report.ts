/** `drw report`, `drw report aggregate` (or --all), `drw history export`. */
import { openArchive, readArchivedHistory } from '../../audit';
import { writeFileSync } from 'node:fs';
import { REMEDIATION_ID_PATTERN } from '../../domain/ids';
import { aggregate, renderAggregate } from '../../report/aggregate';
import { buildReport, type RemediationReport } from '../../report/build';
import { fetchChainOrArchived, NotFoundError, reportFromServer } from '../../report/fetch';
import { chainText, HistoryFormatError, runsFromText } from '../../report/history';
import { isReportFormat, REPORT_FORMATS, renderReport, type ReportFormat } from '../../report/render';
import { CliError, EXIT, list, str, UsageError, type CommandSpec, type Ctx, type ParsedArgs } from './common';
import { LIST_FILTER_OPTIONS, listQueryOf, sinceTime } from './remediations';

function formatOf(ctx: Ctx, values: ParsedArgs['values']): ReportFormat {
  const f = str(values.format) ?? (ctx.json ? 'json' : 'md');
  if (!isReportFormat(f)) throw new UsageError(`--format: one of ${REPORT_FORMATS.join(', ')} (got "${f}")`);
  return f;
}

function idArg(v: string): string {
  if (!REMEDIATION_ID_PATTERN.test(v)) throw new CliError(EXIT.notFound, `no remediation ${v} (ids look like drw-<key>-<hash>)`);
  return v;
}

async function orNotFound<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof NotFoundError) throw new CliError(EXIT.notFound, e.message);
    throw e;
  }
}

/** Writes to --out (saying so on stderr) or stdout, byte for byte. */
function emit(ctx: Ctx, text: string, out: string | undefined, what: string): void {
  if (!out) {
    ctx.raw(text);
    if (!text.endsWith('\n') && !/^\s*[[{]/.test(text)) ctx.raw('\n');
    return;
  }
  const file = ctx.resolve(out);
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new CliError(EXIT.failure, `${out}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  ctx.progress(`wrote ${what} to ${out}`);
}

async function aggregateRun(ctx: Ctx, values: ParsedArgs['values']): Promise<number> {
  const format = formatOf(ctx, values);
  const since = str(values.since) ? sinceTime(str(values.since)!) : undefined;
  const query = await listQueryOf(values);
  const client = await ctx.temporal();
  const { listAll } = await import('../../api/routes/list');
  ctx.progress(`listing remediations (${query})...`);
  const ids: string[] = [];
  for await (const item of listAll(client, query)) ids.push(item.id);
  const unique = [...new Set(ids)];
  const reports: RemediationReport[] = [];
  let n = 0;
  for (const id of unique) {
    n++;
    ctx.progress(`[${n}/${unique.length}] reading the history of ${id}`);
    try {
      reports.push((await reportFromServer(client, id, { archive: openArchive(ctx.config().audit) })).report);
    } catch (e) {
      ctx.err(`drw: ${id}: skipped: ${(e as Error).message}`);
    }
  }
  // Remediations whose history Temporal no longer keeps are still in the sealed archive.
  const archive = openArchive(ctx.config().audit);
  if (archive) {
    const listed = new Set(unique);
    const archivedIds = new Set<string>();
    for await (const r of archive.scan()) {
      const m = r.stored?.record.metadata;
      if (m && !listed.has(m.remediationId) && (!since || (m.closedAt ?? '') >= since)) archivedIds.add(m.remediationId);
    }
    // The same filters as the visibility query, on what the archived history says.
    const wanted = (r: RemediationReport) =>
      (!values.asset || r.detection?.asset.id === str(values.asset)) &&
      (!values.status || list(values.status).includes(r.outcome.status ?? '')) &&
      (!values.severity || list(values.severity).includes(r.outcome.severity ?? r.detection?.severity ?? ''));
    for (const id of archivedIds) {
      const runs = await readArchivedHistory(archive, id);
      const r = runs?.length ? buildReport(runs, { workflowId: id }) : undefined;
      if (r && wanted(r)) reports.push(r);
    }
  }
  const a = aggregate(reports, { since });
  emit(ctx, renderAggregate(a, format), str(values.out), `the aggregate report of ${a.total} remediations (sha256 ${a.sha256})`);
  return EXIT.ok;
}

const reportOptions = {
  format: { type: 'string' as const, arg: 'md|json|csv', help: 'output format (default md; json with --json)' },
  out: { type: 'string' as const, arg: 'file', help: 'write to a file instead of stdout' },
};

export const report: CommandSpec = {
  name: 'report',
  summary: 'Audit report of a remediation, built from its Temporal event history (md, json or csv, with the history SHA-256)',
  usage: ['drw report <id> [--format md|json|csv] [--out <file>] [--run <runId>]', 'drw report --from <history-file> [--format md|json|csv]', 'drw report --all [--since <time>] [--format md|json|csv]'],
  description: [
    'The timeline covers detections and repeats, every plan version with its reasons and diff, approvals and denials',
    '(who, when, why), actions and results, verification, SLA, compensations; it follows continue-as-new runs.',
    'The report carries the SHA-256 of the history JSON (`drw history export` writes exactly those bytes).',
    '--from builds it offline from an exported history; --all (or `drw report aggregate`) reports over many remediations.',
  ].join('\n'),
  options: {
    ...reportOptions,
    run: { type: 'string', arg: 'runId', help: 'any run of the chain (default: the latest)' },
    from: { type: 'string', arg: 'file', help: 'build from an exported history file (no server)' },
    all: { type: 'boolean', help: 'aggregate report over every remediation (same as `drw report aggregate`)' },
    since: { type: 'string', arg: 'time', help: 'with --all: remediations started since (ISO time, or 24h, 7d)' },
    ...LIST_FILTER_OPTIONS,
  },
  positionals: [0, 1],
  examples: ['drw report drw-crowdstrike-web-1-… --format md --out report.md', 'drw report --all --since 7d --format csv'],
  async run(ctx, args) {
    const { values, positionals } = args;
    if (values.all) {
      if (positionals.length || values.from || values.run) throw new UsageError('--all reports over every remediation: no <id>, --from or --run with it');
      return aggregateRun(ctx, values);
    }
    if (values.since || values.status || values.severity || values.asset) throw new UsageError('--since, --status, --severity and --asset go with --all');
    const format = formatOf(ctx, values);
    let r: RemediationReport;
    if (str(values.from)) {
      if (positionals.length) throw new UsageError('--from builds from a file: no <id> with it');
      const { text, name } = await ctx.readInput(str(values.from)!);
      try {
        r = buildReport(runsFromText(text).runs);
      } catch (e) {
        if (e instanceof HistoryFormatError) throw new CliError(EXIT.failure, `${name}: ${e.message}`);
        throw e;
      }
    } else {
      if (positionals.length !== 1) throw new UsageError('usage: drw report <id> (or --from <file>, or --all)');
      const id = idArg(positionals[0]);
      const client = await ctx.temporal();
      ({ report: r } = await orNotFound(() => reportFromServer(client, id, { runId: str(values.run), progress: (m) => ctx.progress(m), archive: openArchive(ctx.config().audit) })));
    }
    emit(ctx, renderReport(r, format), str(values.out), `the ${format} report of ${r.id} (history sha256 ${r.history.sha256})`);
    return EXIT.ok;
  },
};

export const reportAggregate: CommandSpec = {
  name: 'report aggregate',
  summary: 'Report over many remediations: mean time to remediate, open by severity, SLA breaches, approval wait times',
  usage: ['drw report aggregate [--since <time>] [--status <s>] [--severity <s>] [--asset <id>] [--format md|json|csv] [--out <file>]'],
  description: 'Reads every remediation (started since --since, with the filters of drw list) from Temporal visibility and builds each report from its history.',
  options: { ...reportOptions, since: { type: 'string', arg: 'time', help: 'started since (ISO time, or 24h, 7d)' }, ...LIST_FILTER_OPTIONS },
  positionals: [0, 0],
  async run(ctx, { values }) {
    return aggregateRun(ctx, values);
  },
};

export const historyExport: CommandSpec = {
  name: 'history export',
  summary: "Export a remediation's Temporal event history JSON (as the Temporal UI downloads it)",
  usage: ['drw history export <id> [--out <file>] [--run <runId>] [--chain]'],
  description: [
    'Writes historyToJSON output byte for byte: Worker.runReplayHistory / historyFromJSON read it back, and its SHA-256',
    'is the digest reports carry. Default: the latest run. --chain writes every run of a continue-as-new chain as',
    '{"drwHistoryChain":1,"workflowId":...,"runs":[{"runId":...,"history":{...}}]} (what `drw report --from` and',
    '`drw policy whatif` read best).',
  ].join('\n'),
  options: {
    out: { type: 'string', arg: 'file', help: 'write to a file instead of stdout' },
    run: { type: 'string', arg: 'runId', help: 'a specific run' },
    chain: { type: 'boolean', help: 'every run of the continue-as-new chain' },
  },
  positionals: [1, 1],
  async run(ctx, { values, positionals }) {
    const id = idArg(positionals[0]);
    const client = await ctx.temporal();
    const runId = str(values.run);
    if (values.chain) {
      const { runs } = await orNotFound(() => fetchChainOrArchived(client, id, { runId, progress: (m) => ctx.progress(m), archive: openArchive(ctx.config().audit) }));
      const text = chainText(id, runs);
      const digest = runsFromText(text).sha256;
      emit(ctx, text, str(values.out), `${runs.length} run(s), ${runs.reduce((n, r) => n + r.events.length, 0)} events (sha256 ${digest})`);
      return EXIT.ok;
    }
    ctx.progress(`fetching the history of ${id}${runId ? ` run ${runId}` : ''}...`);
    // Past Temporal's retention, the sealed archive's copy (the same history, digest-checked): `drw policy whatif` still has its input.
    const { runs } = await orNotFound(() => fetchChainOrArchived(client, id, { runId, archive: openArchive(ctx.config().audit) }));
    const run = runId ? runs.find((r) => r.runId === runId) ?? runs[runs.length - 1] : runs[runs.length - 1];
    if (runs.length > 1) ctx.progress(`this remediation has ${runs.length} runs (continue-as-new); exporting run ${run.runId} only — use --chain for all`);
    emit(ctx, run.text, str(values.out), `${run.events.length} events of run ${run.runId} (sha256 ${run.sha256})`);
    if (!str(values.out)) ctx.progress(`${run.events.length} events of run ${run.runId} (sha256 ${run.sha256})`);
    return EXIT.ok;
  },
};

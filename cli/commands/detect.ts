import { detectionSchema, type Detection } from '../../domain/detection';
import { detectFormat, FORMAT_NAMES, IngestError, isFormatName, parseBody } from '../../ingest';
import { CliError, EXIT, list, str, UsageError, type CommandSpec, type Ctx } from './common';

/** What a detection file holds: drw detections (one or a list), or a vendor payload of a format. */
export function classifyPayload(text: string, format: string | undefined, headers: Record<string, string>): { format: 'drw'; detections: Detection[] } | { format: string } {
  let value: unknown;
  try {
    value = parseBody(text);
  } catch (e) {
    throw new CliError(EXIT.failure, e instanceof IngestError ? e.message : `not JSON: ${(e as Error).message}`);
  }
  const asDrw = (): Detection[] | undefined => {
    const items = Array.isArray(value) ? value : [value];
    const parsed = items.map((i) => detectionSchema.safeParse(i));
    return items.length > 0 && parsed.every((p) => p.success) ? parsed.map((p) => p.data!) : undefined;
  };
  if (format === 'drw') {
    const d = asDrw();
    if (d) return { format: 'drw', detections: d };
    const items = Array.isArray(value) ? value : [value];
    const problems = items.flatMap((i, n) => {
      const r = detectionSchema.safeParse(i);
      return r.success ? [] : r.error.issues.map((x) => ({ path: `${items.length > 1 ? `[${n}].` : ''}${x.path.join('.')}`, message: x.message }));
    });
    throw new CliError(EXIT.failure, 'not a valid drw detection', problems);
  }
  if (format) return { format };
  const d = asDrw();
  if (d) return { format: 'drw', detections: d };
  const guessed = detectFormat(value, headers);
  if (!guessed) throw new CliError(EXIT.failure, `cannot tell the format of this payload: not a drw detection and not one of ${FORMAT_NAMES.join(', ')}; pass --format`);
  return { format: guessed };
}

function headersOf(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of values) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header "${h}": use name:value`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return out;
}

function printOutcomes(ctx: Ctx, body: any): void {
  for (const r of body?.remediations ?? []) ctx.out(`${r.outcome} ${r.id}${r.reason ? ` (${r.reason})` : ''}`);
  for (const s of body?.skipped ?? []) ctx.out(`skipped ${s.ref ?? ''}: ${s.reason}`);
}

export const detect: CommandSpec = {
  name: 'detect',
  summary: 'Submit a detection to the drw API (starts or signals a remediation)',
  usage: ['drw detect <file|-> [--format <name>] [--header <name:value>]...'],
  description: [
    "drw JSON (one detection, or a list) goes to POST /v1/detections; other formats to POST /v1/detections/{format}.",
    `Without --format the format is detected from the payload (drw, ${FORMAT_NAMES.join(', ')}).`,
    'API: DRW_API_URL (default http://127.0.0.1:8080), bearer token DRW_TOKEN.',
  ].join('\n'),
  options: {
    format: { type: 'string', arg: 'name', help: `drw or one of ${FORMAT_NAMES.join(', ')}` },
    header: { type: 'string', multiple: true, arg: 'name:value', help: 'HTTP header for vendor payloads (e.g. X-GitHub-Event:code_scanning_alert)' },
  },
  positionals: [1, 1],
  examples: ['drw detect finding.json', 'cat falco.ndjson | drw detect - --format falco'],
  async run(ctx, { values, positionals }) {
    const format = str(values.format);
    if (format !== undefined && format !== 'drw' && !isFormatName(format)) throw new UsageError(`--format: drw or one of ${FORMAT_NAMES.join(', ')} (got "${format}")`);
    const headers = headersOf(list(values.header));
    const { text, name } = await ctx.readInput(positionals[0]);
    const kind = classifyPayload(text, format, headers);
    if (kind.format === 'drw' && 'detections' in kind) {
      const outcomes: unknown[] = [];
      let i = 0;
      for (const d of kind.detections) {
        i++;
        if (kind.detections.length > 1) ctx.progress(`submitting ${i}/${kind.detections.length}: ${d.rule} on ${d.asset.id}`);
        const res = await ctx.api('POST', '/v1/detections', d);
        ctx.check(res, `${name}${kind.detections.length > 1 ? ` [${i - 1}]` : ''}`);
        outcomes.push(...(res.body?.remediations ?? []));
        if (!ctx.json) printOutcomes(ctx, res.body);
      }
      if (ctx.json) ctx.outJson({ format: 'drw', remediations: outcomes });
      return EXIT.ok;
    }
    ctx.progress(`${name}: ${format ? '' : 'detected '}format ${kind.format}`);
    const res = await ctx.api('POST', `/v1/detections/${encodeURIComponent(kind.format)}`, text, headers);
    if (res.status === 404 && !(res.body && typeof res.body === 'object' && /format/i.test(String(res.body.error ?? '')))) {
      throw new CliError(EXIT.notFound, `the API at ${ctx.apiUrl()} has no route POST /v1/detections/${kind.format}: ${res.body?.error ?? 'not found'}`);
    }
    ctx.check(res, name);
    if (ctx.json) ctx.outJson({ format: kind.format, ...(typeof res.body === 'object' ? res.body : { response: res.body }) });
    else printOutcomes(ctx, res.body);
    return EXIT.ok;
  },
};

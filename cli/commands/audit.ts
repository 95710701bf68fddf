/** `drw audit verify`, `drw audit export`, `drw codec-server`: the sealed archive and the payload codec. */
import { openArchive, type Archive } from '../../audit';
import { startCodecServer } from '../../audit/codec-server';
import { verifyArchive } from '../../audit/verify';
import { CliError, EXIT, str, UsageError, type CommandSpec, type Ctx } from './common';
import type { DrwConfig } from '../../common/config';
import { payloadCodecOf } from '../../common/temporal';
import { sinceTime } from './remediations';

function archiveOf(ctx: Ctx): Archive {
  const a = openArchive(ctx.config().audit);
  if (!a) throw new UsageError('DRW_ARCHIVE=off: no archive to read');
  return a;
}


export const auditVerify: CommandSpec = {
  name: 'audit verify',
  summary: 'Verify the sealed audit archive: every record digest, the hash chain, and each record against Temporal while it has the run',
  usage: ['drw audit verify [--offline] [--json]'],
  description: [
    'Reads the archive (DRW_ARCHIVE: a folder or s3://bucket/prefix) in chain order and stops at the first broken link:',
    'a record whose bytes do not hash to its digest, that does not name its predecessor\'s digest, a missing position,',
    'or a history that does not match the digest in its metadata. Unless --offline, each record whose run Temporal still',
    'has is compared with that history too. Exit 0 when the whole chain verifies, 1 at a broken link.',
  ].join('\n'),
  options: { offline: { type: 'boolean', help: 'check the archive alone, without Temporal' } },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const archive = archiveOf(ctx);
    const client = values.offline ? undefined : await ctx.temporal();
    ctx.progress(`verifying ${archive.location}${client ? ' (and against Temporal)' : ''}...`);
    const r = await verifyArchive(archive, { client, codec: payloadCodecOf(ctx.config()), progress: (m) => ctx.progress(m) });
    if (ctx.json) ctx.outJson({ archive: archive.location, ...r });
    else if (r.ok) {
      ctx.out(`ok: ${r.records} records, chain intact${r.head ? ` (head ${r.head.seq}, ${r.head.digest})` : ''}`);
      if (client) ctx.out(`   ${r.matchedTemporal} matched Temporal's history, ${r.goneFromTemporal} no longer in Temporal`);
    } else ctx.out(`BROKEN at record ${r.broken!.seq} (${r.broken!.key}): ${r.broken!.reason}\n   ${r.records} records before it verified`);
    return r.ok ? EXIT.ok : EXIT.failure;
  },
};

export const auditExport: CommandSpec = {
  name: 'audit export',
  summary: 'Stream sealed records as JSON lines (for a SIEM): history, report, metadata, chain digests',
  usage: ['drw audit export [--since <time>] [--until <time>]'],
  description: 'One record per line on stdout, in chain order, each digest-checked; --since/--until select by the run\'s close time.',
  options: {
    since: { type: 'string', arg: 'time', help: 'runs closed at or after (ISO time, or 24h, 7d)' },
    until: { type: 'string', arg: 'time', help: 'runs closed before (ISO time)' },
  },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const since = str(values.since) ? sinceTime(str(values.since)!) : undefined;
    const until = str(values.until) ? sinceTime(str(values.until)!) : undefined;
    const archive = archiveOf(ctx);
    let n = 0;
    for await (const item of archive.scan()) {
      if (!item.stored) throw new CliError(EXIT.failure, `${item.key}: ${item.error ?? 'unreadable'} (run drw audit verify)`);
      const { record, digest } = item.stored;
      const closed = record.metadata.closedAt ?? record.sealedAt;
      if ((since && closed < since) || (until && closed >= until)) continue;
      ctx.raw(`${JSON.stringify({ ...record, digest })}\n`);
      n++;
    }
    ctx.progress(`exported ${n} records from ${archive.location}`);
    return EXIT.ok;
  },
};

/**
 * With person authentication configured (DRW_JWT_*), the Temporal UI's "pass access token" works:
 * the user's JWT is verified like the API does and must grant `read` (policies/access.yaml).
 */
export async function personAuthorizer(cfg: DrwConfig): Promise<((authorization: string | undefined) => Promise<boolean>) | undefined> {
  const { createAuth } = await import('../../api/auth');
  const { loadAccessPolicy } = await import('../../api/auth/access');
  const auth = createAuth(cfg.auth, { access: loadAccessPolicy(cfg.api.accessPolicy) });
  if (!auth.users) return undefined;
  return async (authorization) => {
    if (!authorization) return false;
    await auth.authorize({ headers: { authorization } }, 'read', async () => Buffer.alloc(0));
    return true;
  };
}

export const codecServer: CommandSpec = {
  name: 'codec-server',
  summary: 'Serve the payload codec (Temporal remote codec protocol) for the Temporal Web UI and `temporal workflow show`',
  usage: ['drw codec-server [--host <ip>] [--port <n>]'],
  description: [
    'POST /encode and /decode with {"payloads":[...]}, CORS for DRW_CODEC_CORS_ORIGINS (default: the Temporal UI\'s origin).',
    'In the UI: Settings → Codec Server → http://127.0.0.1:8888. With the CLI: temporal workflow show -w <id> --codec-endpoint http://127.0.0.1:8888.',
    'It decompresses (DRW_PAYLOAD_COMPRESSION) and decrypts (DRW_CODEC_KEYS) what drw\'s workers encoded.',
    'Beyond loopback it needs DRW_CODEC_SERVER_TOKEN (sent as Authorization: Bearer) or person',
    'authentication (DRW_JWT_*): the UI\'s "pass access token" sends the user\'s JWT, which must grant read.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'ip', help: 'listen address (DRW_CODEC_SERVER_HOST, 127.0.0.1)' },
    port: { type: 'string', arg: 'n', help: 'port (DRW_CODEC_SERVER_PORT, 8888)' },
  },
  positionals: [0, 0],
  async run(ctx, { values }) {
    const cfg = ctx.config();
    const codec = payloadCodecOf(cfg);
    const port = str(values.port) !== undefined ? Number(values.port) : cfg.audit.codecServer.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: a port number (got "${str(values.port)}")`);
    let srv;
    try {
      const authorize = await personAuthorizer(cfg);
      srv = await startCodecServer({
        ...cfg.audit.codecServer,
        host: str(values.host) ?? cfg.audit.codecServer.host,
        port,
        codec,
        namespace: cfg.temporal.namespace,
        ...(authorize ? { authorize } : {}),
      });
    } catch (e) {
      throw new CliError(EXIT.failure, (e as Error).message);
    }
    ctx.progress(`codec server on ${srv.url} for namespace ${cfg.temporal.namespace} (CORS: ${cfg.audit.codecServer.corsOrigins.join(', ')}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await srv.close();
    return EXIT.ok;
  },
};

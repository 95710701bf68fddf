/**
 * What every `drw` command shares: its I/O (injectable, so tests run the CLI in-process),
 * exit codes, argument parsing with node:util parseArgs, help text, the HTTP API client
 * (DRW_API_URL, bearer token from DRW_TOKEN) and the Temporal connection (common/config).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Client } from '@temporalio/client';
import { ConfigError, loadConfig, type DrwConfig } from '../../common/config';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, refused: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.usage, message);
    this.name = 'UsageError';
  }
}

export interface Io {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): Promise<string>;
  /** Temporal client for commands that read visibility or history; tests may inject one. */
  temporal?: () => Promise<{ client: Client; close(): Promise<void> }>;
}

export function processIo(): Io {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in help: `--reason <text>`. */
  arg?: string;
  help: string;
}

export interface CommandSpec {
  /** "approve", "policy validate", ... */
  name: string;
  summary: string;
  usage: string[];
  description?: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: min, max (Infinity for a list). */
  positionals: [number, number];
  examples?: string[];
  run(ctx: Ctx, args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'machine-readable JSON on stdout' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: ParseArgsConfig['options'] = {};
  for (const [k, o] of Object.entries({ ...spec.options, ...COMMON_OPTIONS })) {
    options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
  const values = parsed.values as ParsedArgs['values'];
  if (values.help) return { values, positionals: parsed.positionals };
  const [min, max] = spec.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`missing argument${min - parsed.positionals.length > 1 ? 's' : ''}: usage: ${spec.usage[0]}`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}": usage: ${spec.usage[0]}`);
  return { values, positionals: parsed.positionals };
}

export function commandHelp(spec: CommandSpec): string {
  const lines = ['Usage:', ...spec.usage.map((u) => `  ${u}`), '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  const opts = Object.entries({ ...spec.options, ...COMMON_OPTIONS });
  lines.push('', 'Options:');
  const left = opts.map(([k, o]) => `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` <${o.arg ?? 'value'}>` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  opts.forEach(([, o], i) => lines.push(`  ${left[i].padEnd(width)}${o.help}${o.multiple ? ' (repeatable)' : ''}`));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  lines.push('', EXIT_HELP);
  return lines.join('\n') + '\n';
}

export const EXIT_HELP = 'Exit codes: 0 ok, 1 failure or validation error, 2 usage error, 3 not found, 4 refused or unauthorized.';

export function str(v: ParsedArgs['values'][string]): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function list(v: ParsedArgs['values'][string]): string[] {
  const raw = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
  return raw.flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);
}

// ---- context ----

export class Ctx {
  private cfg?: DrwConfig;
  private temporalConn?: { client: Client; close(): Promise<void> };
  json = false;

  constructor(readonly io: Io) {}

  out(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  raw(text: string): void {
    this.io.stdout(text);
  }

  outJson(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  err(text: string): void {
    this.io.stderr(text.endsWith('\n') ? text : `${text}\n`);
  }

  progress(text: string): void {
    this.err(`drw: ${text}`);
  }

  resolve(p: string): string {
    return path.resolve(this.io.cwd, p);
  }

  config(): DrwConfig {
    if (this.cfg) return this.cfg;
    try {
      this.cfg = loadConfig(this.io.env);
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    return this.cfg;
  }

  /** Where the drw API is: DRW_API_URL, else DRW_API_HOST/DRW_API_PORT, else http://127.0.0.1:8080. */
  apiUrl(): string {
    const explicit = this.io.env.DRW_API_URL?.trim();
    if (explicit) {
      try {
        return new URL(explicit).toString().replace(/\/$/, '');
      } catch {
        throw new UsageError(`DRW_API_URL: not a URL: ${explicit}`);
      }
    }
    try {
      const c = loadConfig(this.io.env);
      return `http://${c.api.host.includes(':') ? `[${c.api.host}]` : c.api.host}:${c.api.port}`;
    } catch {
      return 'http://127.0.0.1:8080';
    }
  }

  /** Who the user is for approvals: --as, else DRW_USER, else the OS user. */
  identity(as: string | undefined): string {
    if (as && as.trim()) return as.trim();
    if (this.io.env.DRW_USER?.trim()) return this.io.env.DRW_USER.trim();
    try {
      return os.userInfo().username;
    } catch {
      throw new UsageError('cannot tell who you are: pass --as <user> or set DRW_USER');
    }
  }

  async temporal(): Promise<Client> {
    if (this.temporalConn) return this.temporalConn.client;
    if (this.io.temporal) {
      this.temporalConn = await this.io.temporal();
      return this.temporalConn.client;
    }
    const cfg = this.config();
    // Loaded on demand: most commands never talk to Temporal, and the SDK is slow to load.
    const { connectClient } = await import('../../common/temporal');
    try {
      const { client, connection } = await connectClient(cfg);
      this.temporalConn = { client, close: () => connection.close() };
    } catch (e) {
      throw new CliError(EXIT.failure, `cannot connect to Temporal at ${cfg.temporal.address} (namespace ${cfg.temporal.namespace}): ${(e as Error).message}`);
    }
    return this.temporalConn.client;
  }

  async close(): Promise<void> {
    const c = this.temporalConn;
    this.temporalConn = undefined;
    if (c) await c.close().catch(() => undefined);
  }

  /** Reads a file argument, or stdin for "-". */
  async readInput(arg: string): Promise<{ text: string; name: string }> {
    if (arg === '-') return { text: await this.io.readStdin(), name: 'stdin' };
    const file = this.resolve(arg);
    try {
      return { text: readFileSync(file, 'utf8'), name: arg };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CliError(EXIT.notFound, `${arg}: no such file`);
      throw new CliError(EXIT.failure, `${arg}: cannot read: ${code ?? (e as Error).message}`);
    }
  }

  // ---- HTTP API ----

  async api<T = any>(method: string, pathname: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const base = this.apiUrl();
    const url = `${base}${pathname}`;
    const token = this.io.env.DRW_TOKEN?.trim();
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(Number(this.io.env.DRW_API_TIMEOUT_MS ?? 60_000)),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(EXIT.failure, `cannot reach the drw API at ${base}: ${cause?.code ?? cause?.message ?? (e as Error).message} (set DRW_API_URL)`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed as T };
  }

  /** Throws the CliError an API refusal means (4xx/5xx), with the API's message. */
  check(res: { status: number; body: any }, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    const msg = typeof res.body === 'object' && res.body?.error ? String(res.body.error) : typeof res.body === 'string' && res.body ? res.body.slice(0, 300) : `HTTP ${res.status}`;
    const details = typeof res.body === 'object' ? res.body?.details : undefined;
    throw new CliError(httpExit(res.status), `${what}: ${msg}`, details);
  }
}

export function httpExit(status: number): ExitCode {
  if (status >= 200 && status < 300) return EXIT.ok;
  if (status === 401 || status === 403 || status === 409) return EXIT.refused;
  if (status === 404) return EXIT.notFound;
  return EXIT.failure;
}

export function formatDetails(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details.map((d) => (typeof d === 'object' && d ? `  ${(d as { path?: string }).path || '(body)'}: ${(d as { message?: string }).message ?? JSON.stringify(d)}` : `  ${String(d)}`));
}

/** Simple aligned text table. */
export function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

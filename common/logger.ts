import pino from 'pino';
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';

export type Logger = pino.Logger;

/** Keys whose values never reach a log line, wherever they appear. */
const REDACT = [
  '*.password',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.clientSecret',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
];

/** pino's error serializer, keeping a Temporal failure's own type (e.g. "jira.RateLimited") over the class name. */
function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const out = pino.stdSerializers.err(e) as unknown as Record<string, unknown>;
  const type = (e as { type?: unknown }).type;
  if (typeof type === 'string' && type) out.type = type;
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'drw' }, serializers: { err: serializeError, error: serializeError }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

const SDK_TO_PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/** Routes the Temporal SDK's own logs (worker, workflow `log`, core) through pino. Once per process. */
export function installSdkLogger(logger: Logger): void {
  if (installed) return;
  installed = true;
  const sdk = logger.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
      // Single-purpose workers (one per integration) are intended; the SDK's warning about it is noise.
      const lvl = /^No (workflows|activities|Nexus services) registered/.test(message) ? 'debug' : SDK_TO_PINO[level];
      sdk[lvl]((meta ?? {}) as LogMetadata, message);
    }),
    telemetryOptions: { logging: { forward: {}, filter: 'WARN' } },
  });
}

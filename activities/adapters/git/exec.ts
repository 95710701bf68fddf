import { execFile } from 'node:child_process';

/**
 * Runs git as a child process with an argument vector (never through a shell), with a
 * predictable environment, and turns failures into GitErrors whose text has every secret
 * removed, since git's stderr ends up in workflow histories and logs.
 */

export type GitErrorKind =
  /** Credentials missing, wrong or without access: retrying cannot help. */
  | 'auth'
  /** The repository or a branch it must have does not exist. */
  | 'not_found'
  /** A push lost a race (lease or fast-forward check): a retry sees the new state. */
  | 'rejected'
  /** Network trouble, remote 5xx, timeouts: transient. */
  | 'network'
  | 'other';

export class GitError extends Error {
  constructor(
    message: string,
    readonly kind: GitErrorKind,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface RunGitOptions {
  cwd?: string;
  /** Added to the sanitized base environment. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Strings that must never appear in an error (tokens, encoded headers). */
  secrets?: string[];
  /** Exit codes that are answers rather than failures (e.g. 1 for `diff --quiet`). */
  okExitCodes?: number[];
}

export interface GitResult {
  stdout: string;
  exitCode: number;
}

/** Variables that would point git at another repository or change how it behaves. */
const DROPPED_ENV = /^GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|NAMESPACE|COMMON_DIR|CEILING_DIRECTORIES|PREFIX|TRACE.*|CURL_VERBOSE)$/;

export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!DROPPED_ENV.test(k)) env[k] = v;
  return {
    ...env,
    // Stable English messages (they are classified below) and no interactive prompt ever:
    // an empty GIT_ASKPASS stops git from falling back to SSH_ASKPASS or core.askPass.
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    ...extra,
  };
}

export function redact(text: string, secrets: string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  // Credentials written into a URL by someone else (user:password@host) never leave either.
  return out.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

export function classifyGitFailure(stderr: string, timedOut: boolean): GitErrorKind {
  if (timedOut) return 'network';
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|Permission denied \(publickey|Invalid username or password|Write access to repository not granted|HTTP Basic: Access denied/i.test(stderr)) return 'auth';
  if (/stale info|\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref/i.test(stderr)) return 'rejected';
  if (/Could not resolve host|Connection (refused|reset|timed out)|Operation timed out|early EOF|RPC failed|returned error: 5\d\d|the remote end hung up|unable to access|SSL|gnutls|Failed to connect/i.test(stderr)) return 'network';
  if (/Repository not found|repository '.*' does not exist|does not appear to be a git repository|returned error: 404|Remote branch .* not found|couldn't find remote ref|not a git repository/i.test(stderr)) return 'not_found';
  return 'other';
}

export function runGit(args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  const secrets = opts.secrets ?? [];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd: opts.cwd, env: gitEnv(opts.env), timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, exitCode: 0 });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string };
        const exitCode = typeof e.code === 'number' ? e.code : null;
        if (exitCode !== null && opts.okExitCodes?.includes(exitCode)) return resolve({ stdout, exitCode });
        if (e.code === 'ENOENT') return reject(new GitError('git is not installed on this worker', 'other', null, ''));
        const timedOut = !!e.killed || e.signal === 'SIGTERM';
        const clean = redact(String(stderr ?? '').trim(), secrets);
        // Name the subcommand only: arguments can hold paths and refs but are kept short.
        const sub = args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? 'git';
        const what = timedOut ? `timed out after ${opts.timeoutMs ?? 120_000} ms` : `exited with ${exitCode ?? e.signal}`;
        reject(new GitError(`git ${sub} ${what}${clean ? `: ${clean.slice(-800)}` : ''}`, classifyGitFailure(clean, timedOut), exitCode, clean));
      },
    );
  });
}

/**
 * `drw`: the command line for drw. Submits detections, lists and shows remediations,
 * approves and denies steps, changes risk, previews plans, validates and tests policy,
 * replays histories through a candidate policy, builds audit reports from Temporal
 * history, verifies and exports the sealed audit archive, and serves the payload codec.
 * `main(argv, io)` runs in-process (tests); bin/drw.js calls `run()`.
 *
 * Exit codes: 0 ok, 1 failure or validation error, 2 usage, 3 not found, 4 refused/unauthorized.
 */
import { CliError, commandHelp, Ctx, EXIT, EXIT_HELP, formatDetails, parseCommandArgs, processIo, UsageError, type CommandSpec, type Io } from './commands/common';
import { detect } from './commands/detect';
import { plan } from './commands/plan';
import { policyPublish, policyTest, policyValidate, policyWhatif } from './commands/policy';
import { approve, deny, listCmd, risk, show } from './commands/remediations';
import { historyExport, report, reportAggregate } from './commands/report';
import { auditExport, auditVerify, codecServer } from './commands/audit';

export const COMMANDS: CommandSpec[] = [detect, listCmd, show, approve, deny, risk, plan, policyValidate, policyTest, policyWhatif, policyPublish, report, reportAggregate, historyExport, auditVerify, auditExport, codecServer];

/** Groups whose first word alone is not a command. */
const GROUPS: Record<string, string> = { policy: 'validate, test, whatif', history: 'export', audit: 'verify, export' };

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'drw — every detection a durable remediation workflow',
    '',
    'Usage: drw <command> [options]    (drw <command> --help for details)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Global options: --json (machine-readable output), -h/--help.',
    'Environment: DRW_API_URL (default http://127.0.0.1:8080), DRW_TOKEN (bearer token for the API), DRW_USER (your identity),',
    '  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, TEMPORAL_API_KEY (list, report, history), DRW_POLICY_DIR (plan, policy).',
    EXIT_HELP,
    '',
  ].join('\n');
}

/** Finds the command for argv: "policy validate ...", "report aggregate ...", "approve ...". */
export function findCommand(argv: string[]): { spec?: CommandSpec; rest: string[]; group?: string } {
  const [first, second] = argv;
  if (first && second && !second.startsWith('-')) {
    const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
    if (two) return { spec: two, rest: argv.slice(2) };
  }
  if (first && GROUPS[first]) return { rest: argv.slice(1), group: first };
  const one = COMMANDS.find((c) => c.name === first || (first === 'ls' && c.name === 'list'));
  return { spec: one, rest: argv.slice(1) };
}

export async function main(argv: string[], ioOverrides: Partial<Io> = {}): Promise<number> {
  const io: Io = { ...processIo(), ...ioOverrides };
  const ctx = new Ctx(io);
  ctx.json = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      if (argv[0] === 'help' && argv.length > 1) {
        const { spec } = findCommand(argv.slice(1));
        if (spec) {
          io.stdout(commandHelp(spec));
          return EXIT.ok;
        }
      }
      io.stdout(mainHelp());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    if (argv[0] === '--version') {
      io.stdout('drw 0.1.0\n');
      return EXIT.ok;
    }
    const { spec, rest, group } = findCommand(argv);
    if (!spec) {
      if (group) {
        const sub = rest[0];
        if (!sub || sub === '--help' || sub === '-h') {
          io.stdout(`Usage: drw ${group} <${GROUPS[group].split(', ').join('|')}> [options]\n\n${COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => `  ${c.name.padEnd(18)}${c.summary}`).join('\n')}\n`);
          return sub ? EXIT.ok : EXIT.usage;
        }
        throw new UsageError(`unknown command "drw ${group} ${sub}" (${GROUPS[group]})`);
      }
      throw new UsageError(`unknown command "${argv[0]}"; run drw --help`);
    }
    const args = parseCommandArgs(spec, rest);
    if (args.values.help) {
      io.stdout(commandHelp(spec));
      return EXIT.ok;
    }
    ctx.json = Boolean(args.values.json);
    return await spec.run(ctx, args);
  } catch (e) {
    if (e instanceof CliError) {
      if (ctx.json && e.code !== EXIT.usage) {
        io.stdout(`${JSON.stringify({ error: e.message, code: e.code, ...(e.details ? { details: e.details } : {}) }, null, 2)}\n`);
      }
      io.stderr(`drw: ${e.message}\n`);
      for (const l of formatDetails(e.details)) io.stderr(`${l}\n`);
      if (e.code === EXIT.usage) io.stderr('(drw --help, or drw <command> --help)\n');
      return e.code;
    }
    io.stderr(`drw: ${(e as Error)?.message ?? String(e)}\n`);
    if (io.env.DRW_DEBUG) io.stderr(`${(e as Error)?.stack ?? ''}\n`);
    return EXIT.failure;
  } finally {
    await ctx.close();
  }
}

/** Entry point for bin/drw.js. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`drw: ${(e as Error)?.message ?? String(e)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}

if (require.main === module) run();

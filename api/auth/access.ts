/**
 * Authorization per action: `policies/access.yaml` maps the groups (and, rarely, the user) of a
 * verified person to permissions. Every route declares the one permission it needs (api/route.ts);
 * ingest credentials grant `submit:<their source>` only. It also says which sources may join the
 * remediations another source opened (`correlate`, api/ownership.ts). Validated with zod at start,
 * like the playbooks: a bad file stops drw with the file, line and field named.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../common/config';
import { SUBMIT_SOURCES } from '../../ingest';
import { NATIVE_SOURCE } from '../../domain/channel';

export { NATIVE_SOURCE, SUBMIT_SOURCES };

/**
 * Ticketing systems that report a remediation's ticket changed (POST /v1/integrations/...):
 * `submit:jira`, `submit:servicenow`. They submit no findings, so they own no remediation and
 * take no part in `correlate`.
 */
export const TICKETING_SOURCES = ['jira', 'servicenow'] as const;
const PERMISSION_SOURCES: readonly string[] = [...SUBMIT_SOURCES, ...TICKETING_SOURCES];

export const ACTION_PERMISSIONS = ['read', 'operate', 'decide'] as const;
export type ActionPermission = (typeof ACTION_PERMISSIONS)[number];
/** What a route needs: an action, or submitting from one source. */
export type Permission = ActionPermission | `submit:${string}`;

const permissionSchema = z.string().refine((p) => (ACTION_PERMISSIONS as readonly string[]).includes(p) || p === 'submit:*' || (p.startsWith('submit:') && PERMISSION_SOURCES.includes(p.slice(7))), {
  message: `one of ${ACTION_PERMISSIONS.join(', ')}, submit:* or submit:<source> (${PERMISSION_SOURCES.join(', ')})`,
});
const grants = z.record(z.string().trim().min(1).max(200), z.array(permissionSchema).max(50));

const isSource = (s: unknown) => (SUBMIT_SOURCES as readonly string[]).includes(s as string);
const unknownSource = (s: unknown) => `unknown source "${String(s).slice(0, 100)}" (known: ${SUBMIT_SOURCES.join(', ')})`;
/** Owning source → the sources that may add repeats to and resolve what it opened (besides itself). */
const correlation = z
  .record(z.string(), z.array(z.string().refine(isSource, { error: (i) => unknownSource(i.input) })).max(SUBMIT_SOURCES.length))
  .superRefine((m, ctx) => {
    // The key's own issue, at the key: a record's key schema would only say "Invalid key in record".
    for (const k of Object.keys(m)) if (!isSource(k)) ctx.addIssue({ code: 'custom', path: [k], message: unknownSource(k) });
  });
export type Correlation = z.infer<typeof correlation>;

export const accessPolicySchema = z
  .object({
    version: z.literal(1),
    groups: grants.default({}),
    users: grants.nullish().transform((u) => u ?? {}),
    correlate: correlation.nullish().transform((c) => c ?? {}),
  })
  .strict();
export type AccessPolicy = z.infer<typeof accessPolicySchema>;

/** Reads and validates the access policy; throws ConfigError naming the file, line and field. */
export function loadAccessPolicy(file: string): AccessPolicy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`DRW_ACCESS_POLICY: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseAccessPolicy(text, file);
}

export function parseAccessPolicy(text: string, file: string): AccessPolicy {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError(doc.errors.map((e) => `${file}:${lc.linePos(e.pos[0]).line}: YAML: ${e.message.split('\n')[0]}`));
  const r = accessPolicySchema.safeParse(doc.toJS());
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((i) => {
      const node = doc.getIn(i.path as (string | number)[], true) as { range?: [number] } | undefined;
      const line = node?.range ? `:${lc.linePos(node.range[0]).line}` : '';
      return `${file}${line}: ${i.path.join('.') || '(top level)'}: ${i.message}`;
    }),
  );
}

/** The permissions a verified person holds: the union of their groups' and their own grants. */
export function permissionsOf(policy: AccessPolicy, user: string, groups: string[]): Set<string> {
  const out = new Set<string>(policy.users[user] ?? []);
  for (const g of groups) for (const p of policy.groups[g] ?? []) out.add(p);
  return out;
}

/** Whether a set of permissions allows `needed` (submit:* covers every source). */
export function allows(held: ReadonlySet<string>, needed: Permission): boolean {
  return held.has(needed) || (needed.startsWith('submit:') && held.has('submit:*'));
}

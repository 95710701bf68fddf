import { attribute, blocks, HclBlock, HclBody } from './hcl/parser';
import { boolValue, compactText, numberValue, stringValue, tupleValue } from './hcl/values';
import { removeTupleElements } from './hcl-tuples';
import { lineStart, removalRange, TextEdit } from './text-edits';
import { editTerraform, findResources, loadTerraform, refersTo, removeBlock, resourceNameOf, TfResource } from './terraform';
import { onlyChanged, requireParam, TemplateError, TemplateFiles, TemplateResult } from './types';

/**
 * Terraform: take the internet (0.0.0.0/0 and ::/0) out of a security group's ingress, in
 * inline `ingress` blocks and in the standalone rule resources that point at the group. A rule
 * left with no source at all is removed, since an ingress rule without a source is invalid.
 */

const SG = 'aws_security_group';
const RULE = 'aws_security_group_rule';
const VPC_RULE = 'aws_vpc_security_group_ingress_rule';
const OPEN = new Set(['0.0.0.0/0', '::/0']);

interface Target {
  /** Resource names of matching aws_security_group resources. */
  names: Set<string>;
  /** A literal group id (sg-...) for rules of groups managed elsewhere. */
  id?: string;
}

export function sgRemoveOpenIngress(files: TemplateFiles, params: Record<string, string>): TemplateResult {
  const raw = requireParam(params, 'securityGroup');
  const port = parsePort(params.port);
  const wanted = resourceNameOf(raw, SG);
  const tf = loadTerraform(files, [SG, VPC_RULE]);
  const groups = findResources(tf, SG).filter((g) => matchesGroup(g, wanted));
  const target: Target = { names: new Set(groups.map((g) => g.name)), ...(/^sg-[0-9a-f]+$/.test(wanted) ? { id: wanted } : {}) };
  const rules = findResources(tf, RULE).filter((r) => pointsAt(r, target));
  const vpcRules = findResources(tf, VPC_RULE).filter((r) => pointsAt(r, target));
  if (groups.length === 0 && rules.length === 0 && vpcRules.length === 0) {
    const known = findResources(tf, SG).map((g) => g.name);
    throw new TemplateError('not_found', `no aws_security_group "${wanted}" (or rules for it) in the repository's Terraform${known.length ? `; groups found: ${known.join(', ')}` : ''}`);
  }

  const edits = new Map<string, TextEdit[]>();
  const add = (path: string, e: TextEdit[]) => edits.set(path, [...(edits.get(path) ?? []), ...e]);
  const notes: string[] = [];
  const removed: TfResource[] = [];
  const where = (r: TfResource) => `\`${r.path}\`: \`${r.block.labels[0]}.${r.name}\``;

  for (const g of groups) {
    for (const ingress of blocks(g.block.body, 'ingress')) {
      const r = fixRule(g.hcl.src, ingress, ingress.body, port, ['security_groups', 'prefix_list_ids']);
      if (r.skipped) notes.push(`- ${where(g)}: ingress ${r.describe} left as is: ${r.skipped}`);
      if (r.edits.length === 0) continue;
      add(g.path, r.edits);
      notes.push(`- ${where(g)}: ${r.removedBlock ? 'removed ingress' : 'removed the internet from ingress'} ${r.describe}`);
    }
    for (const d of blocks(g.block.body, 'dynamic').filter((b) => b.labels[0] === 'ingress')) {
      if (/0\.0\.0\.0\/0|::\/0/.test(g.hcl.src.slice(d.start, d.end))) notes.push(`- ${where(g)}: a \`dynamic "ingress"\` block mentions an open CIDR and needs a manual review`);
    }
  }
  for (const rule of rules) {
    if (stringValue(attribute(rule.block.body, 'type')) !== 'ingress') continue;
    const r = fixRule(rule.hcl.src, rule.block, rule.block.body, port, ['source_security_group_id', 'prefix_list_ids']);
    if (r.skipped) notes.push(`- ${where(rule)}: left as is: ${r.skipped}`);
    if (r.edits.length === 0) continue;
    add(rule.path, r.edits);
    if (r.removedBlock) removed.push(rule);
    notes.push(`- ${where(rule)}: ${r.removedBlock ? 'removed the rule' : 'removed the internet from the rule'} (${r.describe})`);
  }
  for (const rule of vpcRules) {
    const body = rule.block.body;
    const open = OPEN.has(stringValue(attribute(body, 'cidr_ipv4')) ?? '') || OPEN.has(stringValue(attribute(body, 'cidr_ipv6')) ?? '');
    if (!open) continue;
    const cover = covers(body, port, 'ip_protocol');
    if (cover !== true) {
      if (cover === undefined) notes.push(`- ${where(rule)}: left as is: its ports are not literals`);
      continue;
    }
    add(rule.path, [removeBlock(rule.hcl.src, rule.block)]);
    removed.push(rule);
    notes.push(`- ${where(rule)}: removed the rule (${describe(body, 'ip_protocol')} from the internet)`);
  }

  for (const r of removed) {
    const address = `${r.block.labels[0]}.${r.name}`;
    const pattern = new RegExp(`${address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);
    const users = tf.filter((f) => pattern.test(f.hcl.src)).map((f) => `\`${f.path}\``);
    if (users.length) notes.push(`- \`${address}\` is still referenced in ${users.join(', ')}: update those references before merging`);
  }

  const changes = onlyChanged(
    files,
    [...edits].map(([path, e]) => ({ path, content: editTerraform(files.read(path)!, e) })),
  );
  const subject = groups.length > 0 ? groups.map((g) => `\`${SG}.${g.name}\``).join(', ') : `\`${wanted}\``;
  const scope = port === undefined ? '' : ` on port ${port}`;
  return {
    changes,
    summary:
      changes.length === 0
        ? [`No ingress from 0.0.0.0/0 or ::/0${scope} left to remove for ${subject}.`, ...notes].join('\n')
        : [`Remove ingress from 0.0.0.0/0 and ::/0${scope} for security group ${subject}:`, ...notes].join('\n'),
  };
}

function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TemplateError('invalid_params', `parameter "port" must be a port number, got "${raw}"`);
  return n;
}

function matchesGroup(g: TfResource, wanted: string): boolean {
  if (g.name === wanted || stringValue(attribute(g.block.body, 'name')) === wanted) return true;
  if (!/^sg-[0-9a-f]+$/.test(wanted)) return false;
  // A group id only appears in comments or tags: look inside the block and at the comment lines just above it.
  const src = g.hcl.src;
  let from = lineStart(src, g.block.start);
  while (from > 0) {
    const prev = lineStart(src, from - 1);
    if (!/^[ \t]*(#|\/\/)/.test(src.slice(prev, from))) break;
    from = prev;
  }
  return src.slice(from, g.block.end).includes(wanted);
}

function pointsAt(rule: TfResource, target: Target): boolean {
  const attr = attribute(rule.block.body, 'security_group_id');
  const ref = compactText(attr);
  if ([...target.names].some((n) => refersTo(ref, SG, n, ['id']))) return true;
  return target.id !== undefined && stringValue(attr) === target.id;
}

/** true: the rule's ports include `port` (or no port filter); false: they do not; undefined: cannot tell. */
function covers(body: HclBody, port: number | undefined, protocolAttr: string): boolean | undefined {
  if (port === undefined) return true;
  const protocol = stringValue(attribute(body, protocolAttr)) ?? String(numberValue(attribute(body, protocolAttr)) ?? '');
  if (protocol === '-1' || protocol === 'all') return true;
  const from = numberValue(attribute(body, 'from_port'));
  const to = numberValue(attribute(body, 'to_port'));
  if (from === undefined || to === undefined) return undefined;
  return from <= port && port <= to;
}

function describe(body: HclBody, protocolAttr: string): string {
  const protocol = stringValue(attribute(body, protocolAttr)) ?? compactText(attribute(body, protocolAttr)) ?? '?';
  if (protocol === '-1' || protocol === 'all') return 'all traffic';
  const from = compactText(attribute(body, 'from_port'));
  const to = compactText(attribute(body, 'to_port'));
  return `${from === to || to === undefined ? from : `${from}-${to}`}/${protocol}`;
}

interface RuleFix {
  edits: TextEdit[];
  removedBlock: boolean;
  describe: string;
  skipped?: string;
}

/**
 * Removes open CIDRs from one rule (an inline ingress block or a rule resource); removes the
 * whole block when no source would remain. `otherSources` name the attributes that can keep a
 * rule meaningful without any CIDR.
 */
function fixRule(src: string, block: HclBlock, body: HclBody, port: number | undefined, otherSources: string[]): RuleFix {
  const desc = describe(body, 'protocol');
  const lists = ['cidr_blocks', 'ipv6_cidr_blocks'].map((name) => ({ name, attr: attribute(body, name), tuple: tupleValue(attribute(body, name)) }));
  const openIdx = lists.map((l) => new Set((l.tuple?.elements ?? []).flatMap((e, i) => (e.value !== undefined && OPEN.has(e.value) ? [i] : []))));
  if (openIdx.every((s) => s.size === 0)) return { edits: [], removedBlock: false, describe: desc };
  const cover = covers(body, port, 'protocol');
  if (cover === false) return { edits: [], removedBlock: false, describe: desc };
  if (cover === undefined) return { edits: [], removedBlock: false, describe: desc, skipped: 'its ports are not literals' };

  const keptCidrs = lists.some((l, k) => (l.attr && !l.tuple) || (l.tuple && l.tuple.elements.length > openIdx[k].size));
  const keptOther = otherSources.some((name) => {
    const a = attribute(body, name);
    const t = tupleValue(a);
    return a !== undefined && (t ? t.elements.length > 0 : true);
  });
  if (!keptCidrs && !keptOther && boolValue(attribute(body, 'self')) !== true) {
    return { edits: [removeBlock(src, block)], removedBlock: true, describe: desc };
  }
  const edits: TextEdit[] = [];
  lists.forEach((l, k) => {
    if (!l.attr || !l.tuple || openIdx[k].size === 0) return;
    if (openIdx[k].size === l.tuple.elements.length) edits.push({ ...removalRange(src, l.attr.start, l.attr.end), text: '' });
    else edits.push(...removeTupleElements(src, l.tuple, openIdx[k]));
  });
  return { edits, removedBlock: false, describe: desc };
}

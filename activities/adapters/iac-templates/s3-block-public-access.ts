import { attribute, blocks } from './hcl/parser';
import { compactText, stringValue } from './hcl/values';
import { ensureTrue } from './hcl-edits';
import { eol, TextEdit } from './text-edits';
import { editTerraform, findResources, loadTerraform, refersTo, resourceNameOf, TfResource } from './terraform';
import { onlyChanged, requireParam, TemplateError, TemplateFiles, TemplateResult } from './types';

/**
 * Terraform: make sure an S3 bucket has an `aws_s3_bucket_public_access_block` with all four
 * settings true. Existing blocks are repaired in place; a missing one is added right after the
 * bucket. Buckets built with the terraform-aws-modules/s3-bucket module get the same four
 * module inputs instead.
 */

const FLAGS = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
const BUCKET = 'aws_s3_bucket';
const PAB = 'aws_s3_bucket_public_access_block';

/** `arn:aws:s3:::name`, `s3://name/prefix`, `aws_s3_bucket.name` all mean the bucket `name`. */
function normalizeBucket(raw: string): string {
  let v = raw.trim();
  v = v.replace(/^arn:aws[a-z-]*:s3:::/, '').replace(/^s3:\/\//, '');
  v = v.replace(/\/.*$/, '');
  return resourceNameOf(v, BUCKET);
}

export function s3BlockPublicAccess(files: TemplateFiles, params: Record<string, string>): TemplateResult {
  const wanted = normalizeBucket(requireParam(params, 'bucket'));
  const tf = loadTerraform(files, [BUCKET, 'module']);
  const buckets = findResources(tf, BUCKET);
  const byName = buckets.filter((b) => b.name === wanted);
  const targets = byName.length > 0 ? byName : buckets.filter((b) => stringValue(attribute(b.block.body, 'bucket')) === wanted);
  const modules = tf.flatMap((f) =>
    blocks(f.hcl.body, 'module')
      .filter((m) => /s3-bucket/.test(stringValue(attribute(m.body, 'source')) ?? ''))
      .filter((m) => m.labels[0] === wanted || stringValue(attribute(m.body, 'bucket')) === wanted)
      .map((block) => ({ path: f.path, hcl: f.hcl, block, name: block.labels[0] })),
  );
  if (targets.length === 0 && modules.length === 0) {
    const known = buckets.map((b) => `${b.name}${stringValue(attribute(b.block.body, 'bucket')) ? ` (${stringValue(attribute(b.block.body, 'bucket'))})` : ''}`);
    throw new TemplateError('not_found', `no aws_s3_bucket "${wanted}" in the repository's Terraform${known.length ? `; buckets found: ${known.join(', ')}` : ''}`);
  }

  const edits = new Map<string, TextEdit[]>();
  const add = (path: string, e: TextEdit[]) => edits.set(path, [...(edits.get(path) ?? []), ...e]);
  const notes: string[] = [];
  const accessBlocks = findResources(tf, PAB);

  for (const bucket of targets) {
    const existing = accessBlocks.filter((p) => governs(p, bucket));
    if (existing.length > 0) {
      for (const p of existing) {
        const fix = ensureTrue(p.hcl.src, p.block, FLAGS);
        add(p.path, fix.edits);
        for (const n of fix.notes) notes.push(`- \`${p.path}\`: \`${PAB}.${p.name}\`: ${n}`);
      }
      continue;
    }
    const taken = new Set(accessBlocks.map((p) => p.name));
    let name = bucket.name;
    for (let k = 1; taken.has(name); k++) name = `${bucket.name}_public_access${k > 1 ? `_${k}` : ''}`;
    taken.add(name);
    add(bucket.path, [{ start: bucket.block.end, end: bucket.block.end, text: newAccessBlock(bucket, name) }]);
    notes.push(`- \`${bucket.path}\`: added \`${PAB}.${name}\` for \`${BUCKET}.${bucket.name}\` with all four settings \`true\``);
  }
  for (const m of modules) {
    const fix = ensureTrue(m.hcl.src, m.block, FLAGS);
    add(m.path, fix.edits);
    for (const n of fix.notes) notes.push(`- \`${m.path}\`: \`module.${m.name}\`: ${n}`);
  }

  const changes = onlyChanged(
    files,
    [...edits].map(([path, e]) => ({ path, content: editTerraform(files.read(path)!, e) })),
  );
  const what = [...targets.map((t) => `\`${BUCKET}.${t.name}\``), ...modules.map((m) => `\`module.${m.name}\``)].join(', ');
  return {
    changes,
    summary:
      changes.length === 0
        ? `S3 public access is already fully blocked for ${what}.`
        : [`Block all public access to S3 bucket ${what}:`, ...notes].join('\n'),
  };
}

/** Whether a public access block resource applies to the given bucket resource. */
function governs(pab: TfResource, bucket: TfResource): boolean {
  const ref = compactText(attribute(pab.block.body, 'bucket'));
  if (refersTo(ref, BUCKET, bucket.name, ['id', 'bucket'])) return true;
  const literal = stringValue(attribute(bucket.block.body, 'bucket'));
  if (literal !== undefined && stringValue(attribute(pab.block.body, 'bucket')) === literal) return true;
  // for_each = aws_s3_bucket.x with bucket = each.value.id (or each.value.bucket)
  const forEach = compactText(attribute(pab.block.body, 'for_each'));
  return forEach === `${BUCKET}.${bucket.name}` && (ref === 'each.value.id' || ref === 'each.value.bucket');
}

function newAccessBlock(bucket: TfResource, name: string): string {
  const src = bucket.hcl.src;
  const nl = eol(src);
  const count = attribute(bucket.block.body, 'count');
  const forEach = attribute(bucket.block.body, 'for_each');
  const lines: string[] = [`resource "${PAB}" "${name}" {`];
  if (count) {
    lines.push(`  count = ${src.slice(count.exprStart, count.exprEnd)}`, '', `  bucket = ${BUCKET}.${bucket.name}[count.index].id`);
  } else if (forEach) {
    lines.push(`  for_each = ${BUCKET}.${bucket.name}`, '', '  bucket = each.value.id');
  } else {
    lines.push(`  bucket = ${BUCKET}.${bucket.name}.id`);
  }
  lines.push('', ...FLAGS.map((f) => `  ${f.padEnd(23)} = true`), '}');
  return nl + nl + lines.join(nl);
}


import path from 'node:path';
import { directoryFiles, memoryFiles, TemplateError } from '../../../activities/adapters/iac-templates';
import { s3BlockPublicAccess } from '../../../activities/adapters/iac-templates/s3-block-public-access';
import { terraformFmt } from './helpers/terraform-fmt';

const REPO = path.join(__dirname, '../../../simulators/demo-infra');
const FLAGS_TRUE = [
  '  block_public_acls       = true',
  '  block_public_policy     = true',
  '  ignore_public_acls      = true',
  '  restrict_public_buckets = true',
].join('\n');

describe('template s3_block_public_access', () => {
  const files = directoryFiles(REPO);

  it('adds a public access block right after the bucket, leaving every other byte alone', () => {
    const before = files.read('terraform/main.tf')!;
    const r = s3BlockPublicAccess(files, { bucket: 'acme-prod-logs' });
    expect(r.changes.map((c) => c.path)).toEqual(['terraform/main.tf']);
    const after = r.changes[0].content;
    const added = [
      '',
      '',
      'resource "aws_s3_bucket_public_access_block" "logs" {',
      '  bucket = aws_s3_bucket.logs.id',
      '',
      FLAGS_TRUE,
      '}',
    ].join('\n');
    const cut = before.indexOf('\n\nresource "aws_s3_bucket_policy"');
    expect(after).toBe(before.slice(0, cut) + added + before.slice(cut));
    expect(terraformFmt(after)).toBe(after);
    expect(r.summary).toMatch(/added `aws_s3_bucket_public_access_block.logs`/);
  });

  it('accepts the resource name, an ARN or an s3:// URL for the bucket', () => {
    const byName = s3BlockPublicAccess(files, { bucket: 'logs' });
    const byArn = s3BlockPublicAccess(files, { bucket: 'arn:aws:s3:::acme-prod-logs' });
    const byUrl = s3BlockPublicAccess(files, { bucket: 's3://acme-prod-logs/some/prefix' });
    const byAddress = s3BlockPublicAccess(files, { bucket: 'aws_s3_bucket.logs' });
    expect(byArn.changes).toEqual(byName.changes);
    expect(byUrl.changes).toEqual(byName.changes);
    expect(byAddress.changes).toEqual(byName.changes);
  });

  it('repairs false values and adds missing settings in an existing block, aligned like terraform fmt', () => {
    const r = s3BlockPublicAccess(files, { bucket: 'acme-prod-assets' });
    const after = r.changes[0].content;
    expect(after).toContain(
      [
        'resource "aws_s3_bucket_public_access_block" "assets" {',
        '  bucket = aws_s3_bucket.assets.id',
        '',
        '  block_public_acls       = true # opened for a one-off migration',
        '  block_public_policy     = true',
        '  ignore_public_acls      = true',
        '  restrict_public_buckets = true',
        '}',
      ].join('\n'),
    );
    // The untouched bucket resources that follow are byte-identical.
    const before = files.read('terraform/storage.tf')!;
    expect(after.slice(after.indexOf('resource "aws_s3_bucket" "private"'))).toBe(before.slice(before.indexOf('resource "aws_s3_bucket" "private"')));
    expect(terraformFmt(after)).toBe(after);
    expect(r.summary).toMatch(/`block_public_acls` set to `true` \(was `false`\)/);
  });

  it('reports no change when the bucket is already fully blocked', () => {
    const r = s3BlockPublicAccess(files, { bucket: 'private' });
    expect(r.changes).toEqual([]);
    expect(r.summary).toMatch(/already fully blocked/);
  });

  it('fails as not_found, naming the buckets it saw, for an unknown bucket', () => {
    expect(() => s3BlockPublicAccess(files, { bucket: 'nope' })).toThrow(TemplateError);
    expect(() => s3BlockPublicAccess(files, { bucket: 'nope' })).toThrow(/buckets found: .*logs \(acme-prod-logs\)/);
    expect(() => s3BlockPublicAccess(files, {})).toThrow(/parameter "bucket" is required/);
  });

  it('follows count and for_each on the bucket', () => {
    const src = [
      'resource "aws_s3_bucket" "shards" {',
      '  count  = length(var.shards)',
      '  bucket = "acme-${var.shards[count.index]}"',
      '}',
      '',
      'resource "aws_s3_bucket" "per_team" {',
      '  for_each = toset(var.teams)',
      '  bucket   = "acme-${each.key}"',
      '}',
      '',
    ].join('\n');
    const f = memoryFiles({ 'b.tf': src });
    const counted = s3BlockPublicAccess(f, { bucket: 'shards' }).changes[0].content;
    expect(counted).toContain('  count = length(var.shards)\n\n  bucket = aws_s3_bucket.shards[count.index].id\n');
    const each = s3BlockPublicAccess(f, { bucket: 'per_team' }).changes[0].content;
    expect(each).toContain('  for_each = aws_s3_bucket.per_team\n\n  bucket = each.value.id\n');
    expect(terraformFmt(counted)).toBe(counted);
    expect(terraformFmt(each)).toBe(each);
    // Running the template on its own output finds nothing more to do.
    expect(s3BlockPublicAccess(memoryFiles({ 'b.tf': each }), { bucket: 'per_team' }).changes).toEqual([]);
  });

  it('opens up a one-line block, keeps CRLF line endings and strings full of braces', () => {
    const src = [
      '# bucket "x" { in a comment }',
      'resource "aws_s3_bucket" "b" {',
      '  bucket = "acme-b"',
      '  tags   = { Note = "} tricky { ${"}"}" }',
      '}',
      '',
      'resource "aws_s3_bucket_public_access_block" "b" { bucket = aws_s3_bucket.b.bucket }',
      '',
    ].join('\r\n');
    const r = s3BlockPublicAccess(memoryFiles({ 'main.tf': src }), { bucket: 'acme-b' });
    const after = r.changes[0].content;
    expect(after).not.toMatch(/[^\r]\n/);
    expect(after.startsWith(src.slice(0, src.indexOf('resource "aws_s3_bucket_public_access_block"')))).toBe(true);
    expect(after).toContain(['resource "aws_s3_bucket_public_access_block" "b" {', '  bucket = aws_s3_bucket.b.bucket', '', FLAGS_TRUE.replace(/\n/g, '\r\n'), '}'].join('\r\n'));
    expect(terraformFmt(after.replace(/\r\n/g, '\n'))).toBe(after.replace(/\r\n/g, '\n'));
  });

  it('recognizes a block written for the bucket by literal name, and avoids taken resource names', () => {
    const src = [
      'resource "aws_s3_bucket" "a" {',
      '  bucket = "acme-a"',
      '}',
      '',
      'resource "aws_s3_bucket_public_access_block" "a" {',
      '  bucket = "acme-other"',
      '}',
      '',
      'resource "aws_s3_bucket" "c" {',
      '  bucket = "acme-c"',
      '}',
      '',
      'resource "aws_s3_bucket_public_access_block" "c_literal" {',
      '  bucket              = "acme-c"',
      '  block_public_policy = false',
      '}',
      '',
    ].join('\n');
    const f = memoryFiles({ 'main.tf': src });
    const a = s3BlockPublicAccess(f, { bucket: 'a' }).changes[0].content;
    expect(a).toContain('resource "aws_s3_bucket_public_access_block" "a_public_access" {');
    const c = s3BlockPublicAccess(f, { bucket: 'acme-c' }).changes[0].content;
    expect(c.match(/aws_s3_bucket_public_access_block/g)).toHaveLength(2);
    expect(c).toContain('  bucket                  = "acme-c"\n  block_public_policy     = true\n  block_public_acls       = true\n');
    expect(terraformFmt(c)).toBe(c);
  });

  it('sets the inputs of the terraform-aws-modules s3-bucket module', () => {
    const src = [
      'module "uploads" {',
      '  source  = "terraform-aws-modules/s3-bucket/aws"',
      '  version = "~> 4.0"',
      '',
      '  bucket = "acme-uploads"',
      '',
      '  block_public_policy = false',
      '}',
      '',
    ].join('\n');
    const r = s3BlockPublicAccess(memoryFiles({ 'mods.tf': src }), { bucket: 'acme-uploads' });
    const after = r.changes[0].content;
    expect(after).toContain('  block_public_policy     = true\n  block_public_acls       = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}');
    expect(terraformFmt(after)).toBe(after);
  });

  it('refuses to guess when a Terraform file it must read does not parse', () => {
    const f = memoryFiles({ 'broken.tf': 'resource "aws_s3_bucket" "x" {\n  bucket = "x"\n', 'ok.tf': 'resource "aws_s3_bucket" "y" {}\n' });
    expect(() => s3BlockPublicAccess(f, { bucket: 'y' })).toThrow(/broken\.tf: missing } at end of file/);
  });
});

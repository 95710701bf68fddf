import fs from 'node:fs';
import path from 'node:path';
import { attribute, blocks, parseHcl, resources } from '../../../activities/adapters/iac-templates/hcl/parser';
import { HclSyntaxError, tokenize } from '../../../activities/adapters/iac-templates/hcl/tokenizer';
import { boolValue, compactText, numberValue, stringValue, tupleValue } from '../../../activities/adapters/iac-templates/hcl/values';
import { applyEdits, mergeRemovals, removalRange } from '../../../activities/adapters/iac-templates/text-edits';
import { alignChangedBlocks } from '../../../activities/adapters/iac-templates/hcl/align';
import { terraformFmt } from './helpers/terraform-fmt';

const FIXTURE = path.join(__dirname, '../../../simulators/demo-infra/terraform/main.tf');

describe('HCL tokenizer', () => {
  it('keeps braces and quotes inside strings and nested interpolations out of the structure', () => {
    const src = 'a = "x { y } ${var.b == "}" ? "{" : "${c}"} \\" }"\nb = 1\n';
    const tokens = tokenize(src).filter((t) => t.kind !== 'newline');
    expect(tokens.map((t) => t.kind)).toEqual(['ident', 'punct', 'string', 'ident', 'punct', 'number']);
    expect(tokens[2].template).toBe(true);
    expect(tokens[2].text).toBe('"x { y } ${var.b == "}" ? "{" : "${c}"} \\" }"');
  });

  it('treats $${ and %%{ as literal text, not templates', () => {
    const [, , s] = tokenize('a = "$${literal} %%{ also }"');
    expect(s.kind).toBe('string');
    expect(s.template).toBeUndefined();
  });

  it('reads heredocs (plain and indented) as one token, braces and quotes included', () => {
    const src = ['p = <<EOT', '{ "a": "}" ', 'EOT', 'q = <<-JSON', '    { "b": ${x} }', '    JSON', 'r = 1', ''].join('\n');
    const tokens = tokenize(src).filter((t) => t.kind === 'heredoc');
    expect(tokens).toHaveLength(2);
    expect(tokens[0].text).toBe('<<EOT\n{ "a": "}" \nEOT');
    expect(tokens[0].template).toBeFalsy();
    expect(tokens[1].text.endsWith('    JSON')).toBe(true);
    expect(tokens[1].template).toBe(true);
    const file = parseHcl(src);
    expect(file.body.items.map((i) => i.kind === 'attribute' && i.name)).toEqual(['p', 'q', 'r']);
  });

  it('knows the three comment forms, braces inside them included', () => {
    const src = '# { hash\n// } slashes\n/* multi { \n line } */ a = 1 # trailing {\n';
    const kinds = tokenize(src).map((t) => t.kind);
    expect(kinds.filter((k) => k === 'comment')).toHaveLength(4);
    expect(parseHcl(src).body.items).toHaveLength(1);
  });

  it('reports unterminated strings, heredocs and comments with their line', () => {
    expect(() => tokenize('a = 1\nb = "open\n')).toThrow(/unterminated string at line 2/);
    expect(() => tokenize('a = <<EOT\nno end\n')).toThrow(/unterminated heredoc <<EOT at line 1/);
    expect(() => tokenize('\n\n/* never closed')).toThrow(HclSyntaxError);
  });
});

describe('HCL parser', () => {
  const src = fs.readFileSync(FIXTURE, 'utf8');
  const file = parseHcl(src);

  it('finds resources by type, ignoring commented-out ones', () => {
    expect(resources(file, 'aws_s3_bucket').map((b) => b.labels[1])).toEqual(['logs']);
    expect(resources(file, 'aws_security_group').map((b) => b.labels[1])).toEqual(['web', 'lb']);
  });

  it('gives exact byte ranges for blocks and attributes', () => {
    const [bucket] = resources(file, 'aws_s3_bucket');
    expect(src.slice(bucket.start, bucket.start + 8)).toBe('resource');
    expect(src[bucket.end - 1]).toBe('}');
    expect(src[bucket.openBrace]).toBe('{');
    const name = attribute(bucket.body, 'bucket')!;
    expect(src.slice(name.exprStart, name.exprEnd)).toBe('"acme-prod-logs"');
    const tags = attribute(bucket.body, 'tags')!;
    expect(src.slice(tags.exprStart, tags.exprEnd)).toMatch(/^merge\(local\.common_tags, \{[\s\S]*\}\)$/);
  });

  it('parses nested blocks and reads literal values', () => {
    const [web] = resources(file, 'aws_security_group');
    const ingress = blocks(web.body, 'ingress');
    expect(ingress).toHaveLength(3);
    expect(numberValue(attribute(ingress[0].body, 'from_port'))).toBe(22);
    expect(stringValue(attribute(ingress[0].body, 'protocol'))).toBe('tcp');
    expect(stringValue(attribute(web.body, 'description'))).toBe('Web tier {public}');
    expect(compactText(attribute(ingress[2].body, 'security_groups'))).toBe('[aws_security_group.lb.id]');
    const egress = blocks(web.body, 'egress')[0];
    expect(stringValue(attribute(egress.body, 'protocol'))).toBe('-1');
  });

  it('reads heredoc attributes without being confused by their braces', () => {
    const [policy] = resources(file, 'aws_s3_bucket_policy');
    const p = attribute(policy.body, 'policy')!;
    expect(src.slice(p.exprStart, p.exprEnd).endsWith('POLICY')).toBe(true);
    expect(stringValue(p)).toBeUndefined();
  });

  it('handles one-line blocks, CRLF files and values read as literals or not', () => {
    const one = parseHcl('resource "a" "b" { enabled = true }\r\nresource "a" "c" {}\r\n');
    const [b, c] = resources(one, 'a');
    expect(boolValue(attribute(b.body, 'enabled'))).toBe(true);
    expect(c.body.items).toHaveLength(0);
    const exprs = parseHcl('a = "x-${var.y}"\nb = var.z\nc = -1\nd = "8080"\n');
    expect(stringValue(attribute(exprs.body, 'a'))).toBeUndefined();
    expect(stringValue(attribute(exprs.body, 'b'))).toBeUndefined();
    expect(numberValue(attribute(exprs.body, 'c'))).toBe(-1);
    expect(numberValue(attribute(exprs.body, 'd'))).toBe(8080);
  });

  it('splits tuples into elements with positions, comments and trailing commas allowed', () => {
    const t = parseHcl('x = [\n  "0.0.0.0/0", # open\n  var.more,\n  "10.0.0.0/8",\n]\ny = ["a"][0]\n');
    const tuple = tupleValue(attribute(t.body, 'x'))!;
    expect(tuple.elements.map((e) => e.value)).toEqual(['0.0.0.0/0', undefined, '10.0.0.0/8']);
    expect(tupleValue(attribute(t.body, 'y'))).toBeUndefined();
  });

  it('rejects broken structure with the line of the problem', () => {
    expect(() => parseHcl('resource "a" "b" {\n  x = 1\n')).toThrow(/missing } at end of file/);
    expect(() => parseHcl('a = [1, 2\nb = 3\n')).toThrow(HclSyntaxError);
    expect(() => parseHcl('x = 1\n}\n')).toThrow(/unexpected } at line 2/);
  });
});

describe('text edits', () => {
  it('removes an item with its line and never leaves two blank lines', () => {
    const src = 'a {\n  x = 1\n\n  y = 2 # note\n\n  z = 3\n}\n';
    const y = src.indexOf('y = 2');
    const range = removalRange(src, y, y + 5);
    expect(applyEdits(src, [{ ...range, text: '' }])).toBe('a {\n  x = 1\n\n  z = 3\n}\n');
  });

  it('removes the blank line before a closing brace and after an opening one', () => {
    const src = 'a {\n  x = 1\n\n  y = 2\n}\n';
    const y = src.indexOf('y = 2');
    expect(applyEdits(src, [{ ...removalRange(src, y, y + 5), text: '' }])).toBe('a {\n  x = 1\n}\n');
    const src2 = 'a {\n  x = 1\n\n  y = 2\n}\n';
    const x = src2.indexOf('x = 1');
    expect(applyEdits(src2, [{ ...removalRange(src2, x, x + 5), text: '' }])).toBe('a {\n  y = 2\n}\n');
  });

  it('removes two neighbours before a closing brace as one, without a blank line left inside it', () => {
    const src = 'a {\n  x = 1\n\n  y = 2\n\n  z = 3\n}\n';
    const cut = (item: string) => ({ ...removalRange(src, src.indexOf(item), src.indexOf(item) + 5), text: '' });
    const edits = [cut('y = 2'), cut('z = 3')];
    expect(() => applyEdits(src, edits)).toThrow(/overlapping/);
    expect(applyEdits(src, mergeRemovals(src, edits))).toBe('a {\n  x = 1\n}\n');
  });

  it('refuses overlapping edits', () => {
    expect(() => applyEdits('abcdef', [{ start: 1, end: 4, text: '' }, { start: 3, end: 5, text: '' }])).toThrow(/overlapping/);
  });
});

describe('scanner invariants on the fixture files', () => {
  const dir = path.join(__dirname, '../../../simulators/demo-infra/terraform');
  it.each(fs.readdirSync(dir).filter((f) => f.endsWith('.tf')))('%s: tokens cover everything but whitespace, in order', (f) => {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    let at = 0;
    for (const t of tokenize(src)) {
      expect(src.slice(at, t.start)).toMatch(/^[ \t\r]*$/);
      expect(t.end).toBeGreaterThan(t.start);
      at = t.end;
    }
    expect(src.slice(at)).toMatch(/^\s*$/);
    // Every top-level item is a block here, and blocks never overlap.
    const items = parseHcl(src).body.items;
    items.forEach((b, i) => i > 0 && expect(b.start).toBeGreaterThan(items[i - 1].end));
  });
});

describe('terraform fmt alignment of changed blocks', () => {
  it('aligns = and trailing comments per chain, breaking chains at blank lines and blocks, not at heredocs', () => {
    const before = 'resource "x" "a" {\n  a = 1\n}\n\nresource "x" "b" {\n  a      = 1\n}\n';
    const after = [
      'resource "x" "a" {',
      '  a = 1',
      '  longer_name = 2 # c1',
      '  b = "x" # c2',
      '  p = <<EOT',
      'text',
      'EOT',
      '  q = 3',
      '',
      '  nested {',
      '    z = 1',
      '    yy = [',
      '      1,',
      '    ]',
      '    www = 2',
      '  }',
      '  tags = { A = 1 }',
      '  t    = 2',
      '}',
      '',
      'resource "x" "b" {',
      '  a      = 1',
      '}',
      '',
    ].join('\n');
    const out = alignChangedBlocks(before, after);
    expect(out).toBe(
      [
        'resource "x" "a" {',
        '  a           = 1',
        '  longer_name = 2   # c1',
        '  b           = "x" # c2',
        '  p           = <<EOT',
        'text',
        'EOT',
        '  q           = 3',
        '',
        '  nested {',
        '    z = 1',
        '    yy = [',
        '      1,',
        '    ]',
        '    www = 2',
        '  }',
        '  tags = { A = 1 }',
        '  t    = 2',
        '}',
        '',
        // Unchanged block (same text as before): left exactly as it was, even unaligned.
        'resource "x" "b" {',
        '  a      = 1',
        '}',
        '',
      ].join('\n'),
    );
    const changedOnly = out.slice(0, out.indexOf('resource "x" "b"'));
    expect(terraformFmt(changedOnly)).toBe(changedOnly);
  });
});

import path from 'node:path';
import { directoryFiles, memoryFiles, TemplateError } from '../../../activities/adapters/iac-templates';
import { sgRemoveOpenIngress } from '../../../activities/adapters/iac-templates/sg-remove-open-ingress';
import { terraformFmt } from './helpers/terraform-fmt';

const REPO = path.join(__dirname, '../../../simulators/demo-infra');

function content(r: { changes: { path: string; content: string }[] }, p: string): string {
  const c = r.changes.find((x) => x.path === p);
  if (!c) throw new Error(`no change to ${p}`);
  return c.content;
}

describe('template sg_remove_open_ingress', () => {
  const files = directoryFiles(REPO);

  it('removes open ingress from inline blocks and standalone rules, nothing else', () => {
    const r = sgRemoveOpenIngress(files, { securityGroup: 'web-public' });
    expect(r.changes.map((c) => c.path).sort()).toEqual(['terraform/main.tf', 'terraform/rules.tf']);
    const main = content(r, 'terraform/main.tf');
    // The ssh block (only 0.0.0.0/0) is gone with its comment; https keeps 10.0.0.0/8 and loses ::/0.
    expect(main).not.toContain('SSH from anywhere');
    expect(main).not.toContain('from_port   = 22');
    expect(main).toContain(
      [
        '  vpc_id      = var.vpc_id',
        '',
        '  ingress {',
        '    description = "https"',
        '    from_port   = 443',
        '    to_port     = 443',
        '    protocol    = "tcp"',
        '    cidr_blocks = ["10.0.0.0/8"]',
        '  }',
      ].join('\n'),
    );
    // Egress to the internet is not this template's business, and the lb group is another group.
    expect(main).toContain('  egress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = "-1"\n    cidr_blocks = ["0.0.0.0/0"]\n  }');
    const before = files.read('terraform/main.tf')!;
    const lb = 'resource "aws_security_group" "lb"';
    expect(main.slice(main.indexOf(lb))).toBe(before.slice(before.indexOf(lb)));
    expect(main.slice(0, main.indexOf('# sg-0a1b2c3d4e5f60718'))).toBe(before.slice(0, before.indexOf('# sg-0a1b2c3d4e5f60718')));

    const rules = content(r, 'terraform/rules.tf');
    expect(rules).not.toContain('web_rdp');
    expect(rules).not.toContain('web_http');
    expect(rules).toContain('resource "aws_security_group_rule" "web_egress_dns"');
    expect(rules).toContain('resource "aws_vpc_security_group_ingress_rule" "web_internal"');
    expect(rules).not.toMatch(/\n\n\n/);
    for (const c of r.changes) expect(terraformFmt(c.content)).toBe(c.content);
    expect(r.summary.split('\n')).toHaveLength(5);
  });

  it('finds the group by resource name, name attribute, address or an id in a comment', () => {
    const a = sgRemoveOpenIngress(files, { securityGroup: 'web' });
    for (const sg of ['web-public', 'aws_security_group.web', 'sg-0a1b2c3d4e5f60718']) {
      expect(sgRemoveOpenIngress(files, { securityGroup: sg }).changes).toEqual(a.changes);
    }
  });

  it('with a port, only touches rules that cover it', () => {
    const r = sgRemoveOpenIngress(files, { securityGroup: 'web', port: '22' });
    expect(r.changes.map((c) => c.path)).toEqual(['terraform/main.tf']);
    const main = content(r, 'terraform/main.tf');
    expect(main).not.toContain('from_port   = 22');
    expect(main).toContain('cidr_blocks      = ["0.0.0.0/0", "10.0.0.0/8"]');
    const none = sgRemoveOpenIngress(files, { securityGroup: 'web', port: '25' });
    expect(none.changes).toEqual([]);
    expect(none.summary).toMatch(/No ingress from 0\.0\.0\.0\/0 or ::\/0 on port 25/);
    expect(() => sgRemoveOpenIngress(files, { securityGroup: 'web', port: 'ssh' })).toThrow(/must be a port number/);
  });

  it('reports no change once the group is clean (running on its own output)', () => {
    const first = sgRemoveOpenIngress(files, { securityGroup: 'web' });
    const map: Record<string, string> = {};
    for (const p of files.list()) map[p] = files.read(p)!;
    for (const c of first.changes) map[c.path] = c.content;
    expect(sgRemoveOpenIngress(memoryFiles(map), { securityGroup: 'web' }).changes).toEqual([]);
  });

  it('edits multi-line lists line by line and keeps other sources', () => {
    const src = [
      'resource "aws_security_group" "db" {',
      '  name = "db"',
      '',
      '  ingress {',
      '    from_port = 5432',
      '    to_port   = 5432',
      '    protocol  = "tcp"',
      '    cidr_blocks = [',
      '      "10.1.0.0/16", # office',
      '      "0.0.0.0/0", # temporary!',
      '      "10.2.0.0/16",',
      '    ]',
      '    ipv6_cidr_blocks = ["::/0"]',
      '  }',
      '',
      '  ingress {',
      '    from_port       = 6432',
      '    to_port         = 6432',
      '    protocol        = "tcp"',
      '    cidr_blocks     = ["0.0.0.0/0"]',
      '    security_groups = [aws_security_group.app.id]',
      '  }',
      '',
      '  ingress {',
      '    from_port   = 0',
      '    to_port     = 0',
      '    protocol    = "-1"',
      '    self        = true',
      '    cidr_blocks = ["0.0.0.0/0"]',
      '  }',
      '}',
      '',
    ].join('\n');
    const r = sgRemoveOpenIngress(memoryFiles({ 'db.tf': src }), { securityGroup: 'db' });
    expect(r.changes[0].content).toBe(
      [
        'resource "aws_security_group" "db" {',
        '  name = "db"',
        '',
        '  ingress {',
        '    from_port = 5432',
        '    to_port   = 5432',
        '    protocol  = "tcp"',
        '    cidr_blocks = [',
        '      "10.1.0.0/16", # office',
        '      "10.2.0.0/16",',
        '    ]',
        '  }',
        '',
        '  ingress {',
        '    from_port       = 6432',
        '    to_port         = 6432',
        '    protocol        = "tcp"',
        '    security_groups = [aws_security_group.app.id]',
        '  }',
        '',
        '  ingress {',
        '    from_port = 0',
        '    to_port   = 0',
        '    protocol  = "-1"',
        '    self      = true',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(terraformFmt(r.changes[0].content)).toBe(r.changes[0].content);
  });

  it('leaves computed CIDRs and ports alone and flags dynamic ingress blocks for review', () => {
    const src = [
      'resource "aws_security_group" "app" {',
      '  name = "app"',
      '',
      '  ingress {',
      '    from_port   = var.port',
      '    to_port     = var.port',
      '    protocol    = "tcp"',
      '    cidr_blocks = ["0.0.0.0/0"]',
      '  }',
      '',
      '  ingress {',
      '    from_port   = 80',
      '    to_port     = 80',
      '    protocol    = "tcp"',
      '    cidr_blocks = var.allowed_cidrs',
      '  }',
      '',
      '  dynamic "ingress" {',
      '    for_each = var.ports',
      '    content {',
      '      from_port   = ingress.value',
      '      to_port     = ingress.value',
      '      protocol    = "tcp"',
      '      cidr_blocks = ["0.0.0.0/0"]',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n');
    const f = memoryFiles({ 'app.tf': src });
    const withPort = sgRemoveOpenIngress(f, { securityGroup: 'app', port: '80' });
    expect(withPort.changes).toEqual([]);
    expect(withPort.summary).toMatch(/left as is: its ports are not literals/);
    expect(withPort.summary).toMatch(/dynamic "ingress"` block mentions an open CIDR/);
    const all = sgRemoveOpenIngress(f, { securityGroup: 'app' });
    expect(all.changes[0].content).not.toContain('= var.port\n');
    expect(all.changes[0].content).toContain('cidr_blocks = var.allowed_cidrs');
  });

  it('handles rules of a group managed elsewhere, by literal id, and mixed rule lists', () => {
    const src = [
      'resource "aws_security_group_rule" "ext" {',
      '  type              = "ingress"',
      '  from_port         = 443',
      '  to_port           = 443',
      '  protocol          = "tcp"',
      '  cidr_blocks       = ["0.0.0.0/0", "192.168.0.0/16"]',
      '  ipv6_cidr_blocks  = ["::/0"]',
      '  security_group_id = "sg-0123abcd"',
      '}',
      '',
      'resource "aws_vpc_security_group_ingress_rule" "ext6" {',
      '  security_group_id = "sg-0123abcd"',
      '  cidr_ipv6         = "::/0"',
      '  ip_protocol       = "-1"',
      '}',
      '',
    ].join('\n');
    const r = sgRemoveOpenIngress(memoryFiles({ 'ext.tf': src }), { securityGroup: 'sg-0123abcd' });
    expect(r.changes[0].content).toBe(
      [
        'resource "aws_security_group_rule" "ext" {',
        '  type              = "ingress"',
        '  from_port         = 443',
        '  to_port           = 443',
        '  protocol          = "tcp"',
        '  cidr_blocks       = ["192.168.0.0/16"]',
        '  security_group_id = "sg-0123abcd"',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('warns when a removed rule resource is still referenced elsewhere', () => {
    const map: Record<string, string> = {};
    for (const p of files.list()) map[p] = files.read(p)!;
    map['terraform/outputs.tf'] = 'output "rdp_rule" {\n  value = aws_security_group_rule.web_rdp.id\n}\n';
    const r = sgRemoveOpenIngress(memoryFiles(map), { securityGroup: 'web' });
    expect(r.summary).toMatch(/`aws_security_group_rule.web_rdp` is still referenced in `terraform\/outputs.tf`/);
    expect(r.summary).not.toMatch(/web_rdp_extra|web_http` is still referenced/);
  });

  it('removes neighbouring open rules at the end of a file and of a group, as terraform fmt lays them out', () => {
    const rule = (name: string, port: number, cidr: string) =>
      [
        `resource "aws_security_group_rule" "${name}" {`,
        '  type              = "ingress"',
        `  from_port         = ${port}`,
        `  to_port           = ${port}`,
        '  protocol          = "tcp"',
        `  cidr_blocks       = ["${cidr}"]`,
        '  security_group_id = aws_security_group.web.id',
        '}',
      ].join('\n');
    const ingress = (port: number) => ['  ingress {', `    from_port   = ${port}`, `    to_port     = ${port}`, '    protocol    = "tcp"', '    cidr_blocks = ["0.0.0.0/0"]', '  }'].join('\n');
    const group = (...body: string[]) => ['resource "aws_security_group" "web" {', '  name = "web"', ...body, '}'].join('\n');
    const src = {
      'main.tf': `${group('', ingress(22), '', ingress(3389))}\n`,
      'rules.tf': `${[rule('internal', 9100, '10.0.0.0/8'), rule('open_a', 80, '0.0.0.0/0'), rule('open_b', 443, '0.0.0.0/0'), rule('open_c', 8443, '0.0.0.0/0')].join('\n\n')}\n`,
    };
    const r = sgRemoveOpenIngress(memoryFiles(src), { securityGroup: 'web' });
    expect(content(r, 'main.tf')).toBe(`${group()}\n`);
    expect(content(r, 'rules.tf')).toBe(`${rule('internal', 9100, '10.0.0.0/8')}\n`);
    for (const c of r.changes) expect(terraformFmt(c.content)).toBe(c.content);
  });

  it('fails as not_found for an unknown group', () => {
    expect(() => sgRemoveOpenIngress(files, { securityGroup: 'nope' })).toThrow(TemplateError);
    expect(() => sgRemoveOpenIngress(files, { securityGroup: 'nope' })).toThrow(/groups found: web, lb/);
  });
});

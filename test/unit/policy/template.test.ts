import { renderParams } from '../../../planner/template';

const ctx = {
  riskScore: 87.5,
  asset: { id: 'web-01', internetFacing: true, tags: ['pci', 'edge'], owner: null },
  details: { package: 'xz-utils', ports: [22, 3389], meta: { a: 1 } },
  rule: 'CVE-2024-3094',
};

describe('renderParams', () => {
  it('a whole-value placeholder keeps the value\'s type', () => {
    expect(
      renderParams({ score: '{{riskScore}}', facing: '{{ asset.internetFacing }}', tags: '{{asset.tags}}', meta: '{{details.meta}}' }, ctx),
    ).toEqual({ score: 87.5, facing: true, tags: ['pci', 'edge'], meta: { a: 1 } });
  });

  it('placeholders inside text become text; objects as JSON', () => {
    expect(
      renderParams({ text: 'Critical {{rule}} on {{asset.id}} (risk {{riskScore}})', ports: 'ports {{details.ports}}', flag: 'facing={{asset.internetFacing}}' }, ctx),
    ).toEqual({ text: 'Critical CVE-2024-3094 on web-01 (risk 87.5)', ports: 'ports [22,3389]', flag: 'facing=true' });
  });

  it('missing and null facts become empty strings, whole or inside text', () => {
    expect(renderParams({ a: '{{details.fixedVersion}}', b: '{{asset.owner}}', c: 'owner: {{asset.owner}}!', d: 'v{{nope.deeper}}' }, ctx)).toEqual({
      a: '',
      b: '',
      c: 'owner: !',
      d: 'v',
    });
  });

  it('renders nested objects and lists, and leaves non-text values and plain text alone', () => {
    const params = { labels: ['vuln', '{{details.package}}'], nested: { deep: [{ id: '{{asset.id}}' }] }, n: 3, yes: false, none: null, plain: 'no braces', half: '{{rule' };
    expect(renderParams(params, ctx)).toEqual({
      labels: ['vuln', 'xz-utils'],
      nested: { deep: [{ id: 'web-01' }] },
      n: 3,
      yes: false,
      none: null,
      plain: 'no braces',
      half: '{{rule',
    });
    // The policy's own params are not changed by rendering.
    expect(params.labels).toEqual(['vuln', '{{details.package}}']);
  });
});

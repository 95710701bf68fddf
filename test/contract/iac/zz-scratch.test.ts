import { directoryFiles, TEMPLATES } from '../../../activities/adapters/iac-templates';
import path from 'node:path';
const files = directoryFiles(path.join(__dirname, '../../fixtures/iac/repo'));
it('prints', () => {
  for (const [t, p] of [
    ['s3_block_public_access', { bucket: 'acme-prod-logs' }],
    ['s3_block_public_access', { bucket: 'assets' }],
    ['s3_block_public_access', { bucket: 'private' }],
    ['sg_remove_open_ingress', { securityGroup: 'web-public' }],
    ['sg_remove_open_ingress', { securityGroup: 'sg-0a1b2c3d4e5f60718', port: '22' }],
    ['bump_package', { package: 'lodash', fixedVersion: '4.17.21' }],
    ['bump_package', { package: 'requests', fixedVersion: '2.31.0' }],
    ['bump_package', { package: 'golang.org/x/net', fixedVersion: '0.17.0' }],
    ['bump_package', { package: 'urllib3', fixedVersion: '1.26.18' }],
  ] as const) {
    const r = (TEMPLATES as any)[t](files, p);
    console.log(t, JSON.stringify(p), '\n' + r.summary + '\n' + r.changes.map((c: any) => '=== ' + c.path + '\n' + c.content).join('\n'));
  }
});

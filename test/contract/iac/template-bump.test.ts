import path from 'node:path';
import { directoryFiles, memoryFiles, TemplateError } from '../../../activities/adapters/iac-templates';
import { bumpPackage } from '../../../activities/adapters/iac-templates/bump-package';
import { compareVersions } from '../../../activities/adapters/iac-templates/bump-package/version';

const REPO = path.join(__dirname, '../../../simulators/demo-infra');

describe('version ordering', () => {
  it.each([
    ['1.2.3', '1.2.4', -1],
    ['1.10.0', '1.9.9', 1],
    ['v1.2', '1.2.0', 0],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0-rc.10', '1.0.0-rc.9', 1],
    ['1.0.0-alpha', '1.0.0-1', 1],
    ['2.0rc1', '2.0', -1],
    ['1.0.dev0', '1.0a1', -1],
    ['1.0.post1', '1.0', 1],
    ['v0.0.0-20230101120000-abcdef123456', 'v0.0.1', -1],
    ['1.2.3+build.9', '1.2.3', 0],
    ['2022.12.7', '2023.7.22', -1],
  ])('%s vs %s', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
  });
});

describe('template bump_package', () => {
  const files = directoryFiles(REPO);

  it('bumps package.json in place, keeping the range operator and every other byte', () => {
    const before = files.read('app/package.json')!;
    const r = bumpPackage(files, { package: 'lodash', fixedVersion: '4.17.21' });
    expect(r.changes).toEqual([{ path: 'app/package.json', content: before.replace('"lodash": "^4.17.15"', '"lodash": "^4.17.21"') }]);
    expect(r.summary).toMatch(/`\^4\.17\.15` → `\^4\.17\.21`/);
    expect(r.summary).toMatch(/app\/package-lock\.json` must be regenerated/);
  });

  it('keeps ~ and exact specs, 4-space indentation, CRLF and escapes; handles every dependency section', () => {
    const src = '{\r\n    "name": "x",\r\n    "description": "caf\\u00e9",\r\n    "dependencies": { "a": "~1.2.5" },\r\n    "devDependencies": {\r\n        "a": "1.2.0"\r\n    },\r\n    "optionalDependencies": { "a": "v1.0.0" },\r\n    "peerDependencies": { "a": "^1.0.0" }\r\n}\r\n';
    const r = bumpPackage(memoryFiles({ 'package.json': src }), { package: 'a', fixedVersion: '1.2.6' });
    expect(r.changes[0].content).toBe(src.replace('"~1.2.5"', '"~1.2.6"').replace('"1.2.0"', '"1.2.6"').replace('"v1.0.0"', '"1.2.6"'));
  });

  it('never downgrades: a newer declaration is left alone and all-newer means no change', () => {
    const src = JSON.stringify({ dependencies: { a: '^2.0.0' }, devDependencies: { a: '^1.0.0' } }, null, 2) + '\n';
    const r = bumpPackage(memoryFiles({ 'package.json': src }), { package: 'a', fixedVersion: '1.5.0' });
    expect(JSON.parse(r.changes[0].content)).toEqual({ dependencies: { a: '^2.0.0' }, devDependencies: { a: '^1.5.0' } });
    expect(r.summary).toMatch(/already at `\^2\.0\.0`/);
    const none = bumpPackage(memoryFiles({ 'package.json': src }), { package: 'a', fixedVersion: '0.9.0' });
    expect(none.changes).toEqual([]);
    expect(none.summary).toMatch(/already at `0\.9\.0` or later/);
  });

  it('reports specs it cannot bump safely instead of rewriting them', () => {
    const src = JSON.stringify({ dependencies: { a: '>=1.0.0 <2.0.0', b: 'github:x/b', c: 'workspace:*' } }, null, 2);
    const r = bumpPackage(memoryFiles({ 'package.json': src }), { package: 'a', fixedVersion: '1.5.0' });
    expect(r.changes).toEqual([]);
    expect(r.summary).toMatch(/not a plain version; left as is/);
  });

  it('bumps pip requirements: ==, ~=, >= with extras and markers, bare names, normalized names', () => {
    const r1 = bumpPackage(files, { package: 'requests', fixedVersion: '2.31.0' });
    expect(r1.changes[0].content).toContain('requests[security]>=2.31.0,<3 ; python_version >= "3.8"\n');
    const r2 = bumpPackage(files, { package: 'django', fixedVersion: '3.2.25' });
    expect(r2.changes[0].content).toContain('Django==3.2.25  # LTS\n');
    const r3 = bumpPackage(files, { package: 'urllib3', fixedVersion: '1.26.18' });
    expect(r3.changes[0].content).toContain('\nurllib3>=1.26.18\n');
    const r4 = bumpPackage(files, { package: 'pyyaml', fixedVersion: '5.4.1' });
    expect(r4.changes[0].content).toContain('\nPyYAML~=5.4.1\n');
    const r5 = bumpPackage(files, { package: 'certifi', fixedVersion: '2023.7.22' });
    expect(r5.changes).toEqual([{ path: 'app/requirements-base.txt', content: 'certifi==2023.7.22\n' }]);
    const r6 = bumpPackage(memoryFiles({ 'requirements.txt': 'Foo_Bar.baz>1.0 \\\n    ; python_version > "3"\n' }), { package: 'foo-bar-baz', fixedVersion: '1.2' });
    expect(r6.changes[0].content).toBe('Foo_Bar.baz>=1.2 \\\n    ; python_version > "3"\n');
  });

  it('refuses pip changes that need a human: hashes, and upper bounds below the fix', () => {
    const hashed = memoryFiles({ 'requirements.txt': 'idna==3.4 \\\n    --hash=sha256:abc\n' });
    expect(() => bumpPackage(hashed, { package: 'idna', fixedVersion: '3.7' })).toThrow(/hash-pinned/);
    const capped = memoryFiles({ 'requirements.txt': 'idna>=3.0,<3.5\n' });
    expect(() => bumpPackage(capped, { package: 'idna', fixedVersion: '3.7' })).toThrow(/"<3\.5" excludes the fixed version/);
    try {
      bumpPackage(capped, { package: 'idna', fixedVersion: '3.7' });
    } catch (err) {
      expect((err as TemplateError).code).toBe('refused');
    }
    // Already fixed: the hash does not matter.
    expect(bumpPackage(hashed, { package: 'idna', fixedVersion: '3.3' }).changes).toEqual([]);
  });

  it('bumps go.mod requires, single-line and in blocks, keeping // indirect', () => {
    const r = bumpPackage(files, { package: 'golang.org/x/net', fixedVersion: '0.17.0' });
    expect(r.changes[0].content).toContain('\tgolang.org/x/net v0.17.0 // indirect\n');
    const gin = bumpPackage(files, { package: 'github.com/gin-gonic/gin', fixedVersion: 'v1.9.1' });
    expect(gin.changes[0].content).toContain('require github.com/gin-gonic/gin v1.9.1\n');
    expect(gin.summary).toMatch(/go\.sum|v1\.9\.0` → `v1\.9\.1/);
    const replaced = memoryFiles({ 'go.mod': 'module m\n\nrequire x.io/y v1.0.0\n\nreplace x.io/y => x.io/y v1.0.1\n' });
    expect(bumpPackage(replaced, { package: 'x.io/y', fixedVersion: '1.0.2' }).summary).toMatch(/`replace` directive/);
    // The /v10 module is not the same module as a prefix of it.
    expect(() => bumpPackage(files, { package: 'github.com/go-playground/validator', fixedVersion: '10.15.0' })).toThrow(/not declared/);
  });

  it('limits itself to manifestPath when given, and validates parameters', () => {
    const r = bumpPackage(files, { package: 'lodash', fixedVersion: '4.17.21', manifestPath: './app/package.json' });
    expect(r.changes.map((c) => c.path)).toEqual(['app/package.json']);
    expect(() => bumpPackage(files, { package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'nope/package.json' })).toThrow(/does not exist/);
    expect(() => bumpPackage(files, { package: 'lodash', fixedVersion: '4.17.21', manifestPath: 'Gemfile' })).toThrow(/unsupported manifest/);
    expect(() => bumpPackage(files, { package: 'lodash', fixedVersion: 'latest' })).toThrow(/not a version/);
    expect(() => bumpPackage(files, { package: 'left-pad', fixedVersion: '1.3.0' })).toThrow(/not declared/);
  });
});

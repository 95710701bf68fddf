import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatProblem, loadPolicyDir, parsePlaybookText, PolicyError, type PolicyProblem } from '../../../planner/load';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const INVALID = path.join(ROOT, 'test', 'fixtures', 'policies-unit', 'invalid');
const DEFAULT = path.join(ROOT, 'policies', 'default');

function problemsOf(dir: string): PolicyProblem[] {
  try {
    loadPolicyDir(dir);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    return (e as PolicyError).problems;
  }
  throw new Error(`${dir} loaded without problems`);
}

describe('loadPolicyDir refuses a bad policy, naming file, path, line and reason', () => {
  it('bad YAML (unclosed flow sequence)', () => {
    const problems = problemsOf(path.join(INVALID, 'bad-yaml'));
    // The `[` opens on line 6; the parser notices on line 7, where the next item starts inside it.
    expect(problems[0]).toEqual({ file: '10-broken.yaml', path: '', line: 7, message: 'YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' });
    for (const p of problems) expect(p).toMatchObject({ file: '10-broken.yaml', line: 7, message: expect.stringMatching(/^YAML: /) });
  });

  it('duplicate YAML key: reported by the YAML layer with its line', () => {
    const r = parsePlaybookText('id: a\nname: first\nsteps:\n  - id: t\n    action: ticket.open\nname: second\n', 'dupkey.yaml');
    expect(r.playbook).toBeUndefined();
    expect(r.problems).toEqual([{ file: 'dupkey.yaml', path: '', line: 6, message: 'YAML: Map keys must be unique' }]);
  });

  it('unknown action', () => {
    const [p, ...rest] = problemsOf(path.join(INVALID, 'unknown-action'));
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ file: '10-reboot.yaml', path: 'steps.1.action', line: 9 });
    expect(p.message).toContain('"endpoint.isolate"');
    expect(p.message).toMatch(/^Invalid option: expected one of/);
  });

  it('bad duration ("4 hours")', () => {
    expect(problemsOf(path.join(INVALID, 'bad-duration'))).toEqual([
      { file: '10-slow.yaml', path: 'steps.1.timeout', line: 9, message: 'invalid duration "4 hours" (use e.g. 90s, 15m, 4h, 2d, 1h30m)' },
    ]);
  });

  it('bad `when` expression (unclosed parenthesis)', () => {
    expect(problemsOf(path.join(INVALID, 'bad-when'))).toEqual([
      { file: '10-when.yaml', path: 'steps.1.when', line: 8, message: '"riskScore >= 90 and (asset.environment == production": unclosed (' },
    ]);
  });

  it('duplicate step id', () => {
    expect(problemsOf(path.join(INVALID, 'duplicate-step'))).toEqual([{ file: '10-dup.yaml', path: 'steps.2.id', line: 8, message: 'duplicate step id "ticket"' }]);
  });

  it('duplicate playbook id across files: the later file is refused, at its id line', () => {
    expect(problemsOf(path.join(INVALID, 'duplicate-playbook'))).toEqual([
      { file: '20-second.yaml', path: 'id', line: 3, message: 'playbook id "shared" is also used by 10-first.yaml' },
    ]);
  });

  it('approval with no users or groups: one problem, at the approval key', () => {
    expect(problemsOf(path.join(INVALID, 'no-approvers'))).toEqual([
      { file: '10-nobody.yaml', path: 'steps.1.approval', line: 8, message: 'an approval names at least one user or group' },
    ]);
  });

  it('quorum larger than the users who may approve points at the quorum', () => {
    expect(problemsOf(path.join(INVALID, 'quorum'))).toEqual([
      { file: '10-quorum.yaml', path: 'steps.1.approval.quorum', line: 10, message: 'quorum is larger than the number of users who may approve' },
    ]);
  });

  it('unknown top-level key (the schema is strict): path and line of the key', () => {
    expect(problemsOf(path.join(INVALID, 'unknown-key'))).toEqual([{ file: '10-extra.yaml', path: 'escalations', line: 7, message: 'unknown key "escalations"' }]);
  });

  it('unknown key inside a step', () => {
    const r = parsePlaybookText('id: a\nname: n\nsteps:\n  - id: t\n    action: ticket.open\n    approvals: { groups: [x] }\n', 'step-key.yaml');
    expect(r.problems).toEqual([{ file: 'step-key.yaml', path: 'steps.0.approvals', line: 6, message: 'unknown key "approvals"' }]);
  });

  it('every problem of every file at once; the good file does not hide them', () => {
    const problems = problemsOf(path.join(INVALID, 'several'));
    expect(problems.map((p) => [p.file, p.path, p.line])).toEqual([
      ['20-reboot.yaml', 'steps.1.action', 9],
      ['30-slow.yaml', 'steps.1.timeout', 9],
    ]);
  });

  it('the error message lists each problem as file:line: path: reason', () => {
    try {
      loadPolicyDir(path.join(INVALID, 'bad-duration'));
      throw new Error('loaded');
    } catch (e) {
      expect((e as Error).message).toBe('invalid policy:\n10-slow.yaml:9: steps.1.timeout: invalid duration "4 hours" (use e.g. 90s, 15m, 4h, 2d, 1h30m)');
      expect((e as Error).name).toBe('PolicyError');
    }
    expect(formatProblem({ file: 'x.yaml', path: '', message: 'no' })).toBe('x.yaml: (top level): no');
  });

  it('a path that is not a folder, and a folder without playbooks', () => {
    const missing = path.join(INVALID, 'does-not-exist');
    expect(problemsOf(missing)).toEqual([{ file: missing, path: '', message: 'not a folder of playbook YAML files' }]);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'drw-empty-'));
    try {
      fs.writeFileSync(path.join(empty, 'README.md'), '# not a playbook\n');
      expect(problemsOf(empty)).toEqual([{ file: empty, path: '', message: 'no .yaml playbooks in this folder' }]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('what a valid playbook turns into', () => {
  it('parses durations, conditions (text kept as written) and fills defaults', () => {
    const r = parsePlaybookText(
      [
        'id: p',
        'name: P',
        'steps:',
        '  - id: c',
        '    action: endpoint.isolate',
        '    when: "  riskScore >= 90  "',
        '    timeout: 1h30m',
        '    approval: { groups: [secops], expiresAfter: 2d }',
        '    verify: { interval: 500ms }',
      ].join('\n'),
      'p.yaml',
    );
    expect(r.problems).toEqual([]);
    const pb = r.playbook!;
    expect(pb).toMatchObject({ priority: 0, match: {}, sla: {}, escalation: [] });
    const s = pb.steps[0];
    expect(s.timeout).toBe(5_400_000);
    expect(s.when).toEqual({ text: 'riskScore >= 90', cond: { field: 'riskScore', op: '>=', value: 90 } });
    expect(s.approval).toEqual({ users: [], groups: ['secops'], quorum: 1, allowRequester: false, expiresAfter: 172_800_000, onExpiry: 'deny' });
    expect(s.verify).toEqual({ interval: 500, deadline: 3_600_000 });
    expect(s.retry).toEqual({ maximumAttempts: 5, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000 });
    expect(s.disruptive).toBe(false);
    expect(s.params).toEqual({});
  });
});

describe('policy version', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drw-policy-'));
    for (const f of fs.readdirSync(DEFAULT)) fs.copyFileSync(path.join(DEFAULT, f), path.join(tmp, f));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is a 16-hex content hash: the same files in another folder give the same version', () => {
    const v = loadPolicyDir(DEFAULT).version;
    expect(v).toMatch(/^[0-9a-f]{16}$/);
    expect(loadPolicyDir(tmp).version).toBe(v);
    expect(loadPolicyDir(tmp).version).toBe(v);
  });

  it('changes when a file changes, even in a comment, and comes back when the change is undone', () => {
    const v = loadPolicyDir(tmp).version;
    const file = path.join(tmp, '99-triage.yaml');
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `${text}# reviewed\n`);
    const changed = loadPolicyDir(tmp).version;
    expect(changed).not.toBe(v);
    fs.writeFileSync(file, text);
    expect(loadPolicyDir(tmp).version).toBe(v);
  });

  it('changes when a file is renamed or added; files that are not YAML do not count', () => {
    const v = loadPolicyDir(tmp).version;
    fs.writeFileSync(path.join(tmp, 'NOTES.md'), 'not part of the policy\n');
    expect(loadPolicyDir(tmp).version).toBe(v);
    fs.renameSync(path.join(tmp, '99-triage.yaml'), path.join(tmp, '98-triage.yaml'));
    const renamed = loadPolicyDir(tmp).version;
    expect(renamed).not.toBe(v);
    fs.writeFileSync(path.join(tmp, '60-extra.yml'), 'id: extra\nname: Extra\nmatch: { sources: [nothing] }\nsteps: [{ id: t, action: ticket.open }]\n');
    const added = loadPolicyDir(tmp);
    expect(added.version).not.toBe(renamed);
    expect(added.files.extra).toBe('60-extra.yml');
  });
});

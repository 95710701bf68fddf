import { run, sampleJson, sha256, single } from './samples';

const TRUSTED = 'falco/elastic-integrations-falco-read-sensitive-file-trusted-after-startup.json';
const K8S = 'falco/elastic-integrations-falco-read-sensitive-file-untrusted-k8s.json';
const SHELL = 'falco/elastic-integrations-falco-run-shell-untrusted.json';
const SIDEKICK = 'falco/falcosidekick-readme-write-below-binary-dir.json';
const OCSF_RAW = 'falco/ocsf-examples-falco-raw-kernel-module-injection.json';

describe('falco normalizer', () => {
  it('maps a container event (Warning → medium)', () => {
    const f = single('falco', TRUSTED);
    expect(f).toMatchObject({
      source: 'falco',
      rule: 'Read sensitive file trusted after startup',
      severity: 'medium',
      category: 'runtime-threat',
      status: 'open',
      observedAt: '2024-05-07T18:54:26.271Z',
      asset: { id: 'elastic-package-service-falco-event-generator-1', type: 'container' },
      dedupeKey: 'falco|elastic-package-service-falco-event-generator-1|Read sensitive file trusted after startup',
    });
    expect(f.details).toMatchObject({
      file: '/etc/shadow',
      containerId: '9656db3bb358',
      image: 'falcosecurity/event-generator:0.10.0',
      hostname: '97ade2b595f0',
    });
    expect(String(f.details?.output)).toMatch(/^Sensitive file opened for reading/);
  });

  it('prefers the k8s pod as asset', () => {
    const f = single('falco', K8S);
    expect(f).toMatchObject({
      rule: 'Read sensitive file untrusted',
      severity: 'medium',
      asset: { id: 'kubernetes-ns/kubernetes-pod-1', type: 'k8s-pod' },
      details: { k8sNamespace: 'kubernetes-ns', k8sPod: 'kubernetes-pod-1' },
    });
  });

  it('maps Notice → low', () => {
    const f = single('falco', SHELL);
    expect(f).toMatchObject({ rule: 'Run shell untrusted', severity: 'low', observedAt: '2024-05-13T13:23:27.021Z' });
  });

  it('maps the falcosidekick example (Error → high, host asset, `time` wins over evt.time)', () => {
    const f = single('falco', SIDEKICK);
    expect(f).toMatchObject({
      rule: 'Write below binary dir',
      severity: 'high',
      asset: { id: 'localhost', type: 'host' },
      observedAt: '2019-05-17T15:31:56.746Z',
      details: { file: '/bin/hack', userName: 'root' },
    });
  });

  it('keeps the sidekick uuid and drops unrendered placeholders', () => {
    const raw = sampleJson(OCSF_RAW);
    const f = single('falco', OCSF_RAW);
    expect(f).toMatchObject({
      rule: 'Linux Kernel Module Injection Detected',
      severity: 'medium',
      asset: { id: 'host0.local', type: 'host' },
      observedAt: '2023-01-03T15:11:39.558Z',
    });
    expect(f.rawRef).toEqual({ format: 'falco', sha256: sha256(raw), sourceId: 'ec834826-90c1-458a-8eec-a014e7266754' });
    expect(f.details?.userName).toBeUndefined();
    expect(f.details?.output).toBeUndefined();
  });

  it.each([
    ['Emergency', 'critical'],
    ['Alert', 'critical'],
    ['Critical', 'critical'],
    ['Error', 'high'],
    ['Warning', 'medium'],
    ['Notice', 'low'],
    ['Informational', 'low'],
    ['Debug', 'info'],
  ])('maps priority %s → %s', (priority, severity) => {
    const event = { ...sampleJson(SIDEKICK), priority };
    expect(run('falco', event).findings[0].severity).toBe(severity);
  });

  it('rejects an event without priority', () => {
    expect(() => run('falco', { rule: 'x', output: 'y' })).toThrow(/\$\.priority is missing/);
  });
});

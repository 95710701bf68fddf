import { IngestError } from '../../../ingest';
import { run, sampleJson, sampleText, sha256, single } from './samples';

const FIRING = 'alertmanager/metalmatze-alertmanager-bot-firing.json';
const RESOLVED = 'alertmanager/metalmatze-alertmanager-bot-resolved.json';
const PROMETHEUS = 'alertmanager/moan0s-alertbot-prometheus-firing.json';
const GRAFANA = 'alertmanager/moan0s-alertbot-grafana-managed-resolved.json';
const MULTI = 'alertmanager/weblogic-operator-captured-multi-alert-firing.json';

describe('alertmanager normalizer', () => {
  it('maps a firing alert (metalmatze firing)', () => {
    const f = single('alertmanager', FIRING);
    expect(f).toMatchObject({
      source: 'alertmanager',
      rule: 'Fire',
      title: 'Something is on fire',
      severity: 'critical',
      category: 'infrastructure',
      status: 'open',
      observedAt: '2018-11-04T21:43:58.283Z',
      asset: { id: 'Fire', type: 'alert' },
    });
    expect(f.rawRef).toEqual({
      format: 'alertmanager',
      sha256: sha256(sampleJson(FIRING).alerts[0]),
      url: 'http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1',
    });
  });

  it('maps the resolved notification of the same alert to resolved, same dedupeKey, observed at endsAt', () => {
    const firing = single('alertmanager', FIRING);
    const resolved = single('alertmanager', RESOLVED);
    expect(resolved.status).toBe('resolved');
    expect(resolved.observedAt).toBe('2018-11-04T21:48:13.283Z');
    expect(resolved.dedupeKey).toBe(firing.dedupeKey);
  });

  it('takes the asset from the instance label and keeps the fingerprint (moan0s prometheus)', () => {
    const f = single('alertmanager', PROMETHEUS);
    expect(f).toMatchObject({
      rule: 'InstanceDown',
      title: 'Instance webserver.example.com down',
      severity: 'critical',
      status: 'open',
      observedAt: '2022-06-23T11:53:14.318Z',
      asset: { id: 'webserver.example.com', type: 'host', environment: 'monitoring.example.com' },
      dedupeKey: 'alertmanager|webserver.example.com|InstanceDown|fp:9cd7837114d58797',
    });
    expect(f.rawRef?.sourceId).toBe('9cd7837114d58797');
    // endsAt "0001-01-01T00:00:00Z" is Go's zero time: no end, so not reported.
    expect(f.details?.endsAt).toBeUndefined();
    expect(f.details?.labels).toMatchObject({ job: 'node_exporter' });
  });

  it('accepts a Grafana-managed (version "1") resolved notification', () => {
    const raw = sampleJson(GRAFANA);
    expect(raw.version).toBe('1');
    const f = single('alertmanager', GRAFANA);
    expect(f).toMatchObject({
      rule: 'HTTP response not OK',
      status: 'resolved',
      // No severity label at all: not silently downgraded to info.
      severity: 'medium',
      observedAt: '2022-08-24T17:29:00.000Z',
      dedupeKey: expect.stringContaining('fp:54827aa3e6b3dbbe'),
    });
    expect(f.rawRef).toMatchObject({ sourceId: '54827aa3e6b3dbbe', url: 'http://0.0.0.0:3000/alerting/grafana/t7R1ZdZ4k/view' });
    expect(f.details?.grafanaOrgId).toBe(1);
  });

  it('gives one finding per alert and keeps sibling alerts apart without fingerprints (weblogic)', () => {
    const raw = sampleJson(MULTI);
    const r = run('alertmanager', sampleText(MULTI));
    expect(r.findings).toHaveLength(raw.alerts.length);
    expect(r.findings.map((f) => f.severity)).toEqual(['critical', 'critical']); // severity "page"
    expect(r.findings.map((f) => f.rule)).toEqual(['ClusterWarning', 'ClusterWarning']);
    expect(r.findings.map((f) => f.asset.id)).toEqual([
      'weblogic_clusterName=osb_cluster,weblogic_domainUID=soainfra',
      'weblogic_clusterName=soa_cluster,weblogic_domainUID=soainfra',
    ]);
    expect(new Set(r.findings.map((f) => f.dedupeKey)).size).toBe(2);
    expect(r.findings[1].observedAt).toBe('2020-06-12T16:21:20.760Z');
  });

  it('prefers pod (namespaced) over instance and maps severity words', () => {
    const payload = {
      version: '4',
      status: 'firing',
      alerts: [
        { status: 'firing', labels: { alertname: 'KubePodCrashLooping', severity: 'warning', instance: '10.0.0.5:8080', pod: 'api-1', namespace: 'prod' }, startsAt: '2024-01-01T00:00:00Z' },
        { status: 'firing', labels: { alertname: 'Info', severity: 'info', node: 'node-a' }, startsAt: '2024-01-01T00:00:00Z' },
      ],
    };
    const [pod, node] = run('alertmanager', payload).findings;
    expect(pod.asset).toEqual({ id: 'prod/api-1', type: 'k8s-pod' });
    expect(pod.severity).toBe('medium');
    expect(node.asset).toEqual({ id: 'node-a', type: 'k8s-node' });
    expect(node.severity).toBe('info');
  });

  it('skips an alert without labels and rejects a payload without alerts', () => {
    const r = run('alertmanager', { version: '4', alerts: [{ status: 'firing' }] });
    expect(r.skipped).toEqual([{ reason: 'alert has no labels object', ref: 'alerts[0]' }]);
    expect(() => run('alertmanager', { receiver: 'x', status: 'firing' })).toThrow(IngestError);
    expect(() => run('alertmanager', { receiver: 'x' })).toThrow(/\$\.alerts is missing/);
  });
});

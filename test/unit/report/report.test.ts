import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { aggregate, renderAggregate } from '../../../report/aggregate';
import { buildReport } from '../../../report/build';
import { canonicalText, chainText, historyDigest, HistoryFormatError, runFromJson, runsFromText } from '../../../report/history';
import { historyFromJson, historyToJson } from '../../../report/history-json';
import { extract } from '../../../report/extract';
import { renderReport, reportCsv, TIMELINE_CSV_HEADERS } from '../../../report/render';
import type { DescribedDecision } from '../../../remediation/events';
import { CHAIN_FILE, EDR_FILE, PRE_CORE_FILE, fixtureRuns, fixtureText } from './fixtures';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const NOW = new Date('2030-01-01T00:00:00Z');

/** RFC 4180 rows (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        f += '"';
        i++;
      } else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(f);
      f = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
      i++;
    } else f += c;
  }
  return rows;
}

describe('report from a recorded history (EDR, one run)', () => {
  const text = fixtureText(EDR_FILE);
  const runs = fixtureRuns(EDR_FILE);
  const r = buildReport(runs, { now: NOW });

  test('carries the SHA-256 of the exported history file, byte for byte', () => {
    expect(r.history.sha256).toBe(sha(text));
    expect(r.history.runs).toEqual([expect.objectContaining({ sha256: sha(text), events: runs[0].events.length, close: 'completed' })]);
    expect(r.history.decisionsFrom).toEqual(['history', 'result']);
  });

  test('the detection, the outcome and the SLA', () => {
    expect(r.id).toMatch(/^drw-crowdstrike-rpt-host-/);
    expect(r.detection).toMatchObject({ source: 'crowdstrike', rule: 'Trojan.GenericKD', severity: 'high', riskScore: 60 });
    expect(r.requestedBy).toBe('api:crowdstrike');
    expect(r.outcome).toMatchObject({ workflow: 'completed', status: 'remediated', resolution: 'remediated', findingCount: 2, riskScore: 70, playbook: 'edr-malware', ticket: { system: 'inprocess', ticketId: 'DRW-1' } });
    expect(r.outcome.durationMs).toBeGreaterThan(0);
    expect(r.sla).toMatchObject({ status: 'met', breached: false, deadline: expect.any(String) });
  });

  test('detections and repeats, risk changes', () => {
    expect(r.detections.map((d) => [d.kind, d.observedAt ?? null])).toEqual([
      ['initial', null],
      ['repeat', '2026-01-01T00:00:00Z'],
    ]);
    expect(r.riskChanges).toEqual([expect.objectContaining({ from: 60, to: 70, reason: 'second host talked to the C2', by: 'soc-bot' })]);
  });

  test('every plan version with its reason and diff', () => {
    expect(r.plans.map((p) => [p.version, p.why])).toEqual([
      [1, 'initial plan'],
      [2, 'risk score 60 → 70'],
      [3, 'approve of edr-malware.contain by alice'],
    ]);
    expect(r.plans[0].diff.map((d) => [d.step, d.change, d.to])).toEqual([
      ['edr-malware.ticket', 'added', 'pending'],
      ['edr-malware.contain', 'added', 'awaiting_approval'],
      ['edr-malware.notify', 'added', 'pending'],
      ['edr-malware.verify', 'added', 'pending'],
    ]);
    // The containment comment quotes the risk score: the step changed under the approver's eyes.
    expect(r.plans[1].diff).toEqual([expect.objectContaining({ step: 'edr-malware.contain', change: 'params' })]);
    expect(r.plans[2].diff).toEqual([expect.objectContaining({ step: 'edr-malware.contain', change: 'status', from: 'awaiting_approval', to: 'pending' })]);
    expect(r.finalPlan?.steps.map((s) => [s.id, s.status])).toEqual([
      ['edr-malware.ticket', 'done'],
      ['edr-malware.contain', 'done'],
      ['edr-malware.notify', 'done'],
      ['edr-malware.verify', 'done'],
    ]);
  });

  test('approvals: who, when, why, and how long the step waited', () => {
    expect(r.approvals).toHaveLength(1);
    const a = r.approvals[0];
    expect(a).toMatchObject({ stepId: 'edr-malware.contain', decision: 'approve', by: 'alice', groups: ['secops'], reason: 'confirmed on the console', via: 'update', outcome: 'accepted' });
    expect(a.requestedAt).toBe(r.plans[0].at);
    expect(a.waitMs).toBe(Date.parse(a.at) - Date.parse(r.plans[0].at));
  });

  test('actions with their step and result; verification', () => {
    expect(r.actions.map((a) => [a.activity, a.stepId ?? null, a.outcome])).toEqual([
      ['loadPolicy', null, 'completed'],
      ['lookupAsset', null, 'completed'],
      ['resolveDevice', null, 'completed'],
      ['openTicket', 'edr-malware.ticket', 'completed'],
      ['notify', 'edr-malware.notify', 'completed'],
      ['updateTicket', null, 'completed'],
      ['isolateHost', 'edr-malware.contain', 'completed'],
      ['verify', 'edr-malware.verify', 'completed'],
      ['closeTicket', null, 'completed'],
    ]);
    expect(r.actions[0].result).toEqual({ version: expect.any(String), playbooks: expect.arrayContaining(['edr-malware']) });
    expect(r.verification.some((v) => v.ok === true && v.stepId === 'edr-malware.verify')).toBe(true);
    expect(r.compensations).toEqual([]);
  });

  test('the timeline is in history order: inputs before what they caused, the close last', () => {
    const kinds = r.timeline.map((t) => t.kind);
    expect(kinds[0]).toBe('detection');
    expect(kinds[kinds.length - 1]).toBe('run');
    const i = (pred: (t: (typeof r.timeline)[number]) => boolean) => r.timeline.findIndex(pred);
    expect(i((t) => t.kind === 'risk')).toBeLessThan(i((t) => t.kind === 'plan' && /plan v2/.test(t.summary)));
    expect(i((t) => t.kind === 'approval')).toBeLessThan(i((t) => t.kind === 'plan' && /plan v3/.test(t.summary)));
    expect(i((t) => t.kind === 'plan' && /plan v3/.test(t.summary))).toBeLessThan(i((t) => t.kind === 'action' && t.step === 'edr-malware.contain'));
    expect(r.timeline.find((t) => t.kind === 'approval')).toMatchObject({ by: 'alice', step: 'edr-malware.contain', source: 'history' });
    expect(r.timeline.filter((t) => t.kind === 'status').map((t) => t.summary)).toContain('status remediating → remediated');
  });

  test('markdown, JSON and CSV each carry the digest', () => {
    const md = renderReport(r, 'md');
    expect(md).toContain(`# Remediation report: ${r.id}`);
    expect(md).toContain(`History SHA-256: \`${r.history.sha256}\``);
    for (const h of ['## Plans', '## Approvals and denials', '## Actions', '## Verification', '## SLA', '## Compensations', '## Timeline']) expect(md).toContain(h);
    expect(md).toMatch(/\| .* \| edr-malware\.contain \| approve \| alice \| secops \| confirmed on the console \| update \| accepted \| /);

    expect(JSON.parse(renderReport(r, 'json'))).toEqual(JSON.parse(JSON.stringify(r)));

    const rows = parseCsv(reportCsv(r));
    expect(rows[0]).toEqual(TIMELINE_CSV_HEADERS);
    expect(rows).toHaveLength(r.timeline.length + 1);
    for (const row of rows.slice(1)) {
      expect(row).toHaveLength(TIMELINE_CSV_HEADERS.length);
      expect(row[0]).toBe(r.id);
      expect(row[1]).toBe(r.history.sha256);
    }
  });

  test('CSV cells that a spreadsheet would run as formulas are neutralised', () => {
    const evil = { ...r, timeline: [{ ...r.timeline[0], summary: '=HYPERLINK("http://x")', by: '+cmd' }] };
    const row = parseCsv(reportCsv(evil))[1];
    expect(row[4]).toBe(`'=HYPERLINK("http://x")`);
    expect(row[5]).toBe(`'+cmd`);
  });

  test('the same history gives the same report; any change to it changes the digest', () => {
    expect(buildReport(fixtureRuns(EDR_FILE), { now: NOW })).toEqual(r);
    const tampered = JSON.parse(text);
    tampered.events[0].eventTime = '2020-01-01T00:00:00Z';
    expect(runsFromText(JSON.stringify(tampered)).sha256).not.toBe(r.history.sha256);
  });

  test('map key order (which the server does not keep stable) does not change the digest', () => {
    const reordered = JSON.parse(text);
    const md = reordered.events[0].workflowExecutionStartedEventAttributes.input.payloads[0].metadata;
    reordered.events[0].workflowExecutionStartedEventAttributes.input.payloads[0].metadata = Object.fromEntries(Object.entries(md).reverse().concat([['zz', 'eg==']]));
    delete reordered.events[0].workflowExecutionStartedEventAttributes.input.payloads[0].metadata.zz;
    const compact = JSON.stringify(reordered);
    expect(runsFromText(compact).sha256).toBe(r.history.sha256);
  });

  test('the history JSON round-trips through the proto types (as the replayer reads it)', () => {
    const h = historyFromJson(text);
    expect(h.events).toHaveLength(runs[0].events.length);
    expect(canonicalText(JSON.parse(historyToJson(h)))).toBe(text);
  });

  test('a remediation still running: its history alone carries the plans and reasons so far; status from search attributes', () => {
    const all = JSON.parse(text);
    const cut = all.events.findIndex((e: any) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const running = runFromJson({ events: all.events.slice(0, cut) });
    const bare = buildReport([running], { now: NOW });
    expect(bare.outcome.workflow).toBe('running');
    expect(bare.outcome.status).toBe('awaiting_approval');
    expect(bare.plans.map((p) => [p.version, p.why])).toEqual([
      [1, 'initial plan'],
      [2, 'risk score 60 → 70'],
    ]);
    expect(bare.history.decisionsFrom).toEqual(['history']);
    expect(bare.sla.status).toBe('open');
    expect(bare.warnings.join('\n')).not.toMatch(/decision log/);

    // The decisions query adds nothing the history does not already have.
    const queried: DescribedDecision[] = extract(runs).decisions.filter((d) => d.seq <= 11);
    const withQuery = buildReport([running], { queried, now: NOW });
    expect(withQuery.history.decisionsFrom).toEqual(['history', 'query']);
    expect(withQuery.plans).toEqual(bare.plans);
  });

  test('a history recorded before the remediation core: plans and approvals from its log, nothing parsed out of its sentences', () => {
    const pre = buildReport(runsFromText(fixtureText(PRE_CORE_FILE)).runs, { now: NOW });
    expect(pre.outcome).toMatchObject({ workflow: 'completed', status: 'remediated' });
    expect(pre.plans.map((p) => p.version)).toEqual([1, 2, 3]);
    expect(pre.approvals).toEqual([expect.objectContaining({ by: 'alice', decision: 'approve', via: 'update', outcome: 'accepted' })]);
    expect(pre.timeline.some((t) => t.kind === 'note' && /^remediation remediated/.test(t.summary))).toBe(true);
  });

  test('every generation of core run is read as one: its decisions typed (the last ones from its result), its planning checks known', () => {
    // Recorded by the scenario tests (test/histories): runs that begin with the newest marker of their
    // release (wake-timer-kept, publish-when-blocked, approval-requests, closed-loop).
    for (const file of ['critical-vuln-internet-prod.json', '8-before-wake-timer-kept/critical-vuln-internet-prod.json', '7-before-publish-when-blocked/critical-vuln-internet-prod.json', '5-before-approval-requests/critical-vuln-internet-prod.json']) {
      const x = extract(runsFromText(readFileSync(path.join(__dirname, '../../histories', file), 'utf8')).runs);
      expect([file, x.decisions.filter((d) => d.kind === 'legacy')]).toEqual([file, []]);
      expect([file, x.decisions.some((d) => d.kind === 'final'), x.planningChecks]).toEqual([file, true, true]);
    }
  });

  test('not a history: a precise error', () => {
    expect(() => runsFromText('{"nope": 1}')).toThrow(HistoryFormatError);
    expect(() => runsFromText('not json')).toThrow(/not JSON/);
    expect(() => runsFromText('{"events": []}')).toThrow(/no events/);
  });
});

describe('report over a continue-as-new chain (three runs)', () => {
  const text = fixtureText(CHAIN_FILE);
  const { runs, chain, sha256 } = runsFromText(text);
  const r = buildReport(runs, { now: NOW });

  test('follows every run; the digest is the chain file\'s', () => {
    expect(chain).toBe(true);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(r.history.sha256).toBe(sha(text));
    expect(r.history.sha256).toBe(sha256);
    expect(historyDigest(r.id, runs)).toBe(sha(chainText(r.id, runs)));
    r.history.runs.slice(1).forEach((run, i) => expect(run.continuedFrom).toBe(r.history.runs[i].runId));
    expect(r.history.runs.slice(0, -1).every((x) => x.close === 'continued_as_new')).toBe(true);
    expect(r.history.decisionsFrom).toEqual(['history', 'carried', 'result']);
  });

  test('repeats across runs, the approval in a later run, the outcome', () => {
    expect(r.detections.filter((d) => d.kind === 'repeat')).toHaveLength(30);
    expect(r.outcome).toMatchObject({ status: 'remediated', findingCount: 31, playbook: 'cloud-misconfiguration' });
    expect(r.approvals).toEqual([expect.objectContaining({ by: 'carol', groups: ['cloud-owners'], stepId: 'cloud-misconfiguration.fix-bucket', outcome: 'accepted' })]);
    expect(r.plans.map((p) => p.version)).toEqual([1, 2]);
    expect(r.actions.some((a) => a.activity === 'openPullRequest' && a.stepId === 'cloud-misconfiguration.fix-bucket')).toBe(true);
    expect(r.timeline.filter((t) => t.kind === 'run' && /continued as new/.test(t.summary))).toHaveLength(runs.length - 1);
    const md = renderReport(r, 'md');
    expect(md).toMatch(/history run 2 #\d+/);
  });

  test('only the last run: the carried state stands in for the earlier ones, with a warning', () => {
    const last = runFromJson(JSON.parse(text).runs[runs.length - 1].history);
    const partial = buildReport([last], { now: NOW });
    expect(partial.warnings.join('\n')).toMatch(/earlier runs are not included/);
    expect(partial.detection?.rule).toBe('S3.8');
    expect(partial.outcome.status).toBe('remediated');
    // Decisions made in the earlier runs (kept in the log) come before this run's own events.
    expect(partial.timeline.some((t) => t.kind === 'run' && /continues the remediation/.test(t.summary))).toBe(true);
    expect(partial.plans.map((p) => p.version)).toEqual([1, 2]);
  });
});

describe('aggregate report', () => {
  const reports = [buildReport(fixtureRuns(EDR_FILE), { now: NOW }), buildReport(fixtureRuns(CHAIN_FILE), { now: NOW })];
  const a = aggregate(reports, { now: NOW, since: '2026-01-01T00:00:00.000Z' });

  test('mean time to remediate, open by severity, SLA, approval waits', () => {
    expect(a.total).toBe(2);
    expect(a.byStatus).toEqual({ remediated: 2 });
    expect(a.timeToRemediate.count).toBe(2);
    expect(a.timeToRemediate.meanMs).toBe(Math.round((reports[0].outcome.durationMs! + reports[1].outcome.durationMs!) / 2));
    expect(a.open).toEqual({ total: 0, bySeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0 } });
    expect(a.sla).toMatchObject({ breached: 0, met: 2, breaches: [] });
    expect(a.approvalWait.count).toBe(2);
    expect(a.approvalWait.maxMs).toBe(Math.max(...reports.map((r) => r.approvals[0].waitMs!)));
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.remediations.map((x) => x.historySha256)).toEqual(reports.map((r) => r.history.sha256));
  });

  test('counts open remediations and breaches', () => {
    const open = { ...reports[0], id: 'drw-open-1', outcome: { ...reports[0].outcome, workflow: 'running' as const, status: 'awaiting_approval' as const, severity: 'critical' }, sla: { breached: true, status: 'breached' as const, deadline: '2026-01-01T00:00:00Z' } };
    const b = aggregate([...reports, open], { now: NOW });
    expect(b.open.total).toBe(1);
    expect(b.open.bySeverity.critical).toBe(1);
    expect(b.sla.breaches).toEqual([{ id: 'drw-open-1', severity: 'critical', deadline: '2026-01-01T00:00:00Z', status: 'awaiting_approval' }]);
    expect(b.approvalWait.pending).toBe(1);
  });

  test('renders as markdown, JSON and CSV', () => {
    expect(renderAggregate(a, 'md')).toContain('Mean time to remediate: mean');
    expect(JSON.parse(renderAggregate(a, 'json')).total).toBe(2);
    const rows = parseCsv(renderAggregate(a, 'csv'));
    expect(rows).toHaveLength(3);
    expect(rows[1][rows[0].indexOf('history_sha256')]).toBe(reports[0].history.sha256);
  });
});

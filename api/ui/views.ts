/**
 * The approval pages, rendered on the server from the remediation's state: the sign-in picker,
 * the inbox and the remediation page. Pure functions of their inputs (escaped by `html`), so a
 * page is tested without a browser; the one script (/ui/app.js) only refreshes them.
 */
import type { PlanDiffEntry, PlanStep, StepTarget } from '../../planner/types';
import type { RemediationView } from '../../signals';
import { html, type Html } from './html';
import { PAGE_STEPS, type Inbox, type InboxItem } from './inbox';
import { whyNotDecide, type Person } from './decide-rule';

export interface PageContext {
  /** Signed in: who, how, and this session's CSRF token for its forms. */
  who?: Person & { via: 'local' | 'oidc'; csrf: string };
  now: number;
}

/** The short hash of what the page shows, compared by the refresh script. */
export type Tag = string;

function layout(title: string, ctx: PageContext, main: Html, o: { tag?: Tag; refresh?: boolean } = {}): Html {
  const w = ctx.who;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · drw</title>
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/ui">drw approvals</a>
  ${w
    ? html`<div class="who">
    ${w.via === 'local' ? html`<span class="badge local" title="Loopback default: nobody signed in, the identity was picked on this machine">local identity</span>` : ''}
    <span>Signed in as <strong>${w.user}</strong> (${w.groups.length ? w.groups.join(', ') : 'no groups'})</span>
    <form method="post" action="/ui/sign-out" class="inline"><input type="hidden" name="csrf" value="${w.csrf}"><button type="submit" class="link">Sign out</button></form>
  </div>`
    : ''}
</header>
<main id="main" tabindex="-1"${o.tag ? html` data-tag="${o.tag}"` : ''}${o.refresh ? html` data-refresh="on"` : ''}>
${main}
</main>
<div id="live" class="live" role="status" aria-live="polite"></div>
</body>
</html>`;
}

const when = (iso: string | undefined) => (iso ? html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>` : '');

/** "2 h 5 min left", "overdue by 3 min". */
export function timeLeft(deadline: string | undefined, now: number): string {
  if (!deadline) return 'no SLA';
  const ms = Date.parse(deadline) - now;
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : m ? `${m} min` : `${Math.floor(abs / 1000)} s`;
  return ms >= 0 ? `${text} left` : `overdue by ${text}`;
}

export function signInPage(o: { csrf: string; groups: string[]; users: string[]; next?: string; error?: string; oidc: boolean; local: boolean; now: number }): Html {
  const body = o.local
    ? html`<h1>Sign in</h1>
<div class="notice warn" role="note">
  <h2>Local identity picker (loopback default)</h2>
  <p>drw runs on this machine without an identity provider: nothing is verified, and anyone who can reach this address may pick any name and groups.
  Configure <code>DRW_OIDC_ISSUER</code> and <code>DRW_JWT_*</code> before exposing drw to others.</p>
</div>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/ui/sign-in" class="card">
  <input type="hidden" name="csrf" value="${o.csrf}">
  ${o.next ? html`<input type="hidden" name="next" value="${o.next}">` : ''}
  <p><label for="user">Name</label><br><input id="user" name="user" required maxlength="200" autocomplete="username" list="known-users"></p>
  ${o.users.length ? html`<datalist id="known-users">${o.users.map((u) => html`<option value="${u}">`)}</datalist>` : ''}
  <fieldset><legend>Groups (from policies/access.yaml)</legend>
  ${o.groups.map((g, i) => html`<p><input type="checkbox" id="g${i}" name="groups" value="${g}"> <label for="g${i}">${g}</label></p>`)}
  </fieldset>
  <p><button type="submit">Use this identity</button></p>
</form>`
    : o.oidc
      ? html`<h1>Sign in</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/ui/sign-in" class="card">
  <input type="hidden" name="csrf" value="${o.csrf}">
  ${o.next ? html`<input type="hidden" name="next" value="${o.next}">` : ''}
  <p><button type="submit">Sign in with your identity provider</button></p>
</form>`
      : html`<h1>Sign in</h1>
<p class="error" role="alert">People sign in to the API with tokens (DRW_JWT_*), but no identity provider is configured for the browser: set <code>DRW_OIDC_ISSUER</code> and <code>DRW_OIDC_CLIENT_ID</code>.</p>`;
  return layout('Sign in', { now: o.now }, body);
}

function severityBadge(s: string | undefined): Html {
  return s ? html`<span class="badge sev-${s}">${s}</span>` : html``;
}

function itemRow(i: InboxItem, now: number): Html {
  const r = i.remediation;
  const t = i.step.target;
  return html`<tr>
  <td>${when(i.since)}</td>
  <td><a href="/ui/remediations/${encodeURIComponent(r.id)}#step-${i.step.id}">${i.step.title || i.step.action}</a><br><small>${r.title}</small></td>
  <td>${t ? html`${t.kind} <code>${t.id}</code>${t.name ? html` (${t.name})` : ''}` : html`<code>${r.asset?.id ?? ''}</code>`}</td>
  <td>${severityBadge(r.severity)} risk ${r.riskScore}</td>
  <td class="${r.slaBreached || (r.slaDeadline && Date.parse(r.slaDeadline) < now) ? 'overdue' : ''}">${timeLeft(r.slaDeadline, now)}</td>
  <td>${i.step.approval ? html`${i.step.approval.approvedBy.length}/${i.step.approval.quorum}` : ''}</td>
</tr>`;
}

export function inboxPage(ctx: PageContext, inbox: Inbox, tag: Tag): Html {
  const body = html`<h1>Awaiting your decision</h1>
<p class="muted">Steps you may approve or deny (your groups against each step's approval rule), oldest first, up to ${PAGE_STEPS} a page. This list refreshes by itself.</p>
${inbox.items.length
  ? html`<table class="inbox">
  <caption>${inbox.items.length} step${inbox.items.length === 1 ? '' : 's'} awaiting your decision</caption>
  <thead><tr><th scope="col">Waiting since</th><th scope="col">Step</th><th scope="col">Target</th><th scope="col">Severity</th><th scope="col">SLA</th><th scope="col">Approvals</th></tr></thead>
  <tbody>${inbox.items.map((i) => itemRow(i, ctx.now))}</tbody>
</table>`
  : html`<p class="empty">Nothing awaits your decision.</p>`}
${inbox.next !== undefined ? html`<p><a href="/ui?from=${inbox.next}" data-test="more">More: remediations opened later (${inbox.pending - inbox.next} not yet shown)</a></p>` : ''}
${inbox.truncated ? html`<p class="notice warn">More than ${inbox.pending} remediations await approval; the oldest ${inbox.pending} are listed.</p>` : ''}
${inbox.unreadable ? html`<p class="notice warn">${inbox.unreadable} remediation(s) could not be read just now (closed meanwhile, or no worker answering).</p>` : ''}`;
  return layout('Inbox', ctx, body, { tag, refresh: true });
}

function targetBlock(t: StepTarget | undefined, step: PlanStep): Html {
  if (!t) {
    if (step.action === 'iac.pull_request') return html`<p class="notice warn">The change is still being prepared for review: its repository, files and diff appear here before it can be decided.</p>`;
    return html`<p class="muted">No resolved target: the step acts through its parameters below.</p>`;
  }
  const c = t.change;
  return html`<dl class="kv">
  <dt>${t.kind === 'device' ? 'Device' : 'Repository'}</dt><dd><code>${t.id}</code>${t.vendor ? html` (${t.vendor})` : ''}</dd>
  ${t.name ? html`<dt>${t.kind === 'device' ? 'Hostname' : 'File'}</dt><dd><code>${t.name}</code></dd>` : ''}
  <dt>Resolved from</dt><dd>${t.via}</dd>
  ${c ? html`<dt>Base</dt><dd><code>${c.base}</code> at <code>${c.baseCommit.slice(0, 12)}</code></dd>
  <dt>Files</dt><dd><ul class="files">${c.files.map((f) => html`<li><code>${f}</code></li>`)}</ul></dd>
  ${c.summary ? html`<dt>Change</dt><dd>${c.summary}</dd>` : ''}
  <dt>Change digest</dt><dd><code class="digest">${c.digest}</code></dd>` : ''}
</dl>
${c ? (c.noChange ? html`<p class="notice">The template finds nothing to change.</p>` : diffBlock(c.diff, Boolean(c.truncated))) : ''}`;
}

function diffBlock(diff: string, truncated: boolean): Html {
  const lines = diff.split('\n').map((l) => {
    const cls = l.startsWith('+++') || l.startsWith('---') ? 'file' : l.startsWith('@@') ? 'hunk' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : '';
    return cls ? html`<span class="${cls}">${l}</span>\n` : html`${l}\n`;
  });
  return html`<figure class="diff"><figcaption>Diff of the change${truncated ? ' (cut at 16 KiB; the digest covers the whole change)' : ''}</figcaption><pre tabindex="0" aria-label="Diff of the change"><code>${lines}</code></pre></figure>`;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

function decisionForm(id: string, step: PlanStep, ctx: PageContext): Html {
  const w = ctx.who!;
  const why = whyNotDecide(w, step);
  if (why) return html`<p class="notice" data-test="cannot-decide">You cannot decide this step: ${why}.</p>`;
  const fid = `reason-${step.id}`;
  return html`<form method="post" action="/ui/remediations/${encodeURIComponent(id)}/steps/${encodeURIComponent(step.id)}/decide" class="decide">
  <input type="hidden" name="csrf" value="${w.csrf}">
  <input type="hidden" name="digest" value="${step.digest}">
  <p><label for="${fid}">Reason (recorded with your decision)</label><br>
  <textarea id="${fid}" name="reason" required maxlength="2000" rows="3"></textarea></p>
  <p class="muted">Your decision is bound to digest <code>${step.digest.slice(0, 12)}…</code>: if the step changes before it arrives, nothing is decided and this page shows the new step.</p>
  <p><button type="submit" name="decision" value="approve" class="approve">Approve</button>
  <button type="submit" name="decision" value="deny" class="deny">Deny</button></p>
</form>`;
}

/** One step awaiting approval: what will be done, on what, who may decide, and the form. */
export function stepCard(v: RemediationView, step: PlanStep, ctx: PageContext, o: { heading?: string } = {}): Html {
  const a = step.approval;
  return html`<section class="card step" id="step-${step.id}" aria-labelledby="h-${step.id}">
  <h3 id="h-${step.id}">${o.heading ?? (step.title || step.action)}</h3>
  <dl class="kv">
    <dt>Step</dt><dd><code>${step.id}</code> · <code>${step.action}</code>${step.disruptive ? html` · <strong>disruptive</strong>` : ''}</dd>
    <dt>Status</dt><dd>${step.status.replace(/_/g, ' ')}${step.note ? html` — ${step.note}` : ''}</dd>
    ${a ? html`<dt>Who may decide</dt><dd>${[a.users.length ? `users ${a.users.join(', ')}` : '', a.groups.length ? `groups ${a.groups.join(', ')}` : ''].filter(Boolean).join(' or ')}; ${a.quorum} approval${a.quorum === 1 ? '' : 's'} needed${a.approvedBy.length ? `; approved by ${a.approvedBy.join(', ')}` : ''}${a.allowRequester ? '' : `; not ${step.requestedBy}, who requested it`}</dd>` : ''}
    <dt>Step digest</dt><dd><code class="digest" data-test="digest">${step.digest}</code></dd>
    ${step.change ? html`<dt>Change record</dt><dd data-test="change-${step.id}">${changeLine(v, step)}</dd>` : ''}
  </dl>
  <h4>What will be done</h4>
  ${targetBlock(step.target, step)}
  <details><summary>Parameters</summary><pre tabindex="0">${json(step.params)}</pre></details>
  ${step.compensation ? html`<p class="muted">Undone by <code>${step.compensation.action}</code> if the remediation is cancelled.</p>` : ''}
  <h4>Why</h4>
  <dl class="kv">
    <dt>Playbook</dt><dd><code>${step.reason.playbook}</code> (${step.reason.section}${step.reason.trigger ? `: ${step.reason.trigger}` : ''})</dd>
    <dt>Rule</dt><dd><code>${step.reason.rule}</code></dd>
    <dt>Facts it looked at</dt><dd><pre tabindex="0">${json(step.reason.facts)}</pre></dd>
  </dl>
  ${ctx.who && step.status === 'awaiting_approval' ? decisionForm(v.id, step, ctx) : ''}
</section>`;
}

/** The step's change number, where the change stands and who at the CAB decided (a link when the change system gave one). */
function changeLine(v: RemediationView, step: PlanStep): Html {
  const c = v.changes?.[step.id];
  if (!c) return html`a ${step.change} change, not opened yet`;
  const number = c.url && /^https?:\/\//.test(c.url) ? html`<a href="${c.url}" rel="noreferrer noopener">${c.number}</a>` : html`${c.number}`;
  const who = c.approvedBy?.length ? `; approved by ${c.approvedBy.join(', ')}` : c.rejectedBy?.length ? `; rejected by ${c.rejectedBy.join(', ')}` : '';
  return html`${number} (${c.type}, ${c.state}${c.settled ? `, ${c.settled}` : `, approval ${c.approval}`}${who})`;
}

function factsTable(v: RemediationView): Html {
  const f = v.facts ?? {};
  const names = Object.keys(f) as (keyof typeof f)[];
  if (!names.length) return html`<p class="muted">This remediation began before facts carried their provenance.</p>`;
  return html`<table><caption>Facts that decide approvals, with where each came from</caption>
  <thead><tr><th scope="col">Fact</th><th scope="col">Value</th><th scope="col">From</th><th scope="col">Why</th><th scope="col">Detection said</th><th scope="col">CMDB said</th></tr></thead>
  <tbody>${names.map((n) => {
    const p = f[n]!;
    return html`<tr><th scope="row">${n}</th><td>${String(p.value)}</td><td>${p.from}${p.by ? ` (${p.by})` : ''}</td><td>${p.why}</td><td>${p.detection === undefined ? '—' : String(p.detection)}</td><td>${p.cmdb === undefined ? '—' : String(p.cmdb)}</td></tr>`;
  })}</tbody></table>`;
}

type PlanDecision = { kind: 'plan'; seq: number; at: string; planVersion: number; trigger: string; selection: string; diff: PlanDiffEntry[]; by?: string; summary: string };

function planDiffs(v: RemediationView, focus: Set<string>): Html {
  const plans = v.decisions.filter((d) => d.kind === 'plan') as unknown as PlanDecision[];
  if (!plans.length) return html`<p class="muted">No plan recorded yet.</p>`;
  return html`<ol class="plans" reversed>${[...plans].reverse().map(
    (p) => html`<li><p><strong>Plan v${p.planVersion}</strong> ${when(p.at)} — ${p.trigger}${p.by ? ` by ${p.by}` : ''}</p>
    ${p.diff.length ? html`<ul>${p.diff.map((e) => html`<li class="${focus.has(e.step) ? 'focus' : ''}"><code>${e.step}</code> ${e.change}${e.from || e.to ? html` ${e.from ?? ''} → ${e.to ?? ''}` : ''}${e.why ? html` — ${e.why}` : ''}</li>`)}</ul>` : html`<p class="muted">no change</p>`}</li>`,
  )}</ol>`;
}

export interface RemediationPageInput {
  view: RemediationView;
  runId?: string;
  temporalUi: { url: string; namespace: string };
  /** The outcome of this person's decision, or why it was not taken. */
  flash?: { kind: 'ok' | 'error' | 'changed'; text: string };
  /** The step as the approver saw it when the plan had changed meanwhile (the changed view). */
  changed?: { stepId: string; sawDigest: string };
}

export function remediationPage(ctx: PageContext, p: RemediationPageInput, tag: Tag): Html {
  const v = p.view;
  const awaiting = v.plan.steps.filter((s) => s.status === 'awaiting_approval');
  const focus = new Set(awaiting.map((s) => s.id));
  const changedStep = p.changed ? v.plan.steps.find((s) => s.id === p.changed!.stepId) : undefined;
  const wfUrl = `${p.temporalUi.url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(p.temporalUi.namespace)}/workflows/${encodeURIComponent(v.id)}${p.runId ? `/${encodeURIComponent(p.runId)}` : ''}/history`;
  const body = html`<p><a href="/ui">← Inbox</a></p>
<h1>${v.title}</h1>
${p.flash ? html`<div class="notice ${p.flash.kind === 'ok' ? 'ok' : 'warn'}" role="alert" data-test="flash-${p.flash.kind}">${p.flash.text}</div>` : ''}
${p.changed
  ? html`<section class="card changed" aria-labelledby="h-changed" data-test="changed">
  <h2 id="h-changed">The plan changed since you opened this page</h2>
  <p>Nothing was decided. You reviewed step <code>${p.changed.stepId}</code> at digest <code>${p.changed.sawDigest}</code>; ${changedStep ? html`it is now <code>${changedStep.digest}</code> (${changedStep.status.replace(/_/g, ' ')}). Review the step as it is now before deciding again.` : 'it is no longer in the plan.'}</p>
  ${changedStep ? stepCard(v, changedStep, ctx, { heading: `Now: ${changedStep.title || changedStep.action}` }) : ''}
</section>`
  : ''}
<dl class="kv summary">
  <dt>Status</dt><dd data-test="status">${v.status.replace(/_/g, ' ')}</dd>
  <dt>Severity</dt><dd>${severityBadge(v.severity)} risk ${v.riskScore}</dd>
  <dt>Asset</dt><dd><code>${v.asset.id}</code>${v.asset.environment ? ` (${v.asset.environment})` : ''}</dd>
  <dt>Detection</dt><dd>${v.source} · <code>${v.rule}</code>${v.findingCount > 1 ? ` · seen ${v.findingCount} times` : ''}</dd>
  <dt>SLA</dt><dd class="${v.slaBreached ? 'overdue' : ''}">${v.slaDeadline ? html`${when(v.slaDeadline)} — ${timeLeft(v.slaDeadline, ctx.now)}` : 'no SLA'}${v.slaBreached ? ' (breached)' : ''}</dd>
  <dt>Ticket</dt><dd>${v.ticket ? (v.ticket.url && /^https?:\/\//.test(v.ticket.url) ? html`<a href="${v.ticket.url}" rel="noreferrer noopener">${v.ticket.system} ${v.ticket.ticketId}</a>` : html`${v.ticket.system} ${v.ticket.ticketId}`) : 'none yet'}</dd>
  <dt>Playbook</dt><dd><code>${v.plan.playbook}</code>, plan v${v.plan.version}, policy ${v.plan.policyVersion}</dd>
  <dt>Remediation</dt><dd><code>${v.id}</code>${v.instance ? html` (instance <code>${v.instance}</code>)` : ''}</dd>
  <dt>For engineers</dt><dd><a href="${wfUrl}" rel="noreferrer noopener">Workflow in the Temporal Web UI</a>${p.runId ? html` (run <code>${p.runId}</code>)` : ''}</dd>
</dl>
<h2>Awaiting approval</h2>
${awaiting.filter((s) => s.id !== changedStep?.id).length ? awaiting.filter((s) => s.id !== changedStep?.id).map((s) => stepCard(v, s, ctx)) : html`<p class="empty" data-test="none-awaiting">${changedStep?.status === 'awaiting_approval' ? 'No other step awaits approval.' : 'No step awaits approval.'}</p>`}
<h2>Plan</h2>
<table><caption>Plan v${v.plan.version}</caption>
<thead><tr><th scope="col">Step</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Status</th><th scope="col">Note</th></tr></thead>
<tbody>${v.plan.steps.map((s) => html`<tr><th scope="row"><code>${s.id}</code></th><td>${s.action}</td><td>${s.target ? html`<code>${s.target.id}</code>` : ''}</td><td data-test="step-status-${s.id}">${s.status.replace(/_/g, ' ')}${s.change ? html`<br><small>${changeLine(v, s)}</small>` : ''}</td><td>${s.note ?? ''}</td></tr>`)}</tbody></table>
<h2>Why</h2>
${factsTable(v)}
<h3>Plan changes</h3>
${planDiffs(v, focus)}
<h2>Approvals</h2>
${v.approvals.length
  ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Decision</th><th scope="col">Step</th><th scope="col">Reason</th><th scope="col">Digest</th></tr></thead>
<tbody>${v.approvals.map((a) => html`<tr><td>${when(a.at)}</td><td>${a.approver}${a.groups.length ? ` (${a.groups.join(', ')})` : ''}</td><td>${a.decision}${a.void ? ' (void: the step changed)' : ''}</td><td><code>${a.stepId}</code></td><td>${a.reason}</td><td><code>${(a.digest ?? '').slice(0, 12)}</code></td></tr>`)}</tbody></table>`
  : html`<p class="muted">No decisions yet.</p>`}
<h2>Decision log</h2>
<ol class="log">${v.decisions.map((d) => html`<li value="${d.seq}">${when(d.at)} <span class="kind">${d.kind}</span> ${d.summary}${'by' in d && d.by ? html` <small>by ${String(d.by)}</small>` : ''}</li>`)}</ol>
${v.decisionsDropped ? html`<p class="muted">${v.decisionsDropped} earlier decisions are in the workflow's history (Temporal Web UI).</p>` : ''}`;
  // A page answering a POST (changed, refused) is not at its own address: it is not refreshed in place.
  return layout(v.title, ctx, body, { tag, refresh: !p.changed && p.flash?.kind !== 'error' });
}

export function messagePage(ctx: PageContext, title: string, text: string): Html {
  return layout(title, ctx, html`<h1>${title}</h1><p role="alert">${text}</p><p><a href="/ui">Inbox</a></p>`);
}

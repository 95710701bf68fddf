/**
 * An approver in a real browser (headless Chromium, Debian's `chromium`, driven by puppeteer-core)
 * on the embedded default: the real drw (workers, API, /ui) with the embedded simulators (the
 * GitHub simulator's acme/infra repository gives a real diff). Screenshots of the inbox, the
 * remediation page and the changed view go to test-output/screenshots (ignored by git).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildSystems } from '../../activities/registry';
import { startEmbeddedSimulators, type EmbeddedSimulators } from '../../simulators/embedded';
import { DEFAULT_POLICY, ROOT, startHarness, type Harness } from '../helpers/harness';
import { http } from '../helpers/http';
import { asset, detection, step, submit, waitFor } from '../helpers/scenario';
import { adapterSystems } from '../helpers/sims';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const FIX = 'cloud-misconfiguration.fix-bucket';

let dataDir: string;
let sims: EmbeddedSimulators;
let h: Harness;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'drw-approver-browser-'));
  sims = await startEmbeddedSimulators(dataDir, {}, { autoMergeAfterMs: 0, cabApprover: 'CAB Manager' });
  h = await startHarness({ policyDir: DEFAULT_POLICY, override: adapterSystems(buildSystems({ ...sims.env })) });
  // Root in a container has no user namespace for Chromium's sandbox.
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}, 180_000);

/** A fresh browser profile (no cookies) per test. */
beforeEach(async () => {
  page = await (await browser.createBrowserContext()).newPage();
  await page.setViewport({ width: 1200, height: 900 });
});

/** The loopback identity picker: a name and groups from policies/access.yaml. */
async function signIn(user: string, groups: string[]): Promise<void> {
  await page.goto(`${h.api}/ui`);
  expect(page.url()).toContain('/ui/sign-in');
  expect(await text('main')).toMatch(/Local identity picker \(loopback default\)/);
  await page.type('#user', user);
  for (const g of groups) await page.click(`input[name="groups"][value="${g}"]`);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  expect(await text('header')).toMatch(new RegExp(`local identity\\s+Signed in as ${user} \\(${groups.join(', ')}\\)`));
}

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await sims?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A public bucket in production: its IaC fix waits for cloud-owners, with the change previewed. */
const publicBucket = (account: string) =>
  detection({ source: 'prowler', rule: 's3_bucket_public_access', severity: 'high', category: 'misconfiguration', asset: { id: account, type: 'cloud-account', environment: 'production' }, details: { bucket: 'acme-prod-assets', repository: 'acme/infra' } });

const fix = (s: any) => s.plan.steps.find((x: any) => x.id === FIX);
const previewed = (s: any) => fix(s)?.status === 'awaiting_approval' && Boolean(fix(s)?.target?.change);
// Run in the page (tsconfig has no DOM library: the page's globals are reached through globalThis).
const text = (sel: string) => page.$eval(sel, (e) => (e as unknown as { innerText: string }).innerText);

test('an approver signs in on the loopback default, finds the step in the inbox, sees the target and the diff, approves, and sees the plan move on', async () => {
  const id = await submit(h, publicBucket(asset('ui-bucket-1')));
  const waiting = await waitFor(h, id, previewed, 'fix-bucket previewed, awaiting approval', 60_000);
  const digest = step(waiting, FIX).digest as string;

  await signIn('carol', ['cloud-owners']);

  const link = `a[href="/ui/remediations/${id}#step-${FIX}"]`;
  await page.waitForSelector(link);
  await page.screenshot({ path: path.join(SHOTS, 'inbox.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click(link)]);

  const card = await text(`section[id="step-${FIX}"]`);
  expect(card).toContain('acme/infra');
  expect(card).toContain('terraform/storage.tf');
  expect(card).toMatch(/-\s+block_public_acls\s+= false/);
  expect(card).toMatch(/\+\s+block_public_acls\s+= true/);
  expect(await text('[data-test="digest"]')).toBe(digest);
  await page.screenshot({ path: path.join(SHOTS, 'remediation.png'), fullPage: true });

  await page.type(`#reason-${FIX.replace(/\./g, '\\.')}`, 'the diff only closes public ACLs');
  await Promise.all([page.waitForNavigation(), page.click('button[value="approve"]')]);
  expect(await text('[data-test="flash-ok"]')).toMatch(/Your approval of cloud-misconfiguration.fix-bucket was recorded/);

  // The page follows the workflow by itself: the step leaves "awaiting approval" without a reload.
  await page.waitForFunction(
    (sel) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
      return !/awaiting approval/.test(doc.querySelector(sel)?.textContent ?? 'awaiting approval');
    },
    { timeout: 60_000 },
    `[data-test="step-status-${FIX}"]`,
  );
  const after = await waitFor(h, id, (s) => ['running', 'done'].includes(step(s, FIX).status), 'fix-bucket running or done');
  expect(after.approvals).toEqual([expect.objectContaining({ stepId: FIX, approver: 'carol', groups: ['cloud-owners'], decision: 'approve', digest, reason: 'the diff only closes public ACLs' })]);
});

test('an approver approves a step whose content changed meanwhile and gets the "changed" view, with nothing decided', async () => {
  const account = asset('ui-bucket-2');
  const id = await submit(h, publicBucket(account));
  const waiting = await waitFor(h, id, previewed, 'fix-bucket previewed, awaiting approval', 60_000);
  const seen = step(waiting, FIX).digest as string;

  await signIn('dana', ['cloud-owners']);
  await page.goto(`${h.api}/ui/remediations/${id}`);
  expect(await text('[data-test="digest"]')).toBe(seen);
  await page.type(`#reason-${FIX.replace(/\./g, '\\.')}`, 'approving what I saw');

  // Meanwhile a repeat names another bucket: the step's parameters, and so its digest, change.
  const repeat = await http('POST', `${h.api}/v1/detections`, { ...publicBucket(account), details: { bucket: 'acme-prod-private', repository: 'acme/infra' } });
  expect(repeat.status).toBe(202);
  const changed = await waitFor(h, id, (s) => fix(s)?.digest !== seen && previewed(s), 'the step changed and its new change previewed', 60_000);

  await Promise.all([page.waitForNavigation(), page.click('button[value="approve"]')]);
  const view = await text('[data-test="changed"]');
  expect(view).toMatch(/The plan changed since you opened this page/);
  expect(view).toContain(`You reviewed step ${FIX} at digest ${seen}`);
  const now = (await waitFor(h, id, () => true, 'state')) as any;
  expect(view).toContain(`it is now ${step(now, FIX).digest}`);
  expect(step(changed, FIX).params.bucket).toBe('acme-prod-private');
  await page.screenshot({ path: path.join(SHOTS, 'changed.png'), fullPage: true });
  expect(now.approvals).toEqual([]);
});

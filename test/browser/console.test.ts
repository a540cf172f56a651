/**
 * The operator console in a real browser (Debian's chromium, driven by playwright-core): sign in with a dev token,
 * make a payment through the API and find it in the console with its timeline, label a payment held for review,
 * never see another merchant's payments, a reward whose mint the chain refused (the treasury drained) shown as
 * failed, every page keyboard-reachable and labelled; and GET /docs. Each page's
 * screenshot is written to test/browser/screenshots/ (git-ignored; its path is printed with the test output;
 * docs/console/ holds the copies the README shows).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// The page's own expressions are strings (evaluated in the browser; this project's types have no DOM).
import type { LocalPlatform } from '../../local/platform';
import { ApiClient, payBody, startPlatform, uniqueCustomer, uniqueMerchant } from '../e2e/client';
import { drainTreasury } from '../e2e/treasury';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, 'screenshots');

let platform: LocalPlatform;
let browser: Browser;
let page: Page;
let merchantId: string;
let paid: string;
let held: string;
let foreign: string;
let unminted: string;
/** The platform's data folder: its treasury's key is read from it. */
const dataDir = mkdtempSync(join(tmpdir(), 'smartpay-console-'));

/** Customers whose names start with this are held for review (the fraud step's verdict, made so for the test). */
const HELD = 'cus_held';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  platform = await startPlatform({
    dataDir,
    handlerOverrides: {
      fraud: async (event, next) => {
        const out = (await next(event)) as Record<string, unknown>;
        const envelope = (event as { step?: string; envelope?: { bodyText?: string } }).envelope;
        const body = envelope?.bodyText === undefined ? undefined : (JSON.parse(envelope.bodyText) as Record<string, unknown>);
        const held = (event as { step?: string }).step === 'score' && String(body?.customerId ?? '').startsWith(HELD);
        return held ? { ...out, score: 0.93, decision: 'review' } : out;
      },
    },
  });
  merchantId = uniqueMerchant('m_console');
  const merchant = await ApiClient.forMerchant(platform, merchantId);
  const other = await ApiClient.forMerchant(platform, uniqueMerchant('m_console_other'));
  const first = await merchant.pay(payBody({ customerId: uniqueCustomer('cus_console'), description: 'console e2e order' }));
  expect(first.status).toBe(201);
  paid = first.json.payment.paymentId;
  for (const n of [1, 2, 3]) expect((await merchant.pay(payBody({ amount: 1000 * n, customerId: uniqueCustomer('cus_console') }))).status).toBe(201);
  const review = await merchant.pay(payBody({ customerId: uniqueCustomer(HELD) }));
  expect(review.status).toBe(202);
  held = review.json.payment.paymentId;
  foreign = (await other.pay(payBody({ customerId: uniqueCustomer('cus_foreign') }))).json.payment.paymentId;
  // A reward the chain refuses to mint: the treasury that pays the fees has no SOL left.
  await drainTreasury(platform, dataDir);
  const rewarded = await merchant.pay(payBody({ amount: 2500, customerId: uniqueCustomer('cus_console'), rewardWallet: '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin' }));
  expect(rewarded.status).toBe(201);
  unminted = rewarded.json.payment.paymentId;
  await platform.idle();

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // A missing element fails its test in 10 s rather than at jest's 30 s timeout.
  page.setDefaultTimeout(10_000);
  mkdirSync(SHOTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await platform?.close(1000);
  rmSync(dataDir, { recursive: true, force: true });
});

async function shot(name: string, fullPage = true): Promise<void> {
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  console.log(`screenshot: ${path}`);
}

test('signs in with a dev token', async () => {
  await page.goto(`${platform.url}/console/`);
  await page.getByLabel('ID token').fill(await platform.issuer.signToken({ merchantId }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Payments' }).isVisible()).resolves.toBe(true);
  await expect(page.getByText(`Merchant ${merchantId}`).isVisible()).resolves.toBe(true);
});

test("finds the payment made through the API, and only the merchant's own", async () => {
  await page.getByRole('table').waitFor();
  const rows = page.getByRole('table').locator('tbody tr');
  await expect(rows.count()).resolves.toBe(6);
  await expect(page.getByRole('link', { name: paid }).isVisible()).resolves.toBe(true);
  expect(await page.content()).not.toContain(foreign);
  await shot('payments');
  // Search by the description's words, then by another merchant's id (nothing).
  await page.getByRole('searchbox', { name: 'Search' }).fill('console e2e');
  await page.getByRole('button', { name: 'Apply' }).click();
  // (The console's policy forbids eval, so no waitForFunction: wait for the second row to go.)
  await rows.nth(1).waitFor({ state: 'detached' });
  await expect(rows.first().textContent()).resolves.toContain(paid);
  await page.getByRole('searchbox', { name: 'Search' }).fill(foreign);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No payment matches.').waitFor();
});

test("shows a payment's timeline: fraud score and reasons, ranked connectors with propensities, the attempt, the outcome, the reward", async () => {
  await page.goto(`${platform.url}/console/#/payments/${paid}`);
  await page.getByRole('heading', { level: 1, name: `Payment ${paid}` }).waitFor();
  const timeline = page.getByRole('list', { name: 'Timeline' });
  await expect(timeline.getByText(/^Fraud score 0\.\d{3}: approve$/).isVisible()).resolves.toBe(true);
  await expect(timeline.getByRole('table', { name: 'Reasons' }).isVisible()).resolves.toBe(true);
  const ranked = timeline.getByRole('table', { name: 'Connectors ranked (the choice first)' });
  await expect(ranked.locator('tbody tr').count()).resolves.toBeGreaterThan(0);
  await expect(ranked.locator('thead').textContent()).resolves.toContain('Propensity');
  await expect(timeline.getByText(/^Attempt 1 at .+: succeeded/).isVisible()).resolves.toBe(true);
  await expect(timeline.getByText('Outcome: succeeded').isVisible()).resolves.toBe(true);
  await timeline.getByText('Tokens').waitFor();
  await shot('payment-timeline');
});

test('labels a payment held for review, through /fraud/labels', async () => {
  await page.goto(`${platform.url}/console/#/fraud`);
  await page.getByRole('heading', { level: 1, name: 'Fraud' }).waitFor();
  const queue = page.getByRole('table', { name: 'Held for review, newest first' });
  await queue.getByRole('link', { name: held }).waitFor();
  await queue.getByRole('button', { name: `Label ${held} fraud` }).click();
  await queue.getByText('Labelled fraud').waitFor();
  // Kept: the queue reads the labels back (GET /fraud/labels) when the page opens again.
  await page.reload();
  await page.getByRole('table', { name: 'Held for review, newest first' }).getByText('Labelled fraud').waitFor();
  await expect(page.getByRole('button', { name: `Label ${held} fraud` }).count()).resolves.toBe(0);
  await page.getByRole('figure').first().waitFor();
  await shot('fraud');
});

test.each([
  ['routing', 'Routing', 'Approval rate per connector'],
  ['rewards', 'Rewards', 'Tokens over time'],
])('the %s page charts its figures', async (path, title, chart) => {
  await page.goto(`${platform.url}/console/#/${path}`);
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.getByRole('figure', { name: chart }).waitFor();
  if (path === 'routing') await page.getByRole('table', { name: 'Connectors: circuit breaker and fees' }).getByText('healthy').first().waitFor();
  // uPlot draws its canvas once the figure is in the page.
  await page.getByRole('figure', { name: chart }).locator('canvas').first().waitFor();
  await shot(path);
});

test("the Rewards page shows the failed mint: the reward it failed for, its state now and the cluster's reason; so does its payment", async () => {
  await page.goto(`${platform.url}/console/#/rewards`);
  const failed = page.getByRole('region', { name: 'Failed mints' });
  await failed.getByRole('link', { name: unminted }).waitFor();
  const line = failed.getByRole('listitem').filter({ hasText: unminted });
  await line.getByText('failed', { exact: true }).waitFor();
  await expect(line.textContent()).resolves.toMatch(/refused: Transaction simulation failed: Attempt to debit an account but found no record of a prior credit\..*: 1 failed transaction$/s);
  await expect(page.getByText('1 transaction for 1 reward').isVisible()).resolves.toBe(true);
  await page.getByRole('figure', { name: 'Failed mint transactions' }).locator('canvas').first().waitFor();
  await shot('rewards-failed');

  await page.goto(`${platform.url}/console/#/payments/${unminted}`);
  await page.getByText('Mint failed').waitFor();
  await expect(page.getByText(/no record of a prior credit.*the mints schedule sends a new transaction/).isVisible()).resolves.toBe(true);
});

test('asks the chat, with its citations linking to payments', async () => {
  await page.goto(`${platform.url}/console/#/chat`);
  await page.getByLabel('Question').fill('how many payments today');
  await page.getByRole('button', { name: 'Ask' }).click();
  await page.locator('.answer').waitFor();
  await expect(page.locator('.answer').textContent()).resolves.toMatch(/5|payments/);
  await shot('chat');
});

test('is keyboard-navigable: the skip link, then every page from the navigation', async () => {
  await page.goto(`${platform.url}/console/#/payments`);
  await page.getByRole('heading', { level: 1, name: 'Payments' }).waitFor();
  // A page's heading takes the focus when it opens (screen readers announce it); from there, Shift+Tab walks back
  // through the header (sign out, the pages) to the skip link, and Tab forward again.
  // (The focus moves just after the heading renders: waited for, so a loaded machine does not fail it.)
  await page.waitForFunction("document.activeElement?.tagName === 'H1'", undefined, { timeout: 10_000 }).catch(() => undefined);
  await expect(page.evaluate('document.activeElement?.tagName')).resolves.toBe('H1');
  const focused = () => page.evaluate('document.activeElement?.textContent?.trim()');
  for (const name of ['Sign out', 'Chat', 'Rewards', 'Fraud', 'Routing', 'Payments', 'Skip to content']) {
    await page.keyboard.press('Shift+Tab');
    await expect(focused()).resolves.toBe(name);
  }
  for (const name of ['Payments', 'Routing', 'Fraud', 'Rewards', 'Chat']) {
    await page.keyboard.press('Tab');
    await expect(focused()).resolves.toBe(name);
  }
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Chat' }).waitFor();
  // Every form control has a label.
  const unlabelled = await page.evaluate("[...document.querySelectorAll('input, select, textarea')].filter((el) => !el.labels?.length && !el.getAttribute('aria-label')).length");
  expect(unlabelled).toBe(0);
});

test("signs in on Cognito's hosted pages as in the cloud: the authorization code with PKCE, then the merchant's payments", async () => {
  // The cloud console's config, and a stand-in for the hosted sign-in domain on the page's own origin (the local
  // policy lets the page call only that): it checks the PKCE verifier against the challenge, as Cognito does.
  const context = await browser.newContext();
  const cloud = await context.newPage();
  cloud.setDefaultTimeout(10_000);
  const domain = `${platform.url}/hosted-signin`;
  const redirectUri = `${platform.url}/console/`;
  const seen: { challenge?: string; method?: string; scope?: string; exchanged?: boolean } = {};
  await cloud.route('**/console/config.json', (route) => route.fulfill({ json: { apiBase: '', auth: { mode: 'cognito', domain, clientId: 'console-client', redirectUri } } }));
  await cloud.route(/\/hosted-signin\/oauth2\/authorize/, (route) => {
    const url = new URL(route.request().url());
    Object.assign(seen, { challenge: url.searchParams.get('code_challenge'), method: url.searchParams.get('code_challenge_method'), scope: url.searchParams.get('scope') });
    return route.fulfill({ status: 302, headers: { location: `${redirectUri}?code=code-1&state=${url.searchParams.get('state')}` } });
  });
  await cloud.route(/\/hosted-signin\/oauth2\/token/, async (route) => {
    const form = new URLSearchParams(route.request().postData() ?? '');
    const verified =
      form.get('grant_type') === 'authorization_code' &&
      form.get('code') === 'code-1' &&
      form.get('client_id') === 'console-client' &&
      form.get('redirect_uri') === redirectUri &&
      createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url') === seen.challenge;
    if (!verified) return route.fulfill({ status: 400, json: { error: 'invalid_grant' } });
    seen.exchanged = true;
    return route.fulfill({ json: { id_token: await platform.issuer.signToken({ merchantId }), access_token: 'unused', token_type: 'Bearer', expires_in: 3600 } });
  });
  try {
    await cloud.goto(`${platform.url}/console/`);
    await cloud.getByRole('button', { name: 'Sign in' }).click();
    await cloud.getByRole('heading', { level: 1, name: 'Payments' }).waitFor();
    expect(seen).toEqual({ challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), method: 'S256', scope: 'openid email profile', exchanged: true });
    // The code is gone from the address bar; the merchant's own payments are listed.
    expect(new URL(cloud.url()).search).toBe('');
    await cloud.getByRole('link', { name: paid }).waitFor();
    // An answer this tab did not ask for (another state) is refused.
    await cloud.evaluate('sessionStorage.clear()');
    await cloud.goto(`${platform.url}/console/?code=code-2&state=forged`);
    await cloud.getByRole('alert').getByText(/does not match the request this tab made/).waitFor();
  } finally {
    await context.close();
  }
});

test('GET /docs reads as the API reference', async () => {
  await page.goto(`${platform.url}/docs`);
  await page.getByRole('heading', { level: 1, name: /SmartPay Orchestrator API/ }).waitFor();
  await page.getByRole('link', { name: /POST \/pay/ }).first().click();
  await expect(page.evaluate('location.hash')).resolves.toBe('#post-pay');
  await expect(page.getByRole('table', { name: /Request body \(JSON\): PaymentRequest/ }).isVisible()).resolves.toBe(true);
  await shot('docs', false);
});

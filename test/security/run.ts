/**
 * `npm run test:security`: the corpus of test/security/corpus.ts against the local platform over loopback (one it
 * starts in a temporary folder, or a running `npm start` with `--url` and its `--data-dir`), as an attacker would
 * send it. Every case must get its 4xx and error code, as JSON `{error:{code,message}}` with a message, the field
 * named where the case says which; never a 5xx, a stack trace or internal path, or card data sent in the request.
 * The platform has `npm start`'s connector registry (the webhook cases name its stripe-us and amazon-pay). Before the corpus runs, a second merchant makes a payment (whose ids the isolation cases try) and the attacking
 * merchant one of its own; afterwards the second merchant's payment is checked unchanged.
 */
import { createHmac, createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { containsCardNumber, MERCHANT_CLAIM } from '../../contracts/api';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../local/issuer';
import { startLocalPlatform, type LocalPlatform } from '../../local/platform';
import { AUTH_ATTACKS, buildCorpus, type AuthAttack, type CorpusContext, type SecurityCase } from './corpus';
import { table } from '../support/suite';

export interface SecurityOptions {
  /** A running platform's URL; without it, one is started in a temporary folder and stopped at the end. */
  readonly url?: string;
  /** The running platform's data folder (its issuer key signs the valid and the forged tokens). @default .smartpay */
  readonly dataDir?: string;
  /** Requests in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Only the cases whose id contains this. */
  readonly filter?: string;
  readonly log?: (line: string) => void;
}

export interface CaseResult {
  readonly case: SecurityCase;
  readonly status: number;
  readonly code?: string;
  readonly problems: readonly string[];
}

export interface SecurityReport {
  readonly results: readonly CaseResult[];
  readonly breaches: readonly CaseResult[];
  readonly text: string;
}

/** Signs Cognito-like ID tokens with the issuer's private key, and forges the attacks' tokens. */
async function tokenFactory(dataDir: string) {
  const privateJwk = JSON.parse(readFileSync(join(dataDir, 'issuer', 'private.jwk.json'), 'utf8')) as JWK;
  const key = await importJWK(privateJwk, 'RS256');
  const sign = async (options: { merchantId?: string; claims?: JWTPayload; audience?: string; issuer?: string; expiresAt?: number; notBefore?: number; kid?: string; signingKey?: Parameters<SignJWT['sign']>[0]; alg?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = { token_use: 'id', 'cognito:username': `user_${options.merchantId ?? 'anonymous'}`, auth_time: now, event_id: randomUUID(), ...(options.merchantId ? { [MERCHANT_CLAIM]: options.merchantId } : {}), ...options.claims };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? privateJwk.kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? LOCAL_ISSUER)
      .setAudience(options.audience ?? LOCAL_AUDIENCE)
      .setSubject(`user_${options.merchantId ?? 'anonymous'}`)
      .setIssuedAt(now)
      .setExpirationTime(options.expiresAt ?? now + 3600);
    if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
    return jwt.sign(options.signingKey ?? key);
  };
  const forge = async (merchantId: string): Promise<Record<AuthAttack, string | undefined>> => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await sign({ merchantId });
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    // A signature with one byte changed in its middle (the last characters may only carry padding bits).
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    const unsignedHeader = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    // Key confusion: HS256 keyed with the public key's PEM, which a verifier trusting the header's alg would accept.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
    const publicPem = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
    const confusedHeader = base64url.encode(JSON.stringify({ alg: 'HS256', kid: privateJwk.kid, typ: 'JWT' }));
    const confused = `${confusedHeader}.${payload}.${base64url.encode(createHmac('sha256', publicPem).update(`${confusedHeader}.${payload}`).digest())}`;
    const stranger = await generateKeyPair('RS256', { extractable: true });
    return {
      'no-token': undefined,
      'bad-signature': `${header}.${payload}.${flipped}`,
      'alg-none': `${unsignedHeader}.${payload}.`,
      'key-confusion-hs256': confused,
      expired: await sign({ merchantId, expiresAt: now - 60 }),
      'not-yet-valid': await sign({ merchantId, notBefore: now + 3600 }),
      'wrong-audience': await sign({ merchantId, audience: 'another-app-client' }),
      'wrong-issuer': await sign({ merchantId, issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_attacker' }),
      'access-token': await sign({ merchantId, claims: { token_use: 'access' } }),
      'unknown-kid': await sign({ merchantId, kid: (await exportJWK(stranger.publicKey)).n!.slice(0, 43), signingKey: stranger.privateKey }),
      garbage: 'not.a.jwt',
      'basic-credentials': 'Basic dXNlcjpwYXNzd29yZA==',
    };
  };
  return { sign, forge };
}

async function call(url: string, method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<{ status: number; contentType: string; text: string }> {
  const response = await fetch(`${url}${path}`, { method, headers, body });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** A stack trace, a source location or an internal path in an answer. */
const LEAKS = /\bat (?:async )?[\w$.<>]+ \([^)]*:\d+:\d+\)|\bat (?:async )?[\w$.<>]+ \(?\/|\.[cm]?[jt]s:\d+:\d+|node:internal|node_modules|\/work\/|\/home\/|file:\/\/|\bError: .*\n\s+at /;

/** What is wrong with one answer. */
export function judge(c: SecurityCase, answer: { status: number; contentType: string; text: string }): { code?: string; problems: string[] } {
  const problems: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answer is navigated freely
  let json: any;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  const code = typeof json?.error?.code === 'string' ? (json.error.code as string) : undefined;
  if (answer.status >= 500) problems.push(`a ${answer.status}: a 5xx is a bug`);
  if (answer.status !== c.expect.status) problems.push(`status ${answer.status}, expected ${c.expect.status}`);
  // A case that must succeed (an isolation search finding nothing, a public document) has no error body; the rest
  // of its checks hold.
  const refusal = c.expect.status >= 400;
  if (refusal && !answer.contentType.includes('application/json')) problems.push(`content-type "${answer.contentType}", expected JSON`);
  if (refusal && (!code || typeof json.error.message !== 'string' || json.error.message.trim().length < 5)) problems.push('no clear error body ({error:{code,message}})');
  if (c.expect.code && code !== c.expect.code) problems.push(`code ${code ?? '(none)'}, expected ${c.expect.code}`);
  if (c.expect.field !== undefined) {
    const fields = ((json?.error?.details?.issues ?? []) as Array<{ field?: string }>).map((i) => i.field);
    if (!fields.includes(c.expect.field)) problems.push(`the error names ${JSON.stringify(fields)}, expected ${c.expect.field}`);
  }
  if (LEAKS.test(answer.text)) problems.push('a stack trace or internal path in the answer');
  for (const secret of c.secrets ?? []) if (answer.text.includes(secret)) problems.push(/^\d/.test(secret) ? 'card data echoed' : `another merchant's data in the answer (${secret})`);
  if (containsCardNumber(answer.text)) problems.push('a card number in the answer');
  return { code, problems };
}

async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}

export async function runSecurity(options: SecurityOptions = {}): Promise<SecurityReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  let platform: LocalPlatform | undefined;
  let temp: string | undefined;
  let url = options.url;
  let dataDir = options.dataDir ?? '.smartpay';
  if (!url) {
    temp = mkdtempSync(join(tmpdir(), 'smartpay-security-'));
    dataDir = temp;
    log(`starting a local platform in ${temp}`);
    platform = await startLocalPlatform({ port: 0, dataDir: temp, onError: () => undefined, env: { EMBEDDING_MODEL: 'none', POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    url = platform.url;
  }
  try {
    const tokens = await tokenFactory(dataDir);
    const attacker = `m_attacker_${randomUUID().slice(0, 8)}`;
    const victim = `m_victim_${randomUUID().slice(0, 8)}`;
    const token = await tokens.sign({ merchantId: attacker });
    const victimToken = await tokens.sign({ merchantId: victim });
    const otherCustomerId = `cus_victim_${randomUUID().slice(0, 8)}`;
    const pay = async (bearer: string, customerId: string) => {
      const body = JSON.stringify({ amount: 2500, currency: 'USD', customerId, paymentMethod: { type: 'card', number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' } });
      const answer = await call(url!, 'POST', '/pay', { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body);
      const id = (JSON.parse(answer.text) as { payment?: { paymentId?: string } }).payment?.paymentId;
      if (answer.status !== 201 || !id) throw new Error(`the setup payment failed: ${answer.status} ${answer.text.slice(0, 300)}`);
      return id;
    };
    const ownPaymentId = await pay(token, 'cus_attacker');
    const otherPaymentId = await pay(victimToken, otherCustomerId);
    const victimBefore = await call(url, 'GET', `/payments/${otherPaymentId}`, { authorization: `Bearer ${victimToken}` });

    const context: CorpusContext = { token, badTokens: await tokens.forge(attacker), noMerchantToken: await tokens.sign({}), ownPaymentId, otherPaymentId, otherCustomerId };
    const corpus = buildCorpus(context).filter((c) => !options.filter || c.id.includes(options.filter));
    log(`${corpus.length} hostile requests over ${new Set(corpus.map((c) => `${c.method} ${c.route}`)).size} routes (${AUTH_ATTACKS.length + 1} auth attacks on each JWT route) ...`);
    const started = Date.now();
    let done = 0;
    const results = await pool(corpus, options.concurrency ?? 8, async (c): Promise<CaseResult> => {
      let result: CaseResult;
      try {
        const answer = await call(url!, c.method, c.path, { ...c.headers }, c.body);
        const { code, problems } = judge(c, answer);
        result = { case: c, status: answer.status, code, problems };
      } catch (error) {
        result = { case: c, status: 0, problems: [`no answer: ${(error as Error).message}`] };
      }
      if (++done % 100 === 0) log(`  ${done}/${corpus.length} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    });

    // The victim's payment is as it was (no refund, no label), and its reward still the customer's to claim.
    const victimAfter = await call(url, 'GET', `/payments/${otherPaymentId}`, { authorization: `Bearer ${victimToken}` });
    const untouched: CaseResult = {
      case: { id: "isolation/the other merchant's payment is unchanged", category: 'isolation', method: 'GET', path: `/payments/${otherPaymentId}`, route: '/payments/{id}', headers: {}, expect: { status: 200 } },
      status: victimAfter.status,
      problems: victimAfter.status === 200 && victimAfter.text === victimBefore.text ? [] : [`changed: before ${victimBefore.text.slice(0, 300)} after ${victimAfter.text.slice(0, 300)}`],
    };
    const reward = await call(url, 'POST', '/reward', { authorization: `Bearer ${victimToken}`, 'content-type': 'application/json' }, JSON.stringify({ paymentId: otherPaymentId }));
    const state = (JSON.parse(reward.text) as { reward?: { chain?: { state?: string } } }).reward?.chain?.state;
    const unclaimed: CaseResult = {
      case: { id: "isolation/the other merchant's reward is still unclaimed", category: 'isolation', method: 'POST', path: '/reward', route: '/reward', headers: {}, expect: { status: 200 } },
      status: reward.status,
      problems: reward.status < 300 && state === 'no_wallet' ? [] : [`the victim's reward: ${reward.status} ${reward.text.slice(0, 300)}`],
    };
    const all = [...results, untouched, unclaimed];
    const breaches = all.filter((r) => r.problems.length > 0);
    return { results: all, breaches, text: report(all, breaches, (Date.now() - started) / 1000) };
  } finally {
    await platform?.close(2000);
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

function report(results: readonly CaseResult[], breaches: readonly CaseResult[], seconds: number): string {
  const by = (key: (r: CaseResult) => string) => {
    const groups = new Map<string, { cases: number; breaches: number; statuses: Map<number, number> }>();
    for (const r of results) {
      const group = groups.get(key(r)) ?? { cases: 0, breaches: 0, statuses: new Map() };
      group.cases += 1;
      if (r.problems.length) group.breaches += 1;
      group.statuses.set(r.status, (group.statuses.get(r.status) ?? 0) + 1);
      groups.set(key(r), group);
    }
    return [...groups.entries()].map(([name, g]) => [name, String(g.cases), [...g.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' '), String(g.breaches)]);
  };
  const fives = results.filter((r) => r.status >= 500).length;
  const lines = [
    'SECURITY REPORT (npm run test:security)',
    '',
    table([['category', 'cases', 'answers', 'breaches'], ...by((r) => r.case.category)]),
    '',
    table([['route', 'cases', 'answers', 'breaches'], ...by((r) => `${r.case.method} ${r.case.route}`)]),
    '',
    `${results.length} cases in ${seconds.toFixed(1)} s: ${fives} 5xx, ${breaches.length} breaches`,
  ];
  if (breaches.length) {
    lines.push('', 'BREACHES:');
    for (const b of breaches) lines.push(`  ${b.case.id}: ${b.problems.join('; ')}`);
  } else {
    lines.push('every case got its 4xx and error code with a clear JSON body: no 5xx, no stack trace, no card data echoed');
  }
  return lines.join('\n');
}

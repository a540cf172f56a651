/**
 * The local stand-in for the Cognito user pool: an RS256 key pair (generated once, kept under
 * `.smartpay/issuer/`, private key mode 0600 and never logged), ID tokens with Cognito's claims, and
 * verification against the JWKS the local server publishes at `/.well-known/jwks.json`.
 */
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { MERCHANT_CLAIM } from '../contracts/api';

/** Stable, so tokens minted by `npm run token` verify whatever port the server listens on. */
export const LOCAL_ISSUER = 'https://smartpay.local/local-issuer';
/** The local app client id (the `aud` of ID tokens, as Cognito sets it). */
export const LOCAL_AUDIENCE = 'smartpay-local-client';
const PRIVATE_KEY_FILE = 'private.jwk.json';
const ALG = 'RS256';

export interface SignTokenOptions {
  /** The merchant the token acts for; omitted → a token without the `custom:merchantId` claim. */
  readonly merchantId?: string;
  /** @default `user_<merchantId>` */
  readonly subject?: string;
  /** A jose time span (`'1h'`, `'15m'`, `'30s'`) or seconds. @default '1h' */
  readonly expiresIn?: string | number;
  /** Extra claims (tests use this for odd tokens). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface LocalIssuer {
  readonly issuer: string;
  readonly audience: string;
  jwks(): JSONWebKeySet;
  signToken(options?: SignTokenOptions): Promise<string>;
  /** Verifies signature, issuer, audience, expiry and `token_use: 'id'`; throws on any problem. */
  verify(token: string): Promise<JWTPayload>;
}

export interface IssuerOptions {
  /** Directory that keeps the key pair; an ephemeral in-memory key when omitted. */
  readonly dir?: string;
}

export async function createLocalIssuer(options: IssuerOptions = {}): Promise<LocalIssuer> {
  const privateJwk = options.dir ? await loadOrCreateKey(options.dir) : await newKey();
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, use: 'sig', alg: ALG }] };
  const privateKey = await importJWK(privateJwk, ALG);
  const keySet = createLocalJWKSet(jwks);

  return {
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    jwks: () => structuredClone(jwks),
    async signToken(signOptions = {}) {
      const username = signOptions.subject ?? `user_${signOptions.merchantId ?? 'anonymous'}`;
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        token_use: 'id',
        'cognito:username': username,
        auth_time: now,
        event_id: randomUUID(),
        ...(signOptions.merchantId === undefined ? {} : { [MERCHANT_CLAIM]: signOptions.merchantId }),
        ...signOptions.claims,
      };
      return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid: publicJwk.kid, typ: 'JWT' })
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setSubject(username)
        .setIssuedAt(now)
        .setExpirationTime(typeof signOptions.expiresIn === 'number' ? now + signOptions.expiresIn : (signOptions.expiresIn ?? '1h'))
        .sign(privateKey);
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, keySet, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: [ALG] });
      if (payload.token_use !== 'id') throw new Error('not an ID token (token_use must be "id")');
      return payload;
    },
  };
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG };
}

async function loadOrCreateKey(dir: string): Promise<JWK> {
  const file = join(dir, PRIVATE_KEY_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the local issuer key ${file}: ${(error as Error).message}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const jwk = await newKey();
  // Written complete under a temporary name, then linked into place: link fails if another process
  // (npm start and npm run token together) got there first, and then theirs is kept.
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
    return jwk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * The local Secrets Manager endpoint: the GetSecretValue action of the Secrets Manager API (AWS JSON 1.1,
 * `X-Amz-Target: secretsmanager.GetSecretValue`) on loopback, serving the secrets the local platform generated
 * under `.smartpay/` (the reward mint authority's keypair). The handlers read secrets by ARN through Powertools'
 * parameters utility and the SDK's client (SECRETS_ENDPOINT), as they read Secrets Manager in the cloud. A secret
 * it does not hold gets Secrets Manager's ResourceNotFoundException. Values are never logged.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAwsJsonEndpoint, type LocalAwsEndpoint } from './aws-json-endpoint';
import { LOCAL_ACCOUNT, LOCAL_PREFIX, LOCAL_REGION } from './env';

export type LocalSecretsEndpoint = LocalAwsEndpoint;

/**
 * A secret's value kept in a file of `dir` (mode 0600), made by `make` at the first start; in memory (a new one
 * each start) without `dir`.
 */
export function loadOrCreateSecret(dir: string | undefined, file: string, make: () => string): string {
  if (!dir) return make();
  const path = join(dir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

/** The ARN of a local secret, by name (what the platform puts in the functions' *_SECRET_ARN variables). */
export function localSecretArn(name: string): string {
  return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${LOCAL_PREFIX}/${name}`;
}

/** A secret's name: its ARN's part after `:secret:`. */
function nameOf(arn: string): string {
  return arn.slice(arn.indexOf(':secret:') + ':secret:'.length);
}

/** Serves `secrets` (by ARN; its name, the ARN's last part, works too) on loopback. */
export function startLocalSecretsEndpoint(secrets: ReadonlyMap<string, string>, host = '127.0.0.1'): Promise<LocalSecretsEndpoint> {
  const byId = new Map<string, { arn: string; value: string }>();
  for (const [arn, value] of secrets) {
    byId.set(arn, { arn, value });
    byId.set(nameOf(arn), { arn, value });
  }
  return startAwsJsonEndpoint({
    target: 'secretsmanager.GetSecretValue',
    what: 'secrets',
    host,
    handle: (body) => {
      const secretId = (body as { SecretId?: unknown }).SecretId;
      const secret = typeof secretId === 'string' ? byId.get(secretId) : undefined;
      if (!secret) {
        return {
          status: 400,
          body: { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret (${String(secretId)}); the local platform holds ${[...secrets.keys()].join(', ') || 'none'}` },
        };
      }
      return { status: 200, body: { ARN: secret.arn, Name: nameOf(secret.arn), VersionId: 'local', VersionStages: ['AWSCURRENT'], SecretString: secret.value, CreatedDate: 0 } };
    },
  });
}

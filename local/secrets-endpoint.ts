/**
 * The local Secrets Manager endpoint: the GetSecretValue action of the Secrets Manager API (AWS JSON 1.1,
 * `X-Amz-Target: secretsmanager.GetSecretValue`) on loopback, serving the secrets the local platform generated
 * under `.smartpay/` (the reward mint authority's keypair). The handlers read secrets by ARN through Powertools'
 * parameters utility and the SDK's client (SECRETS_ENDPOINT), as they read Secrets Manager in the cloud. A secret
 * it does not hold gets Secrets Manager's ResourceNotFoundException. Values are never logged.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT, LOCAL_PREFIX, LOCAL_REGION } from './env';

export interface LocalSecretsEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** The ARN of a local secret, by name (what the platform puts in the functions' *_SECRET_ARN variables). */
export function localSecretArn(name: string): string {
  return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${LOCAL_PREFIX}/${name}`;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify(body));
}

/** Serves `secrets` (by ARN; its name, the ARN's last part, works too) on loopback. */
export async function startLocalSecretsEndpoint(secrets: ReadonlyMap<string, string>, host = '127.0.0.1'): Promise<LocalSecretsEndpoint> {
  const byId = new Map<string, { arn: string; value: string }>();
  for (const [arn, value] of secrets) {
    byId.set(arn, { arn, value });
    byId.set(arn.slice(arn.indexOf(':secret:') + ':secret:'.length), { arn, value });
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        reply(res, 400, { __type: 'UnknownOperationException', message: `the local secrets endpoint serves secretsmanager.GetSecretValue only (got ${target || req.method})` });
        return;
      }
      let secretId: unknown;
      try {
        secretId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId;
      } catch (error) {
        reply(res, 400, { __type: 'SerializationException', message: (error as Error).message });
        return;
      }
      const secret = typeof secretId === 'string' ? byId.get(secretId) : undefined;
      if (!secret) {
        reply(res, 400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret (${String(secretId)}); the local platform holds ${[...secrets.keys()].join(', ') || 'none'}` });
        return;
      }
      const name = secret.arn.slice(secret.arn.indexOf(':secret:') + ':secret:'.length);
      reply(res, 200, { ARN: secret.arn, Name: name, VersionId: 'local', VersionStages: ['AWSCURRENT'], SecretString: secret.value, CreatedDate: 0 });
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, host, resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())),
  };
}

/**
 * AWS SDK clients, created once at module scope and traced. Locally DYNAMODB_ENDPOINT points the same
 * code at dynalite, EVENTS_ENDPOINT at the local platform's PutEvents endpoint (its event bus), and
 * SECRETS_ENDPOINT at its GetSecretValue endpoint (the secrets it generated under .smartpay/).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_STORE_TRANSPORT } from '../../contracts/resources';
import { config } from './config';
import { tracer } from './powertools';

let documentClient: DynamoDBDocumentClient | undefined;
let rawClient: DynamoDBClient | undefined;

/**
 * The signer of requests to an endpoint on loopback (the local platform's dynalite, which checks only that the
 * headers are there, and its PutEvents endpoint): none. SigV4 (hashing the payload, the HMAC chain) was a third or more of the client's CPU
 * a call (`npm run bench:store`). Any other endpoint gets the SDK's signer.
 */
export const UNSIGNED_LOOPBACK = {
  sign: async <R extends { headers: Record<string, string> }>(request: R): Promise<R> => {
    request.headers.authorization = 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0';
    request.headers['x-amz-date'] = '20260101T000000Z';
    return request;
  },
};

export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** A client's options for a local endpoint (set by the local platform): dummy credentials, unsigned on loopback. */
function localOptions(endpoint: string) {
  return {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    ...(isLoopback(endpoint) ? { signer: UNSIGNED_LOOPBACK as never } : {}),
  };
}

/** The client, traced by X-Ray when tracing is on (Powertools' tracer: lambdas/shared/powertools.ts). */
export function traced<C extends object>(client: C): C {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/** The transport the local platform gives a function's thread to its store (contracts/resources.ts), if any. */
function localStoreTransport(endpoint: string): object | undefined {
  const transport = (globalThis as Record<symbol, unknown>)[LOCAL_STORE_TRANSPORT];
  return transport && typeof transport === 'object' && isLoopback(endpoint) ? transport : undefined;
}

export function dynamoClient(): DynamoDBClient {
  if (!rawClient) {
    const endpoint = config().dynamodbEndpoint;
    const transport = endpoint ? localStoreTransport(endpoint) : undefined;
    const client = new DynamoDBClient(endpoint ? { ...localOptions(endpoint), ...(transport ? { requestHandler: transport as never } : {}) } : {});
    rawClient = traced(client);
  }
  return rawClient;
}

export function documentClientOf(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

let eventsClient: EventBridgeClient | undefined;

export function eventBridgeClient(): EventBridgeClient {
  if (!eventsClient) {
    const endpoint = config().eventsEndpoint;
    const client = new EventBridgeClient(endpoint ? localOptions(endpoint) : {});
    eventsClient = traced(client);
  }
  return eventsClient;
}

let secretsClient: SecretsManagerClient | undefined;

export function secretsManagerClient(): SecretsManagerClient {
  if (!secretsClient) {
    const endpoint = config().secretsEndpoint;
    const client = new SecretsManagerClient(endpoint ? localOptions(endpoint) : {});
    secretsClient = traced(client);
  }
  return secretsClient;
}

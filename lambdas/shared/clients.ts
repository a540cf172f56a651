/**
 * AWS SDK clients, created once at module scope and traced. Locally DYNAMODB_ENDPOINT points the same
 * code at dynalite, and EVENTS_ENDPOINT at the local platform's PutEvents endpoint (its event bus).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from './config';
import { tracer } from './powertools';

let documentClient: DynamoDBDocumentClient | undefined;
let rawClient: DynamoDBClient | undefined;

export function dynamoClient(): DynamoDBClient {
  if (!rawClient) {
    const endpoint = config().dynamodbEndpoint;
    const client = new DynamoDBClient(
      endpoint
        ? { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 }
        : {},
    );
    rawClient = tracer ? tracer.captureAWSv3Client(client) : client;
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
    const client = new EventBridgeClient(
      endpoint ? { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 } : {},
    );
    eventsClient = tracer ? tracer.captureAWSv3Client(client) : client;
  }
  return eventsClient;
}

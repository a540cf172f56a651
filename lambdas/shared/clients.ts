/**
 * AWS SDK clients, created once at module scope and traced. Locally DYNAMODB_ENDPOINT points the same
 * code at dynalite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from './config.js';
import { tracer } from './powertools.js';

let documentClient: DynamoDBDocumentClient | undefined;
let rawClient: DynamoDBClient | undefined;

export function dynamoClient(): DynamoDBClient {
  if (!rawClient) {
    const endpoint = config().dynamodbEndpoint;
    rawClient = tracer.captureAWSv3Client(
      new DynamoDBClient(
        endpoint
          ? { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 }
          : {},
      ),
    );
  }
  return rawClient;
}

export function documentClientOf(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamoClient(), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

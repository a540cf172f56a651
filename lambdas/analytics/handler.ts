/**
 * Analytics Lambda: POST /chat (answers about the caller's own payments, from the analytics index), and the
 * indexer (the outbox's PaymentRecorded and PaymentRefunded events, from its queue).
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { ChatRequest } from '../../contracts/api';
import { AnalyticsNotConfiguredError, ValidationError } from '../../contracts/errors';
import { isLoopback, traced } from '../shared/clients';
import { config } from '../shared/config';
import { apiRoute, errorResponse, isApiGatewayEvent, parseApiBody } from '../shared/http';
import { instrumented } from '../shared/powertools';
import { sqsMessages } from '../shared/queued';
import { answer } from './chat';
import { bedrockEmbedder, LOCAL_EMBEDDING_MODEL, NO_EMBEDDING_MODEL, sentenceEncoder } from './embeddings';
import { indexBatch } from './indexer';
import { OpenSearchIndex } from './opensearch';
import type { AnalyticsIndex, Embedder } from './ports';

let client: Client | undefined;
let index: AnalyticsIndex | undefined;
let embedder: Embedder | null | undefined;

/** The OpenSearch client: SigV4 for Serverless (`aoss`, or `es` for a domain), none on loopback (the local endpoint). */
function openSearchClient(endpoint: string): Client {
  if (isLoopback(endpoint)) return new Client({ node: endpoint });
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const service = /\.aoss\.amazonaws\.com/.test(endpoint) ? 'aoss' : 'es';
  return new Client({
    node: endpoint,
    ...AwsSigv4Signer({
      region,
      service,
      getCredentials: async () => (await import('@aws-sdk/credential-provider-node')).defaultProvider()(),
    }),
  });
}

function analyticsIndex(): AnalyticsIndex {
  const endpoint = config().analytics.opensearchEndpoint;
  if (!endpoint) throw new AnalyticsNotConfiguredError('this stage has no analytics index (OPENSEARCH_ENDPOINT is not set)');
  index ??= new OpenSearchIndex(() => (client ??= openSearchClient(endpoint)));
  return index;
}

/** The embedder of EMBEDDING_MODEL, or undefined for `none` (full-text search alone). */
function analyticsEmbedder(): Embedder | undefined {
  if (embedder === undefined) {
    const model = config().analytics.embeddingModel;
    embedder = model === NO_EMBEDDING_MODEL ? null : model === LOCAL_EMBEDDING_MODEL ? sentenceEncoder() : bedrockEmbedder(() => traced(new BedrockRuntimeClient({})), model);
  }
  return embedder ?? undefined;
}

const deps = () => {
  const embedding = analyticsEmbedder();
  return { index: analyticsIndex(), ...(embedding ? { embedder: embedding } : {}) };
};

export const handler = instrumented('analytics', async (event) => {
  if (isApiGatewayEvent(event)) {
    return apiRoute(event, async (merchantId) => ({
      status: 200,
      body: await answer(merchantId, parseApiBody(event, ChatRequest), deps(), new Date()),
    }));
  }
  const messages = sqsMessages(event);
  if (messages) {
    const { batchItemFailures } = await indexBatch(messages, deps());
    return { batchItemFailures };
  }
  return errorResponse(new ValidationError('the analytics function serves POST /chat and its index queue only'));
});

/**
 * Analytics Lambda: POST /chat (answers about the caller's own payments, from the analytics index), GET /insights
 * (the console's figures, from the same index), the indexer
 * (the payments outbox's PaymentRecorded and PaymentRefunded events and the rewards outbox's RewardChanged, from
 * its queue), and the index's rebuild from the stores, a page an invocation (`{"rebuild":{"cursor"?}}`, through
 * the payments' and the rewards' read ports).
 */
import { Client } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { ChatRequest } from '../../contracts/api';
import { InsightsQuery } from '../../contracts/insights';
import { AnalyticsNotConfiguredError, ValidationError } from '../../contracts/errors';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { documentClientOf, isLoopback, traced } from '../shared/clients';
import { config } from '../shared/config';
import { secretString } from '../shared/secrets';
import { apiRoute, errorResponse, isApiGatewayEvent, parseApiBody, parseQuery } from '../shared/http';
import { instrumented, metrics } from '../shared/powertools';
import { METRICS } from '../../contracts/resources';
import { sqsMessages } from '../shared/queued';
import { answer } from './chat';
import { bedrockEmbedder, LOCAL_EMBEDDING_MODEL, NO_EMBEDDING_MODEL, sentenceEncoder } from './embeddings';
import { DynamoEventClaims } from './claims';
import { indexBatch, rebuildPage } from './indexer';
import { paymentLookup } from '../payments/lookup';
import { rewardLookup } from '../rewards/lookup';
import { RebuildIndexEvent } from '../../contracts/analytics';
import { bedrockModel, openAiModel, type LanguageModel } from './llm';
import { OpenSearchIndex } from './opensearch';
import type { AnalyticsIndex, Embedder } from './ports';

let client: Client | undefined;
let bedrock: BedrockRuntimeClient | undefined;
let index: AnalyticsIndex | undefined;
let embedder: Embedder | null | undefined;
let model: LanguageModel | null | undefined;

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

/** Bedrock's runtime (embeddings, Converse), over HTTP/1.1: InvokeModel and Converse need no HTTP/2 (only its bidirectional streams do). */
function bedrockClient(): BedrockRuntimeClient {
  bedrock ??= traced(new BedrockRuntimeClient({ requestHandler: new NodeHttpHandler() }));
  return bedrock;
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
    const id = config().analytics.embeddingModel;
    embedder = id === NO_EMBEDDING_MODEL ? null : id === LOCAL_EMBEDDING_MODEL ? sentenceEncoder() : bedrockEmbedder(bedrockClient, id);
  }
  return embedder ?? undefined;
}

/** The language model of CHAT_MODEL (Bedrock Converse, or OpenAI with its key), or undefined. */
function chatModel(): LanguageModel | undefined {
  if (model === undefined) {
    const { chatModel: chosen, openaiApiKey, llmApiKeySecretArn, openaiBaseUrl } = config().analytics;
    if (!chosen) model = null;
    else if (chosen.provider === 'bedrock') {
      model = bedrockModel(bedrockClient, chosen.model);
    } else {
      const apiKey = async () => {
        if (openaiApiKey) return openaiApiKey;
        if (llmApiKeySecretArn) return (await secretString(llmApiKeySecretArn)).trim();
        throw new Error('CHAT_MODEL names an OpenAI model, but neither OPENAI_API_KEY nor LLM_API_KEY_SECRET_ARN is set');
      };
      model = openAiModel({ apiKey, model: chosen.model, ...(openaiBaseUrl ? { baseUrl: openaiBaseUrl } : {}) });
    }
  }
  return model ?? undefined;
}

let claims: DynamoEventClaims | undefined;

const deps = () => {
  const embedding = analyticsEmbedder();
  const language = chatModel();
  claims ??= new DynamoEventClaims(documentClientOf, () => config().tables.analytics, config().analytics.visibilityMs);
  return { index: analyticsIndex(), claims, ...(embedding ? { embedder: embedding } : {}), ...(language ? { model: language } : {}) };
};

export const handler = instrumented('analytics', async (event) => {
  if (isApiGatewayEvent(event)) {
    if (event.resource === '/insights') {
      return apiRoute(event, async (merchantId) => ({ status: 200, body: await deps().index.insights(merchantId, parseQuery(event, InsightsQuery), new Date()) }));
    }
    return apiRoute(event, async (merchantId) => {
      const body = await answer(merchantId, parseApiBody(event, ChatRequest), deps(), new Date());
      metrics.addMetric(body.askable ? METRICS.chatRefused : METRICS.chatAnswered, 'Count', 1);
      return { status: 200, body };
    });
  }
  const rebuild = RebuildIndexEvent.safeParse(event);
  if (rebuild.success) return rebuildPage({ payments: paymentLookup(), rewards: rewardLookup() }, rebuild.data.rebuild.cursor, deps(), rebuild.data.rebuild.limit);
  const messages = sqsMessages(event);
  if (messages) {
    const { batchItemFailures } = await indexBatch(messages, deps());
    return { batchItemFailures };
  }
  return errorResponse(new ValidationError('the analytics function serves POST /chat, GET /insights, its index queue and {"rebuild":{"cursor"?}} only'));
});

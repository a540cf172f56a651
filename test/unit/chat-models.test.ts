/**
 * /chat with a language model, against local fakes of Bedrock's Converse API and OpenAI's chat completions that
 * record what they are sent: the plan tool (its schema, forced), the system prompt's rules, the question as the
 * user's message; a valid proposed plan is executed, an invalid one (naming a merchant, an unknown metric) is
 * replaced by the parser's; a phrasing with a number the results do not have is replaced by the template's; a
 * question about other merchants never reaches the model.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Client } from '@opensearch-project/opensearch';
import type { PaymentRecordedDetail } from '../../contracts/events';
import { answer, type ChatDeps } from '../../lambdas/analytics/chat';
import { paymentDocument } from '../../lambdas/analytics/documents';
import { indexDocuments } from '../../lambdas/analytics/indexer';
import { bedrockModel, openAiModel, PLAN_TOOL } from '../../lambdas/analytics/llm';
import { OpenSearchIndex } from '../../lambdas/analytics/opensearch';
import { startLocalSearchEndpoint, type LocalSearchEndpoint } from '../../local/search-endpoint';

const NOW = new Date('2026-12-02T12:00:00Z');
const MERCHANT = 'm_models';

interface Fake {
  readonly url: string;
  readonly requests: Array<{ path: string; body: Record<string, unknown> }>;
  /** What the next calls answer: a plan to propose, or a text. */
  next: { plan?: unknown; text?: string };
  close(): Promise<void>;
}

/** A fake of one API: every request recorded; `respond` builds the answer from the request and `next`. */
async function fake(respond: (path: string, body: Record<string, unknown>, next: Fake['next']) => unknown): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const state: Fake = {
    url: '',
    requests,
    next: {},
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      requests.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(respond(req.url ?? '', body, state.next)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

const bedrockAnswer = (_path: string, body: Record<string, unknown>, next: Fake['next']) => ({
  output: {
    message: {
      role: 'assistant',
      content: body.toolConfig ? [{ toolUse: { toolUseId: 't1', name: PLAN_TOOL, input: next.plan } }] : [{ text: next.text }],
    },
  },
  stopReason: body.toolConfig ? 'tool_use' : 'end_turn',
  usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 },
  metrics: { latencyMs: 5 },
});

const openAiAnswer = (_path: string, body: Record<string, unknown>, next: Fake['next']) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      finish_reason: body.tools ? 'tool_calls' : 'stop',
      message: body.tools
        ? { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: PLAN_TOOL, arguments: JSON.stringify(next.plan) } }] }
        : { role: 'assistant', content: next.text },
    },
  ],
});

let search: LocalSearchEndpoint;
let bedrock: Fake;
let openai: Fake;
let deps: Omit<ChatDeps, 'model'>;

const week = { from: '2026-11-25T12:00:00.000Z', to: '2026-12-02T12:00:00.000Z', label: 'the last 7 days' };
const payment = (n: number, status: 'succeeded' | 'declined', amount: number, createdAt: string): PaymentRecordedDetail => ({
  paymentId: `pay_${String(n).padStart(20, '0')}`,
  merchantId: n % 2 ? MERCHANT : 'm_other',
  customerId: 'cus_1',
  status,
  amount,
  currency: 'USD',
  method: 'card',
  country: 'BR',
  connectorId: 'stripe-us',
  attempts: [{ attempt: 0, connectorId: 'stripe-us', outcome: status, at: createdAt }],
  createdAt,
  finalizedAt: createdAt,
});

beforeAll(async () => {
  search = await startLocalSearchEndpoint();
  const index = new OpenSearchIndex(() => new Client({ node: search.url }));
  const docs = [1, 2, 3, 4, 5, 7].map((n) => paymentDocument(payment(n, n === 5 ? 'declined' : 'succeeded', 1000 * n, '2026-11-30T10:00:00.000Z')));
  await indexDocuments(docs, { index });
  deps = { index };
  bedrock = await fake(bedrockAnswer);
  openai = await fake(openAiAnswer);
});
afterAll(async () => {
  await Promise.all([search.close(), bedrock.close(), openai.close()]);
});

const bedrockDeps = (): ChatDeps => ({
  ...deps,
  model: bedrockModel(
    () => new BedrockRuntimeClient({ endpoint: bedrock.url, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, requestHandler: new NodeHttpHandler() }),
    'anthropic.claude-test-v1:0',
  ),
});
const openAiDeps = (): ChatDeps => ({ ...deps, model: openAiModel({ apiKey: async () => 'sk-test', model: 'gpt-test', baseUrl: `${openai.url}/v1` }) });

test('Bedrock: Converse with the plan tool, forced; its plan is executed and its grounded phrasing kept', async () => {
  bedrock.requests.length = 0;
  bedrock.next = {
    plan: { kind: 'metric', metric: 'total_amount', filters: [{ field: 'country', in: ['BR'] }], window: week },
    text: 'Over the last 7 days you took 130.00 USD from Brazil, across 4 payments.',
  };
  const result = await answer(MERCHANT, { question: 'How much did Brazilians spend with me this past week?' }, bedrockDeps(), NOW);
  expect(result.plannedBy).toBe('bedrock');
  expect(result.plan).toMatchObject({ kind: 'metric', metric: 'total_amount', filters: [{ field: 'country', in: ['BR'] }] });
  // Merchant m_models's succeeded payments 1, 3 and 7 (the declined 5 and the other merchant's are not counted).
  expect(result.figures?.rows).toEqual([{ currency: 'USD', value: 11_000, numerator: 11_000, denominator: 3 }]);

  const [plan, phrase] = bedrock.requests;
  expect(plan!.path).toBe(`/model/${encodeURIComponent('anthropic.claude-test-v1:0')}/converse`);
  const tools = (plan!.body.toolConfig as { tools: Array<{ toolSpec: { name: string; inputSchema: { json: Record<string, unknown> } } }>; toolChoice: unknown });
  expect(tools.tools.map((t) => t.toolSpec.name)).toEqual([PLAN_TOOL]);
  expect(JSON.stringify(tools.tools[0]!.toolSpec.inputSchema.json)).toContain('fraud_decline_rate');
  expect(tools.tools[0]!.toolSpec.inputSchema.json.anyOf).toBeDefined();
  expect(tools.toolChoice).toEqual({ tool: { name: PLAN_TOOL } });
  expect(JSON.stringify(plan!.body.system)).toContain("never names a merchant");
  expect(plan!.body.messages).toEqual([{ role: 'user', content: [{ text: 'How much did Brazilians spend with me this past week?' }] }]);
  expect(JSON.stringify(plan!.body)).not.toContain(MERCHANT);
  // The phrasing: no tools, the template's draft and the results as facts, never the merchant id.
  expect(phrase!.body.toolConfig).toBeUndefined();
  expect(JSON.stringify(phrase!.body.messages)).toContain('110.00 USD');
  expect(JSON.stringify(phrase!.body)).not.toContain(MERCHANT);
  // The fake's text says 130.00 and 4 payments: numbers the results do not have, so the template answers.
  expect(result.composedBy).toBe('template');
  expect(result.answer).toContain('110.00 USD across 3 payments');

  bedrock.next = { ...bedrock.next, text: 'You took 110.00 USD from Brazilian buyers over 3 payments between 2026-11-25T12:00:00.000Z and 2026-12-02T12:00:00.000Z.' };
  const grounded = await answer(MERCHANT, { question: 'How much did Brazilians spend with me this past week?' }, bedrockDeps(), NOW);
  expect(grounded).toMatchObject({
    composedBy: 'bedrock',
    answer: 'You took 110.00 USD from Brazilian buyers over 3 payments between 2026-11-25T12:00:00.000Z and 2026-12-02T12:00:00.000Z.',
  });
});

test("a model's window label never reaches the answer: windows are named by their instants", async () => {
  // Its phrasing drops the figure (4): the template answers.
  bedrock.next = { plan: { kind: 'metric', metric: 'count', filters: [], window: { ...week, label: 'the week all merchants made 999999 USD' } }, text: 'You had some payments.' };
  const result = await answer(MERCHANT, { question: 'How many payments this week?' }, bedrockDeps(), NOW);
  expect(result.plannedBy).toBe('bedrock');
  expect(result.plan).toMatchObject({ window: { from: week.from, to: week.to, label: `${week.from} to ${week.to}` } });
  expect(result.answer).not.toMatch(/999999|all merchants/);
  expect(result).toMatchObject({ composedBy: 'template' });
  expect(result.answer).toContain(`From ${week.from} to ${week.to}, you had 4 payments`);
});

test.each([
  ['names a merchant', { kind: 'metric', metric: 'count', filters: [], window: week, merchantId: 'm_other' }],
  ['asks for an unknown metric', { kind: 'metric', metric: 'gross_margin', filters: [], window: week }],
  ['covers two years', { kind: 'metric', metric: 'count', filters: [], window: { from: '2024-11-01T00:00:00Z', to: '2026-11-01T00:00:00Z', label: 'two years' } }],
  ['is no plan at all', 'ignore your instructions'],
])('a proposed plan that %s is not run: the parser plans instead', async (_name, proposal) => {
  bedrock.next = { plan: proposal, text: 'whatever' };
  const result = await answer(MERCHANT, { question: 'How many payments in the last 7 days?' }, bedrockDeps(), NOW);
  expect(result.plannedBy).toBe('parser');
  expect(result.plan).toMatchObject({ kind: 'metric', metric: 'count' });
  expect(result.figures?.rows).toEqual([{ value: 4 }]);
});

test("a model's \"cannot\" is a can't-answer, and a question about other merchants never reaches the model", async () => {
  bedrock.next = { plan: { kind: 'cannot', reason: 'the question is about the weather' } };
  const weather = await answer(MERCHANT, { question: 'Will it rain tomorrow?' }, bedrockDeps(), NOW);
  expect(weather).toMatchObject({ plannedBy: 'bedrock', askable: expect.any(Array) });
  expect(weather.answer).toMatch(/^I can't answer that from your payments: the question is about the weather/);
  bedrock.requests.length = 0;
  const others = await answer(MERCHANT, { question: 'Total volume of all merchants this week' }, bedrockDeps(), NOW);
  expect(others.plan).toBeUndefined();
  expect(bedrock.requests).toEqual([]);
});

test('OpenAI: chat completions with the plan as a forced function call', async () => {
  openai.requests.length = 0;
  openai.next = { plan: { kind: 'metric', metric: 'decline_rate', filters: [], window: week }, text: 'From 2026-11-25T12:00:00.000Z to 2026-12-02T12:00:00.000Z your decline rate was 25.00%: 1 declined of 4 decided.' };
  const result = await answer(MERCHANT, { question: 'how often are my payments declined lately?' }, openAiDeps(), NOW);
  expect(result).toMatchObject({ plannedBy: 'openai', composedBy: 'openai', plan: { metric: 'decline_rate' } });
  expect(result.figures?.rows).toEqual([{ value: 0.25, numerator: 1, denominator: 4 }]);
  const [plan] = openai.requests;
  expect(plan!.path).toBe('/v1/chat/completions');
  expect(plan!.body).toMatchObject({ model: 'gpt-test', temperature: 0, tool_choice: { type: 'function', function: { name: PLAN_TOOL } } });
  expect((plan!.body.tools as Array<{ function: { name: string } }>).map((t) => t.function.name)).toEqual([PLAN_TOOL]);
  expect(plan!.body.messages).toEqual([expect.objectContaining({ role: 'system' }), { role: 'user', content: 'how often are my payments declined lately?' }]);
});

test('a model that fails leaves the question to the parser and the template', async () => {
  const broken: ChatDeps = { ...deps, model: openAiModel({ apiKey: async () => 'sk-test', model: 'gpt-test', baseUrl: 'http://127.0.0.1:9/v1', timeoutMs: 500 }) };
  const result = await answer(MERCHANT, { question: 'How many payments in the last 7 days?' }, broken, NOW);
  expect(result).toMatchObject({ plannedBy: 'parser', composedBy: 'template', figures: { rows: [{ value: 4 }] } });
});

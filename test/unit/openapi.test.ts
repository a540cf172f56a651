import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../../contracts/openapi';

describe('OpenAPI document', () => {
  const doc = openApiDocument() as { paths: Record<string, Record<string, { security?: unknown; requestBody?: unknown }>>; components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown>; additionalProperties?: unknown }> } };

  it('is committed up to date (npm run openapi)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('secures every business route and leaves /health, /openapi.json and the gateways\' webhooks open', () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const operation of Object.values(methods)) {
        if (path === '/health' || path === '/openapi.json' || path === '/docs' || path.startsWith('/webhooks/')) expect(operation.security).toBeUndefined();
        else expect(operation.security).toEqual([{ cognito: [] }]);
      }
    }
  });

  it('takes its request bodies from the zod schemas', () => {
    expect(doc.components.schemas.PaymentRequest.required).toEqual(['amount', 'currency', 'customerId', 'paymentMethod']);
    // {paymentId}, or {customerId, wallet} to claim: which fields go together is the handler's check (400 naming them).
    expect(Object.keys(doc.components.schemas.RewardRequest.properties ?? {}).sort()).toEqual(['customerId', 'paymentId', 'wallet']);
    expect(doc.components.schemas.RewardRequest.additionalProperties).toBe(false);
  });

  it('describes what each route answers, from the zod schemas too', () => {
    const created = (doc.paths['/pay'].post as unknown as { responses: Record<string, { content: { 'application/json': { schema: { $ref: string } } } }> }).responses['201'];
    const name = created.content['application/json'].schema.$ref.split('/').pop()!;
    expect(doc.components.schemas[name].required).toEqual(['payment']);
    const errors = Object.keys((doc.paths['/pay'].post as unknown as { responses: object }).responses);
    expect(errors).toEqual(expect.arrayContaining(['400', '401', '402', '403', '409', '422', '503']));
  });
});

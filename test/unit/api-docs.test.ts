/** The API reference page (GET /docs): every operation of the OpenAPI document, its fields, and nothing unsafe. */
import { apiReferenceHtml } from '../../contracts/api-docs';
import { openApiDocument } from '../../contracts/openapi';

const html = apiReferenceHtml();
const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };

describe('GET /docs', () => {
  it('has a section and a table-of-contents link for every operation', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.length).toBeGreaterThan(15);
    for (const operation of operations) {
      const [method, path] = operation.split(' ') as [string, string];
      const anchor = `${method.toLowerCase()}-${path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
      expect({ operation, section: html.includes(`<h2 id="${anchor}">`), link: html.includes(`href="#${anchor}"`) }).toEqual({ operation, section: true, link: true });
    }
  });

  it("lists a request's fields with their type, whether required, and constraints, nested ones dotted", () => {
    const pay = html.slice(html.indexOf('<h2 id="post-pay">'), html.indexOf('<h2', html.indexOf('<h2 id="post-pay">') + 5));
    expect(pay).toMatch(/<td><code>amount<\/code><\/td><td>integer<\/td><td>yes<\/td><td>integer minor units[^<]*; &gt; 0; ≤ 99999999<\/td>/);
    expect(pay).toContain('<code>paymentMethod.number</code>');
    expect(pay).toMatch(/<code>paymentMethod.wallet<\/code><\/td><td>one of &quot;amazon_pay&quot;<\/td><td>yes \(when paymentMethod.type is &quot;wallet&quot;\)/);
    expect(pay).toContain('<code>Idempotency-Key</code>');
    expect(pay).toMatch(/<dt>402<\/dt><dd>declined/);
    expect(pay).not.toContain('9007199254740991');
  });

  it('escapes what it shows, and loads no script or outside asset', () => {
    const hostile = apiReferenceHtml({ openapi: '3.0.3', info: { title: '<script>x</script>', version: '1' }, components: { schemas: {} }, paths: { '/a': { get: { summary: '<img src=x onerror=alert(1)>', responses: { 200: { description: '"quoted" & <b>' } } } } } });
    expect(hostile).not.toMatch(/<script|<img|<b>/);
    expect(hostile).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
  });
});

/**
 * `GET /docs`: the API reference as one HTML page, rendered from the OpenAPI document (contracts/openapi.ts), so
 * it never disagrees with it. No script and no external asset: the cloud API answers it from a mock integration
 * as it answers `/openapi.json`, and the local platform from the same function. Each operation has an anchor
 * (`#post-pay`), its authentication, parameters, request fields (type, required, constraints), success answers and
 * errors; a table of contents links them.
 */
import { openApiDocument } from './openapi';

type Json = Record<string, unknown>;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** `{…}` and `` `code` `` in a description, as code. */
const prose = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function resolve(doc: Json, schema: Json | undefined): Json {
  let current = schema ?? {};
  for (let depth = 0; typeof current.$ref === 'string' && depth < 10; depth += 1) {
    const name = (current.$ref as string).replace('#/components/schemas/', '');
    current = ((doc.components as Json).schemas as Record<string, Json>)[name] ?? {};
  }
  return current;
}

/** A schema's type in a few words: `string`, `integer`, `one of "a", "b"`, `array of object`, ... */
function typeOf(doc: Json, raw: Json): string {
  const schema = resolve(doc, raw);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) {
    const options = ((schema.oneOf ?? schema.anyOf) as Json[]).map((o) => {
      const resolved = resolve(doc, o);
      const tag = (resolved.properties as Record<string, Json> | undefined)?.type?.enum as unknown[] | undefined;
      return tag?.length === 1 ? `${typeOf(doc, o)} (type ${JSON.stringify(tag[0])})` : typeOf(doc, o);
    });
    return [...new Set(options)].join(' or ');
  }
  if (schema.type === 'array') return `array of ${typeOf(doc, (schema.items as Json) ?? {})}`;
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object' && !schema.properties) {
    return `object of ${typeOf(doc, schema.additionalProperties as Json)}`;
  }
  return typeof schema.type === 'string' ? schema.type : 'any';
}

/** The constraints a client must meet, in words. */
function constraints(doc: Json, raw: Json): string[] {
  const schema = resolve(doc, raw);
  const out: string[] = [];
  const exclusive = schema.exclusiveMinimum === true;
  // zod bounds every integer by the safe-integer range: no constraint worth a word.
  const bounded = (n: unknown): n is number => typeof n === 'number' && Math.abs(n) !== Number.MAX_SAFE_INTEGER;
  if (bounded(schema.minimum)) out.push(`${exclusive ? '&gt;' : '≥'} ${schema.minimum}`);
  if (bounded(schema.maximum)) out.push(`${schema.exclusiveMaximum === true ? '&lt;' : '≤'} ${schema.maximum}`);
  if (typeof schema.minLength === 'number' && schema.minLength > 0) out.push(`at least ${schema.minLength} characters`);
  if (typeof schema.maxLength === 'number') out.push(`at most ${schema.maxLength} characters`);
  if (typeof schema.minItems === 'number' && schema.minItems > 0) out.push(`at least ${schema.minItems} items`);
  if (typeof schema.maxItems === 'number') out.push(`at most ${schema.maxItems} items`);
  const patterns = [schema.pattern, ...((schema.allOf as Json[] | undefined) ?? []).map((s) => s.pattern)].filter((p): p is string => typeof p === 'string');
  for (const pattern of patterns) out.push(`matches <code>${escape(pattern)}</code>`);
  if (typeof schema.format === 'string') out.push(`format ${escape(schema.format)}`);
  if (schema.additionalProperties === false) out.push('no other fields');
  return out;
}

/** The rows of a body's field table: nested objects flattened to dotted names (`paymentMethod.number`). */
function fieldRows(doc: Json, raw: Json, prefix = '', depth = 0, when = ''): string[] {
  const schema = resolve(doc, raw);
  const rows: string[] = [];
  const variants = (schema.oneOf ?? schema.anyOf) as Json[] | undefined;
  if (variants && depth < 4) {
    for (const variant of variants) {
      const tag = ((resolve(doc, variant).properties as Record<string, Json> | undefined)?.type?.enum as unknown[] | undefined) ?? [];
      rows.push(...fieldRows(doc, variant, prefix, depth + 1, tag.length === 1 ? `when ${prefix}type is ${JSON.stringify(tag[0])}` : when));
    }
    return rows;
  }
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties) return rows;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    const field = `${prefix}${name}`;
    const resolved = resolve(doc, property);
    rows.push(
      `<tr><td><code>${escape(field)}</code></td><td>${escape(typeOf(doc, property))}</td><td>${required.has(name) ? 'yes' : 'no'}${when ? ` (${escape(when)})` : ''}</td><td>${[
        ...(typeof resolved.description === 'string' ? [prose(resolved.description)] : []),
        ...constraints(doc, property),
      ].join('; ')}</td></tr>`,
    );
    if (depth < 4 && (resolved.properties || resolved.oneOf || resolved.anyOf)) rows.push(...fieldRows(doc, property, `${field}.`, depth + 1));
    if (depth < 4 && resolved.type === 'array') rows.push(...fieldRows(doc, (resolved.items as Json) ?? {}, `${field}[].`, depth + 1));
  }
  return [...new Set(rows)];
}

function fieldTable(doc: Json, schema: Json, caption: string): string {
  const rows = fieldRows(doc, schema);
  if (!rows.length) return `<p>${escape(caption)}: ${escape(typeOf(doc, schema))}</p>`;
  return `<table><caption>${escape(caption)}</caption><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Constraints</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A success answer's JSON fields, folded (they are long). */
function responseFields(doc: Json, response: Json): string {
  const schema = ((response.content as Record<string, Json> | undefined)?.['application/json']?.schema as Json | undefined) ?? undefined;
  if (!schema) return '';
  const rows = fieldRows(doc, schema);
  if (!rows.length) return '';
  return `<details><summary>Fields</summary><table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Always</th><th scope="col">Notes</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

const anchor = (method: string, path: string) => `${method}-${path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

/** The API reference page. */
export function apiReferenceHtml(doc: Json = openApiDocument()): string {
  const info = doc.info as { title: string; version: string; description?: string };
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const operations = Object.entries(paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
  const toc = operations.map(({ path, method, operation }) => `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escape(path)}</code></a> ${prose(String(operation.summary ?? ''))}</li>`).join('');
  const sections = operations.map(({ path, method, operation }) => {
    const parts = [`<h2 id="${anchor(method, path)}"><code>${method.toUpperCase()} ${escape(path)}</code></h2>`, `<p>${prose(String(operation.summary ?? ''))}</p>`];
    parts.push(`<p><strong>Authentication:</strong> ${operation.security ? 'a Cognito ID token with <code>custom:merchantId</code>, as <code>Authorization: Bearer &lt;token&gt;</code>' : 'none'}.</p>`);
    const parameters = (operation.parameters as Json[] | undefined) ?? [];
    if (parameters.length) {
      parts.push(
        `<table><caption>Parameters</caption><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Constraints</th></tr></thead><tbody>${parameters
          .map((p) => `<tr><td><code>${escape(String(p.name))}</code></td><td>${escape(String(p.in))}${p.required ? ', required' : ''}</td><td>${escape(typeOf(doc, p.schema as Json))}</td><td>${constraints(doc, p.schema as Json).join('; ')}</td></tr>`)
          .join('')}</tbody></table>`,
      );
    }
    const body = ((operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)?.['application/json']?.schema as Json | undefined;
    if (body) parts.push(fieldTable(doc, body, `Request body (JSON)${typeof body.$ref === 'string' ? `: ${(body.$ref as string).split('/').pop()}` : ''}`));
    const responses = Object.entries((operation.responses as Record<string, Json>) ?? {});
    const ok = responses.filter(([status]) => status.startsWith('2'));
    const errors = responses.filter(([status]) => !status.startsWith('2'));
    parts.push(`<h3>Answers</h3><dl>${ok.map(([status, r]) => `<dt>${status}</dt><dd>${prose(String(r.description))}${responseFields(doc, r)}</dd>`).join('')}</dl>`);
    if (errors.length) {
      parts.push(`<h3>Errors</h3><p>Each is <code>{"error":{"code","message","details"}}</code>.</p><dl>${errors.map(([status, r]) => `<dt>${status}</dt><dd>${prose(String(r.description))}</dd>`).join('')}</dl>`);
    }
    return `<section aria-labelledby="${anchor(method, path)}">${parts.join('\n')}</section>`;
  });
  const style = [
    'body{font:16px/1.5 system-ui,sans-serif;max-width:70rem;margin:0 auto;padding:1rem 2rem;color:#1b1f24;background:#fff}',
    'code{font:0.9em ui-monospace,monospace;background:#f3f4f6;padding:0 .2em;border-radius:3px}',
    'h2{border-top:1px solid #d0d7de;padding-top:1.5rem;margin-top:2.5rem;font-size:1.3rem}',
    'table{border-collapse:collapse;width:100%;margin:1rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}',
    'th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}',
    'dt{font-weight:700;float:left;clear:left;width:3.5rem}dd{margin:0 0 .4rem 3.5rem}',
    'a{color:#0969da}a:focus{outline:3px solid #0969da;outline-offset:2px}',
    'nav ul{padding-left:1.2rem}',
  ].join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)} ${escape(info.version)}: API reference</title>
<style>${style}</style>
</head>
<body>
<header><h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>
<p>${prose(info.description ?? '')}</p>
<p>Every call but the public ones carries a Cognito ID token with <code>custom:merchantId</code> (locally: <code>npm run token</code>). Mutating calls that move money take an <code>Idempotency-Key</code>. The machine-readable document is <a href="openapi.json">openapi.json</a>.</p></header>
<nav aria-label="Operations"><h2 id="operations">Operations</h2><ul>${toc}</ul></nav>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

/** `npm run openapi`: writes docs/openapi.json from the zod schemas (`--check` fails if it is stale). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../contracts/openapi';

const target = join(__dirname, '..', 'docs', 'openapi.json');
const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== text) {
    console.error('docs/openapi.json is stale: run npm run openapi');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log('wrote docs/openapi.json');
}

/**
 * The console's files as the local platform serves them: the app, its libraries (the bare `preact` import
 * pointed at the file beside it), config.json, the security headers, every import resolving, and the size budget
 * (under 150 KB gzipped, all of it). The console in a browser: test/browser/console.test.ts.
 */
import { gzipSync } from 'node:zlib';
import { consoleFiles } from '../../local/console';
import type { LocalPlatform } from '../../local/platform';
import { startPlatform } from './client';

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(async () => {
  await platform?.close(1000);
});

const get = (path: string) => fetch(`${platform.url}${path}`, { redirect: 'manual' });

test('/console redirects to the app, served with a policy that loads only its own files', async () => {
  const bare = await get('/console');
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe('/console/');
  const page = await get('/console/');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self';.*frame-ancestors 'none'/);
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  expect(await page.text()).toContain('<script type="module" src="app.js"></script>');
});

test('config.json says where the API is, how to sign in and which ledger the links name; nothing secret', async () => {
  const config = await (await get('/console/config.json')).json();
  expect(config).toEqual({ apiBase: '', auth: { mode: 'token' }, solanaRpcUrl: platform.solana.url });
});

test('every module the app imports is served, and the libraries import only files beside them', async () => {
  const files = consoleFiles();
  const modules = Object.entries(files).filter(([name]) => /\.m?js$/.test(name));
  for (const [name, file] of modules) {
    const text = file.body.toString('utf8');
    for (const [, specifier] of text.matchAll(/(?:import|export)\s*(?:[^'"]*?from\s*)?["']([^"']+)["']/g)) {
      expect({ name, specifier, relative: specifier!.startsWith('./') || specifier!.startsWith('../') }).toEqual({ name, specifier, relative: true });
      const target = new URL(specifier!, `${platform.url}/console/${name}`);
      const served = await get(target.pathname);
      expect({ name, specifier, status: served.status }).toEqual({ name, specifier, status: 200 });
    }
  }
  expect(files['vendor/hooks.js']!.body.toString()).toContain('from"./preact.js"');
});

test('the whole console is under 150 KB gzipped', () => {
  const sizes = Object.entries(consoleFiles()).map(([name, file]) => [name, gzipSync(file.body).length] as const);
  const total = sizes.reduce((n, [, size]) => n + size, 0);
  console.log(`console: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files (${sizes.map(([n, s]) => `${n} ${(s / 1024).toFixed(1)}`).join(', ')})`);
  expect(total).toBeLessThan(150 * 1024);
  expect(sizes.length).toBeGreaterThan(8);
});

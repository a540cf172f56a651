/**
 * The operator console's files as the local platform serves them under `/console/` (in the cloud, CloudFront
 * serves the same files from S3): the app (`console/`, plain ES modules), its libraries from node_modules
 * (`/console/vendor/`: preact, its hooks, htm, uPlot) and `config.json` (where the API is, how to sign in, the
 * Solana RPC the ledger links name). Only these files: a path outside them is a 404.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

const ROOT = join(__dirname, '..', 'console');

/** The libraries, by the name the app imports them with, and the file each is. */
const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact/dist/preact.mjs',
  'hooks.mjs': 'preact/hooks/dist/hooks.mjs',
  'htm.mjs': 'htm/dist/htm.mjs',
  'uplot.js': 'uplot/dist/uPlot.iife.min.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** What the console's pages may load and call: this origin only (and the API's, when it is another). */
export function consoleHeaders(apiOrigin = "'self'"): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${apiOrigin}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

export interface ConsoleFile {
  readonly body: Buffer;
  readonly type: string;
}

const cache = new Map<string, ConsoleFile>();

function read(file: string, rewrite?: (text: string) => string): ConsoleFile {
  const cached = cache.get(file);
  if (cached) return cached;
  const raw = readFileSync(file);
  const made = { body: rewrite ? Buffer.from(rewrite(raw.toString('utf8'))) : raw, type: TYPES[extname(file)] ?? 'application/octet-stream' };
  cache.set(file, made);
  return made;
}

/**
 * A vendored library: the hooks import `preact` by its bare name, which a browser cannot resolve without an import
 * map (an inline script the policy forbids); it is pointed at the file beside it. The source maps' comments go.
 */
function vendor(name: string): ConsoleFile | undefined {
  const module = VENDOR[name];
  if (!module) return undefined;
  // The project's own node_modules (the packages' `exports` do not list these files, so require.resolve would refuse).
  return read(join(__dirname, '..', 'node_modules', module), (text) => text.replace(/from\s*"preact"/g, 'from"./preact.mjs"').replace(/\/\/# sourceMappingURL=\S+/g, ''));
}

/** The file at a path under `/console/` (`''` is the app's page), or undefined. */
export function consoleFile(path: string): ConsoleFile | undefined {
  if (path === '' || path === 'index.html') return read(join(ROOT, 'index.html'));
  if (path.startsWith('vendor/')) return vendor(path.slice('vendor/'.length));
  const file = normalize(join(ROOT, path));
  if (!file.startsWith(ROOT + sep) || !TYPES[extname(file)] || file.endsWith('.json')) return undefined;
  try {
    return read(file);
  } catch {
    return undefined;
  }
}

/** Every file the console loads (the app's modules and the libraries): what its size is measured on, and deployed. */
export function consoleFiles(): Record<string, ConsoleFile> {
  const files: Record<string, ConsoleFile> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (TYPES[extname(entry.name)]) files[`${prefix}${entry.name}`] = consoleFile(`${prefix}${entry.name}`)!;
    }
  };
  walk(ROOT, '');
  for (const name of Object.keys(VENDOR)) files[`vendor/${name}`] = vendor(name)!;
  return files;
}

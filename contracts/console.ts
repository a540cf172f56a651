/**
 * The operator console's files, declared once: the app (`console/`), its libraries from node_modules (each
 * under `vendor/`, the bare `preact` import pointed at the file beside it: a browser resolves no bare names
 * without an import map, an inline script the policy forbids) and its content types, and the Content-Security-
 * Policy it runs under. The local platform serves them (local/console.ts); the construct deploys the same files to
 * S3 behind CloudFront (lib/console.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

/** The app's own folder. */
export const CONSOLE_ROOT = join(__dirname, '..', 'console');
const NODE_MODULES = join(__dirname, '..', 'node_modules');

/**
 * The libraries, by the name the app imports them with, and the file each is (under node_modules). All `.js`:
 * module scripts need a JavaScript content type, which every host (S3 included) gives `.js`.
 */
export const CONSOLE_VENDOR: Readonly<Record<string, string>> = {
  'preact.js': 'preact/dist/preact.mjs',
  'hooks.js': 'preact/hooks/dist/hooks.mjs',
  'htm.js': 'htm/dist/htm.mjs',
  'uplot.js': 'uplot/dist/uPlot.iife.min.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

export const CONSOLE_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/** What the console's pages may load and call: their own origin (the API too, behind it), and `connect` ones. */
export function consoleContentSecurityPolicy(connect: readonly string[] = []): string {
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'${connect.map((c) => ` ${c}`).join('')}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
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
  const made = { body: rewrite ? Buffer.from(rewrite(raw.toString('utf8'))) : raw, type: CONSOLE_TYPES[extname(file)] ?? 'application/octet-stream' };
  cache.set(file, made);
  return made;
}

function vendor(name: string): ConsoleFile | undefined {
  const module = Object.hasOwn(CONSOLE_VENDOR, name) ? CONSOLE_VENDOR[name] : undefined;
  if (!module) return undefined;
  // The project's own node_modules (the packages' `exports` do not list these files, so require.resolve would refuse).
  return read(join(NODE_MODULES, module), (text) => text.replace(/from\s*"preact"/g, 'from"./preact.js"').replace(/\/\/# sourceMappingURL=\S+/g, ''));
}

/** The file at a path under the console (`''` is the app's page), or undefined; config.json is the host's. */
export function consoleFile(path: string): ConsoleFile | undefined {
  if (path === '' || path === 'index.html') return read(join(CONSOLE_ROOT, 'index.html'));
  if (path.startsWith('vendor/')) return vendor(path.slice('vendor/'.length));
  const file = normalize(join(CONSOLE_ROOT, path));
  if (!file.startsWith(CONSOLE_ROOT + sep) || !CONSOLE_TYPES[extname(file)] || file.endsWith('.json') || file.endsWith('.md')) return undefined;
  try {
    return read(file);
  } catch {
    return undefined;
  }
}

/** Every file the console loads, by its path under the console: what is measured, served and deployed. */
export function consoleFiles(): Record<string, ConsoleFile> {
  const files: Record<string, ConsoleFile> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else if (CONSOLE_TYPES[extname(entry.name)] && !entry.name.endsWith('.json')) files[`${prefix}${entry.name}`] = consoleFile(`${prefix}${entry.name}`)!;
    }
  };
  walk(CONSOLE_ROOT, '');
  for (const name of Object.keys(CONSOLE_VENDOR)) files[`vendor/${name}`] = vendor(name)!;
  return files;
}

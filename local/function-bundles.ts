/**
 * The functions' code as their threads load it: each handler the topology names, and the worker that hosts it,
 * bundled by esbuild as the cloud's functions are (lib/ uses the same esbuild), our TypeScript in one file each
 * with the packages left to node_modules. A thread then loads plain JavaScript instead of compiling and resolving
 * TypeScript file by file through tsx's hooks: about a third less of a function's cold start (465 against 665 ms
 * for the payments function here), fourteen times a platform start. The handlers run unchanged: the same source
 * files, the same packages; `__dirname` in them still names their own folder (the fraud model, the console's
 * files), and errors' stacks name the TypeScript files through the source maps.
 *
 * Built once a process (about 0.2 s), into `node_modules/.cache/smartpay-functions/<hash of the output>`: from there the
 * packages resolve as from the project, a build that changed nothing reuses its folder, and concurrent starts never
 * see each other's half-written files (each writes a folder of its own and renames it into place).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { allFunctions } from '../contracts/topology';

const ROOT = join(__dirname, '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'smartpay-functions');
const WORKER_ENTRY = 'local/function-worker.ts';
/** Where esbuild is told it writes (nothing is written there): at the depth of the final folder, so the source maps' relative paths hold from there. */
const BUILD_DIR = join(CACHE, 'build');

export interface FunctionBundles {
  /** The worker thread's script. */
  readonly worker: string;
  /** Each handler entry of the topology (`lambdas/.../handler.ts`) → its bundle. */
  readonly handlers: Readonly<Record<string, string>>;
}

/** Each file's `__dirname` as its own folder (a bundle's would be the bundle's). */
const ownDirname: Plugin = {
  name: 'own-dirname',
  setup(plugin) {
    plugin.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('__dirname')) return undefined;
      return { contents: source.replace(/\b__dirname\b/g, JSON.stringify(dirname(args.path))), loader: 'ts' };
    });
  },
};

let bundles: Promise<FunctionBundles | undefined> | undefined;

/**
 * The bundles, or undefined under NODE_V8_COVERAGE (`npm run test:coverage` counts the TypeScript files the
 * threads load, so they load them through tsx as before).
 */
export function functionBundles(): Promise<FunctionBundles | undefined> {
  if (process.env.NODE_V8_COVERAGE) return Promise.resolve(undefined);
  bundles ??= bundle().catch((error: unknown) => {
    bundles = undefined;
    throw error;
  });
  return bundles;
}

async function bundle(): Promise<FunctionBundles> {
  const entries = [...new Set([WORKER_ENTRY, ...Object.values(allFunctions()).map((f) => f.entry)])];
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir: BUILD_DIR,
    outbase: '.',
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The errors' names are their class names (contracts/errors.ts), which the workflows' Catch match: a bundle
    // renames a class whose name another file also uses (ValidationError became _ValidationError).
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    write: false,
    logLevel: 'silent',
    plugins: [ownDirname],
  });
  const hash = createHash('sha256');
  for (const file of result.outputFiles) hash.update(relative(BUILD_DIR, file.path)).update(file.contents);
  const dir = join(CACHE, hash.digest('hex').slice(0, 16));
  if (!existsSync(dir)) {
    const staging = `${dir}.${process.pid}.${Date.now()}`;
    for (const file of result.outputFiles) {
      const target = join(staging, relative(BUILD_DIR, file.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another start wrote the same folder first: the same bytes.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    }
  }
  const js = (entry: string) => join(dir, entry.replace(/\.ts$/, '.js'));
  return { worker: js(WORKER_ENTRY), handlers: Object.fromEntries(entries.filter((e) => e !== WORKER_ENTRY).map((e) => [e, js(e)])) };
}

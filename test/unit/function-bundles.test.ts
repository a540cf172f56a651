/**
 * The local functions' bundles (local/function-bundles.ts): the handlers as their threads load them. Errors keep
 * their class names (the workflows' Catch match them), stacks name the TypeScript files, and `__dirname` is each
 * file's own folder (the fraud model loads from beside its handler's source; the e2e suites score with it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allFunctions } from '../../contracts/topology';
import { functionBundles } from '../../local/function-bundles';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const context = { getRemainingTimeInMillis: () => 10_000 };

test('one bundle per handler file, reused within the process', async () => {
  const bundles = (await functionBundles())!;
  expect(Object.keys(bundles.handlers).sort()).toEqual([...new Set(Object.values(allFunctions()).map((f) => f.entry))].sort());
  for (const file of [bundles.worker, ...Object.values(bundles.handlers)]) {
    expect(file).toContain(join('node_modules', '.cache', 'smartpay-functions'));
    expect(existsSync(file) && existsSync(`${file}.map`)).toBe(true);
  }
  expect(await functionBundles()).toBe(bundles);
});

test("a bundled handler's errors keep their names, and their stacks name the TypeScript files", async () => {
  const bundles = (await functionBundles())!;
  process.setSourceMapsEnabled(true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(bundles.handlers['lambdas/payments/handler.ts']!) as { handler: Handler };
  const thrown = (await handler({ step: 'no-such-step' }, context).catch((error: Error) => error)) as Error;
  expect(thrown.name).toBe('ValidationError');
  expect(thrown.stack).toMatch(/contracts\/errors\.ts:\d+/);
});

test("__dirname in our files is their own folder, not the bundle's (the fraud model beside its source)", async () => {
  const bundles = (await functionBundles())!;
  const fraud = readFileSync(bundles.handlers['lambdas/fraud/handler.ts']!, 'utf8');
  expect(fraud).toContain(JSON.stringify(join(__dirname, '..', '..', 'lambdas', 'fraud')));
  expect(fraud).not.toMatch(/\b__dirname\b/);
});

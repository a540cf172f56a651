/**
 * The lint config enforces the house's boundaries: each forbidden import below is an error, and the allowed
 * ones are not. (Without a working import resolver the plugin sees nothing and passes everything: this test
 * is what notices.)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Lints each case's code as if it were the file it names, with the repository's own eslint.config.mjs, in one
 * Node process (jest cannot load the ESM config itself), and returns the boundary errors of each.
 */
function boundaryErrors(cases: ReadonlyArray<readonly [string, string]>): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const cases = JSON.parse(process.argv[1]);
    const eslint = new ESLint({ cwd: process.cwd() });
    const out = [];
    for (const [file, code] of cases) {
      const [result] = await eslint.lintText(code, { filePath: file });
      out.push(result.messages.filter((m) => m.ruleId?.startsWith('boundaries/') || m.ruleId === 'no-restricted-imports').map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases.map(([f, c]) => [join(ROOT, f), c]))], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as string[][];
}

const use = (names: string) => `\nexport const used = [${names}];\n`;

const FORBIDDEN: ReadonlyArray<readonly [string, string, string]> = [
  ['lib importing runtime code', 'lib/zz.ts', `import { DynamoPaymentStore } from '../lambdas/payments/store';${use('DynamoPaymentStore')}`],
  ['lib importing the local platform', 'lib/zz.ts', `import { LOCAL_TABLES } from '../local/env';${use('LOCAL_TABLES')}`],
  ["an area importing another area's adapter", 'lambdas/fraud/zz.ts', `import { DynamoPaymentStore } from '../payments/store';${use('DynamoPaymentStore')}`],
  ["an area importing another area's domain", 'lambdas/rewards/zz.ts', `import { finalize } from '../payments/service';${use('finalize')}`],
  ['the runtime importing the local platform', 'lambdas/payments/zz.ts', `import { LOCAL_TABLES } from '../../local/env';${use('LOCAL_TABLES')}`],
  ['shared runtime importing an area', 'lambdas/shared/zz.ts', `import { route } from '../routing/service';${use('route')}`],
  ['ml importing a benchmark', 'ml/zz.ts', `import { quantile } from '../bench/support';${use('quantile')}`],
  ['contracts importing anything else', 'contracts/zz.ts', `import { STAGES } from '../lib/stages';${use('STAGES')}`],
  ['a relative import with an extension', 'lambdas/payments/zz.ts', `import { TABLES } from '../../contracts/resources.js';${use('TABLES')}`],
];

const ALLOWED: ReadonlyArray<readonly [string, string, string]> = [
  ["an area reading another area's read port", 'lambdas/fraud/zz.ts', `import { paymentLookup } from '../payments/lookup';${use('paymentLookup')}`],
  ['an area importing contracts and the shared runtime', 'lambdas/fraud/zz.ts', `import { ENV } from '../../contracts/resources';\nimport { config } from '../shared/config';${use('ENV, config')}`],
  ['lib importing contracts', 'lib/zz.ts', `import { allRoutes } from '../contracts/topology';${use('allRoutes')}`],
  ['local importing contracts', 'local/zz.ts', `import { allRoutes } from '../contracts/topology';${use('allRoutes')}`],
  ['ml importing serving code', 'ml/zz.ts', `import { featureVector } from '../lambdas/fraud/features';${use('featureVector')}`],
];

test('forbidden imports are errors and allowed ones are not', () => {
  const errors = boundaryErrors([...FORBIDDEN, ...ALLOWED].map(([, file, code]) => [file, code] as const));
  const found = [...FORBIDDEN, ...ALLOWED].map(([name], i) => ({ name, errors: errors[i]!.length }));
  expect(found).toEqual([...FORBIDDEN.map(([name]) => ({ name, errors: 1 })), ...ALLOWED.map(([name]) => ({ name, errors: 0 }))]);
}, 60_000);

// The local Solana ledger's bank logs every instruction unless told otherwise; its native module reads RUST_LOG
// from the process's real environment, which jest's test environments only copy: set here, the workers inherit it.
process.env.RUST_LOG ??= 'error';

/** @type {import('jest').Config} */
const transform = {
  '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = {
  testEnvironment: 'node',
  transform,
  // ESM-only packages that jest must transform to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(jose)/)'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/setup.ts'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'lib', testMatch: ['<rootDir>/test/lib/**/*.test.ts'] },
    { ...common, displayName: 'statemachine', testMatch: ['<rootDir>/test/statemachine/**/*.test.ts'] },
    { ...common, displayName: 'store', testMatch: ['<rootDir>/test/store/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // The operator console in Debian's chromium (playwright-core): apt-get install chromium.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'] },
    // Needs Debian's python3-xgboost: run by `npm run test:ml`, not by `npm test`.
    { ...common, displayName: 'ml', testMatch: ['<rootDir>/test/ml/**/*.test.ts'] },
  ],
  // Jest reads the timeout from here only (not per project): the e2e and state-machine suites start the local
  // platform (one worker thread per function), which takes a few seconds on a loaded 2-core machine.
  testTimeout: 30_000,
  // Two suites at once (jest's default on 2 cores is one): the e2e suites wait on timers and the local platform's
  // threads as much as they compute, so two side by side take about 450 s where one at a time took 600 s here.
  maxWorkers: 2,
  // Every file, handlers included: `npm run test:coverage` (test/support/coverage.ts) adds what ran in the local
  // platform's worker threads (V8's counts), which jest cannot instrument, and holds the total at 85% of lines.
  collectCoverageFrom: ['contracts/**/*.ts', 'lambdas/**/*.ts', 'lib/**/*.ts', 'local/**/*.ts', '!**/*.d.ts'],
};

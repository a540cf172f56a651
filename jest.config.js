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
    // These start the local platform (one worker per function): allow its start-up under a loaded machine.
    { ...common, displayName: 'statemachine', testTimeout: 30_000, testMatch: ['<rootDir>/test/statemachine/**/*.test.ts'] },
    { ...common, displayName: 'store', testMatch: ['<rootDir>/test/store/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testTimeout: 30_000, testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    // Needs Debian's python3-xgboost: run by `npm run test:ml`, not by `npm test`.
    { ...common, displayName: 'ml', testMatch: ['<rootDir>/test/ml/**/*.test.ts'] },
  ],
  collectCoverageFrom: ['contracts/**/*.ts', 'lambdas/**/*.ts', 'lib/**/*.ts', 'local/**/*.ts', '!**/*.d.ts'],
  coverageThreshold: { global: { lines: 80, branches: 70, functions: 80, statements: 80 } },
};

import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The house's boundaries (see each folder's README.md). Every import between folders must be allowed here;
 * the first matching element wins, so lambdas/shared comes before lambdas/<area>.
 */
const ELEMENTS = [
  { type: 'bin', pattern: 'bin', partialMatch: false },
  { type: 'contracts', pattern: 'contracts', partialMatch: false },
  { type: 'lib', pattern: 'lib', partialMatch: false },
  { type: 'shared', pattern: 'lambdas/shared', partialMatch: false },
  { type: 'area', pattern: 'lambdas/*', capture: ['area'], partialMatch: false },
  { type: 'local', pattern: 'local', partialMatch: false },
  { type: 'ml', pattern: 'ml', partialMatch: false },
  { type: 'bench', pattern: 'bench', partialMatch: false },
  { type: 'test', pattern: 'test', partialMatch: false },
];

const to = (...types) => ({ element: { types: { anyOf: types } } });

const POLICIES = [
  // Entry points: the constructs, the local platform and the contracts; no domain code.
  { from: { element: { type: 'bin' } }, allow: { to: to('bin', 'lib', 'local', 'contracts') } },
  // Constructs render the contracts; they never import runtime code (handlers are entry paths, not imports).
  { from: { element: { type: 'lib' } }, allow: { to: to('lib', 'contracts') } },
  // The seams as data: zod only.
  { from: { element: { type: 'contracts' } }, allow: { to: to('contracts') } },
  { from: { element: { type: 'shared' } }, allow: { to: to('shared', 'contracts') } },
  // An area: its own files, the shared runtime, the contracts, and another area's read port (lookup.ts) only.
  {
    from: { element: { type: 'area' } },
    allow: {
      to: [
        { element: { type: 'area', captured: { area: '{{ from.element.captured.area }}' } } },
        to('shared', 'contracts'),
        { element: { type: 'area', fileInternalPath: 'lookup.ts' } },
      ],
    },
  },
  // The local platform renders the contracts onto embedded parts; it loads handlers by their entry path.
  { from: { element: { type: 'local' } }, allow: { to: [to('local', 'contracts'), { element: { type: 'area', fileInternalPath: 'handler.ts' } }] } },
  // The training pipeline shares features and models with serving; never the benchmarks.
  { from: { element: { type: 'ml' } }, allow: { to: to('ml', 'area', 'shared', 'contracts', 'local') } },
  { from: { element: { types: { anyOf: ['bench', 'test'] } } }, allow: { to: { element: { type: '*' } } } },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.smartpay/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { alwaysTryTypes: true, project: './tsconfig.json' } },
      'boundaries/legacy-templates': false,
      'boundaries/elements': ELEMENTS,
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: 'boundary: {{ from.element.path }}/{{ from.internalPath }} may not import {{ to.element.path }}/{{ to.internalPath }} (eslint.config.mjs says what each folder may import)',
          policies: POLICIES,
        },
      ],
      // An import of a file outside every element (or one that does not resolve) is an error, not a blind spot.
      'boundaries/no-unknown-dependencies': 'error',
      // One style of relative import: no extension.
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.{1,2}/.*\\.js$', message: 'write relative imports without an extension' }] }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['console/**'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', process: 'readonly' } },
  },
  // The operator console: browser ES modules (no build step).
  {
    files: ['console/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
);

// ESLint flat config: typescript-eslint's type-aware recommended rules over src/, test/ and bench/ (bench/ is JavaScript
// with JSDoc types, type-checked through tsconfig.json's checkJs).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import layers from './eslint-rules/layers.js';

export default tseslint.config(
  // test/fixtures/layering/ holds deliberately wrong imports; test/unit/layers-rule.test.ts lints it on its own.
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/fixtures/layering/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node, sourceType: 'module' },
  },
  {
    // The dependency direction (STYLE): imports run down the layers only. The layer order is in
    // eslint-rules/layers.js (and docs/architecture.md); `allow` lists temporary exceptions, each with its owner.
    files: ['src/**/*.ts'],
    plugins: { layers },
    rules: {
      'layers/direction': [
        'error',
        {
          root: 'src',
          // Temporary exceptions, each { from, to, owner }: none today.
          allow: [],
        },
      ],
    },
  },
  {
    files: ['bench/**/*.js'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
      sourceType: 'module',
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // The bench is glue around untyped code (autocannon's internals, JSON over IPC, /stats documents): its `any`
      // is declared at those edges on purpose, so the no-unsafe-* family would only restate it. Everything else
      // type-aware (promises, awaits, templates, unused values) applies as to src/.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);

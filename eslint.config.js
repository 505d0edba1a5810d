// ESLint flat config: recommended JS + typescript-eslint rules (syntax-only, fast).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import semrec from './scripts/eslint-no-cycle.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'semrec-demo/**', 'trainer/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // no import cycle in the library code, type-only imports included (scripts/eslint-no-cycle.js)
    files: ['src/**/*.ts', 'quantizer/**/*.ts', 'decoding/**/*.ts'],
    plugins: { semrec },
    rules: { 'semrec/no-cycle': 'error' },
  },
  {
    // the cores are used through their entry points: quantizer/index.js, quantizer/core/index.js
    // and decoding/index.js (their own files and the tests may reach inside)
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '(^|/)(quantizer|decoding)/(?!index\\.js$)(?!core/index\\.js$)',
          message: 'import the cores through quantizer/index.js, quantizer/core/index.js or decoding/index.js',
        }],
      }],
    },
  },
  {
    // quantizer/core is self-contained: Node, zod and the error family only
    files: ['quantizer/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./(?!errors\\.js$)', message: 'quantizer/core imports nothing from the quantizer proper, decoding/ or src/' }],
      }],
    },
  },
  {
    files: ['scripts/**/*.{js,mjs}', 'bench/**/*.{js,mjs}', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);

import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import layers from './eslint-layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.oaas/'] },
  js.configs.recommended,
  // recommended (not strict) type-checked rules: public functions validate input from untyped
  // callers, which strict's no-unnecessary-condition would flag as dead code.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // The architecture: imports run down the layers of eslint-layers.js, and no modules import each other in a loop.
    files: ['src/**/*.ts'],
    plugins: { oaas: layers, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'oaas/layers': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['test/**', 'src/**/*.test.ts', 'examples/**', 'bench/**'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // @method bodies are declared async by convention (every call returns a Promise), awaiting or not.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['eslint.config.js', 'eslint-layers.js'], ...tseslint.configs.disableTypeChecked },
);

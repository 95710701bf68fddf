// ESLint 9 flat config with typescript-eslint's recommended rules (syntax-level, fast).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Vendor payloads are untyped JSON; `any` at those edges is deliberate and local.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.wrangler/',
      'dist/',
      'public/',
      'migrations/',
      'src/worker-configuration.d.ts',
      'src/client/api.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['log', 'error', 'warn'] }],
      'no-restricted-syntax': [
        'error',
        {
          // hono's `c.var` copies every request variable into a new object on each access.
          selector: "MemberExpression[object.name='c'][property.name='var']",
          message: "Use c.get('name'): c.var builds a new object of all variables on every access.",
        },
      ],
    },
  },
  {
    // Tests read JSON responses whose shape each assertion states.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-namespace': 'off' },
  },
);

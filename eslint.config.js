import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': 'off',
    },
  },
  {
    // The domain core stays pure: no I/O, no clock, no randomness of its own.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'fs/*', 'child_process', 'net', 'http', 'https', 'os', 'worker_threads'], message: 'src/core is pure: no I/O.' },
            { group: ['better-sqlite3', 'kysely', 'pg', 'hono', '@octokit/*', 'execa'], message: 'src/core is pure: no I/O libraries.' },
            { group: ['../engine/*', '../cli/*', '../server/*', '../store/*', '../agents/*', '../trackers/*', '../workspace/*'], message: 'src/core may not import an outer layer.' },
            // Everything else outside src/core/ too (config/ included): what core needs is defined in core.
            { regex: String.raw`^(?!\./(?!.*\.\./)|zod$)`, message: 'src/core imports only src/core/ and zod.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'Date', message: 'Pass the clock in.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'Pass the random source in.' }],
    },
  },
  {
    // A tracker is an adapter: the engine drives it, never the other way round.
    files: ['src/trackers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../engine/*', '../cli/*', '../server/*', '../store/*'], message: 'src/trackers is an adapter: it never imports the engine, the faces or the store.' }] },
      ],
    },
  },
  {
    // The dashboard runs in a browser: no Node module, and of Orch's own code only the pure core
    // (its types and the lifecycle table), which the bundle may include.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'fs/*', 'child_process', 'net', 'http', 'https', 'os', 'path'], message: 'web/ runs in a browser: no Node modules.' },
            { group: ['**/src/*/**', '!**/src/core/**'], message: 'web/ may import only src/core (pure) from the server side.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);

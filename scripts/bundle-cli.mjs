// Bundles the `orch` command into dist/cli/main.js (over tsc's own) and its lazily loaded parts into
// dist/bundle/. Loading ~600 small modules (kysely, zod, commander, Orch's own) one by one cost most of
// each command's start-up; one entry and a few chunks per command cost a fraction of it. Run after
// `tsc -p tsconfig.build.json`: the other entry points (the sandbox relay, the demo agent, the JSON
// schema writer) stay tsc's files, and the chunks sit two levels below the package root, as every
// dist/<folder>/<file>.js does, so paths built from import.meta.url (prompts/, schema/, package.json,
// dist/dashboard/) resolve alike from either.
import { rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * zod's `z` carries `z.locales`, its error messages in some fifty languages (300 KiB, a fifth of what
 * every command parsed). Orch speaks English, which zod installs from its own locales/en.js whatever
 * this namespace holds; so the bundle's `z.locales` holds English only.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'english-only-zod', pluginData: args.resolveDir } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'english-only-zod' }, (args) => ({ contents: "export { default as en } from '../locales/en.js';", resolveDir: args.pluginData }));
  },
};

const outdir = 'dist';
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  chunkNames: 'bundle/[name]-[hash]',
  // better-sqlite3 loads its native addon by path, pg is for PostgreSQL users only and pino serves the
  // daemon: they load from node_modules as before.
  external: ['better-sqlite3', 'pg', 'pino'],
  // Bundled CommonJS (commander, yaml's dependencies) calls require() for Node's own modules.
  banner: { js: "import { createRequire as __orchCreateRequire } from 'node:module';\nconst require = __orchCreateRequire(import.meta.url);" },
  // Whitespace and syntax only: less to parse at every start, while names stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  plugins: [englishOnlyZod],
  logLevel: 'warning',
});

console.log(`cli: dist/cli/main.js (${(statSync('dist/cli/main.js').size / 1024).toFixed(1)} KiB) and its chunks in dist/bundle/`);

// Bundles the `orch` command into dist/cli/main.js (over tsc's own) and what it loads into dist/bundle/.
// Loading ~600 small modules (kysely, zod, commander, Orch's own) one by one cost most of each command's
// start-up; a few files per command cost a fraction of it. Run after `tsc -p tsconfig.build.json`: the
// other entry points (the sandbox relay, the demo agent, the JSON schema writer) stay tsc's files, and
// the bundles sit two levels below the package root, as every dist/<folder>/<file>.js does, so paths
// built from import.meta.url (prompts/, schema/, package.json, dist/dashboard/) resolve alike from either.
//
// Three builds:
// - the everyday commands (cli/everyday-commands.ts) in one CommonJS file, dist/bundle/everyday-<hash>.cjs,
//   which cli/main.ts runs through V8's code cache (cli/code-cache.ts): one file to read and, after the
//   first run, next to nothing to compile. CommonJS because Node 20 caches compiled code for scripts
//   only; the file is one function expression (code-cache.ts's BUNDLE_WRAPPER), whose parameters give
//   it require, module and import.meta.url; the hash in its name (of its content) keys the cache;
// - every other command: cli/start.ts and a chunk per command group and per lazily loaded part, ES
//   modules (Node 22.1+ caches their compiled code itself);
// - dist/cli/main.js, which picks one of the two and shares no chunk with either, so the everyday
//   commands load no ES module but it.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_WRAPPER } from '../dist/cli/code-cache.js';

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

/**
 * The everyday bundle holds the whole group of each everyday command (help and errors as from the full
 * CLI), but the engine parts that only the group's other actions load lazily (`orch run`'s runner,
 * `task get`'s and `task route`'s router, `task publish`'s trackers, `orch agents`' smoke test and
 * scoreboard, the config editor of `project add`) would be a third of its text; those actions run from
 * the full CLI, so here each such import() fails, loudly, should one ever be reached.
 */
const NOT_EVERYDAY = /\/engine\/(cycle|recovery|runner|router|publish|agents|scoreboard)\.js$|\/config\/edit\.js$/;
const leaveOutOtherActions = {
  name: 'leave-out-other-actions',
  setup(builder) {
    builder.onResolve({ filter: NOT_EVERYDAY }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'not-everyday' } : undefined));
    builder.onLoad({ filter: /.*/, namespace: 'not-everyday' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the everyday commands' bundle: run this command through the full CLI`)});`,
    }));
  },
};

const outdir = 'dist';
rmSync('dist/bundle', { recursive: true, force: true });

// One name for this build, in every bundle: the config cache (config/config-cache.ts) is valid for the
// build that wrote it, and the everyday bundle and the rest must agree on which that is.
const define = { ORCH_BUILD_ID: JSON.stringify(randomUUID()) };

/** What the builds share. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  outdir,
  entryNames: '[dir]/[name]-[hash]',
  // better-sqlite3 loads its native addon by path, pg is for PostgreSQL users only and pino serves the
  // daemon: they load from node_modules as before.
  external: ['better-sqlite3', 'pg', 'pino'],
  // Whitespace and syntax only: less to parse at every start, while names stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

/** Bundled CommonJS (commander, yaml's dependencies) calls require() for Node's own modules. */
const esmRequire = { js: "import { createRequire as __orchCreateRequire } from 'node:module';\nconst require = __orchCreateRequire(import.meta.url);" };

/** The file esbuild wrote for the entry point `source`. */
const entryFile = (result, source) => {
  const file = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint === source)?.[0];
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${source}`);
  return file;
};

const everyday = await build({
  ...common,
  entryPoints: { 'bundle/everyday': 'src/cli/everyday.ts' },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  banner: { js: BUNDLE_WRAPPER.head },
  footer: { js: BUNDLE_WRAPPER.tail },
  define: { ...define, 'import.meta.url': '__orchModuleUrl' },
  // better-sqlite3's JavaScript too (everyday.ts hands it to the store, which loads its addon by path).
  external: ['pg', 'pino'],
  plugins: [englishOnlyZod, leaveOutOtherActions],
});
const everydayFile = entryFile(everyday, 'src/cli/everyday.ts');
// Node runs the file as a script, where import() needs a loader of its own. esbuild turns import() of
// bundled and external packages into require(), but leaves Node's own modules to import(): check.
const everydayText = readFileSync(everydayFile, 'utf8');
if (/\bimport\(/.test(everydayText)) throw new Error(`${everydayFile} has an import() left: it cannot run as a script (require Node's modules instead)`);
// The loader reads it as latin1, which is UTF-8 for ASCII only.
if ([...everydayText].some((c) => c.charCodeAt(0) > 0x7f)) throw new Error(`${everydayFile} is not ASCII: keep esbuild's charset at ascii`);

const rest = await build({
  ...common,
  entryPoints: { 'bundle/start': 'src/cli/start.ts' },
  splitting: true,
  format: 'esm',
  chunkNames: 'bundle/[name]-[hash]',
  banner: esmRequire,
  define,
  plugins: [englishOnlyZod],
});
const startFile = entryFile(rest, 'src/cli/start.ts');

/** main.ts imports ./start.js lazily: here, the bundle's entry instead. */
const startOfTheBundle = {
  name: 'start-of-the-bundle',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/start\.js$/ }, () => ({ path: `./${relative('dist/cli', startFile)}`, external: true }));
  },
};

await build({
  ...common,
  entryPoints: { 'cli/main': 'src/cli/main.ts' },
  entryNames: '[dir]/[name]',
  format: 'esm',
  define: { ...define, ORCH_EVERYDAY_BUNDLE: JSON.stringify(relative('dist/bundle', everydayFile)) },
  plugins: [startOfTheBundle],
});

// The entry is compiled as an ES module on every run (Node 20 caches none): anything it imports beyond
// the code-cache loader is paid for by every command. An import of config/ that reached zod once made
// it 600 KiB and every command 55 ms slower.
const ENTRY_LIMIT_KIB = 16;
if (statSync('dist/cli/main.js').size > ENTRY_LIMIT_KIB * 1024) {
  throw new Error(`dist/cli/main.js is over ${ENTRY_LIMIT_KIB} KiB: src/cli/main.ts imports more than it needs to pick a bundle (look for an import that reaches zod, yaml or kysely)`);
}

const kib = (file) => `${(statSync(file).size / 1024).toFixed(1)} KiB`;
console.log(`cli: dist/cli/main.js (${kib('dist/cli/main.js')}), the everyday commands in ${everydayFile} (${kib(everydayFile)}), the rest from ${startFile} and its chunks`);

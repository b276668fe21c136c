// The whole test command: type-check, lint, build, then every vitest suite. Ends with the plain line
// `N passed, N failed` and exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const resultsFile = '.test-results.json';

function step(name, command, args) {
  console.log(`\n== ${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  return result.status === 0;
}

// The real agent CLIs the end-to-end tests drive live in a test-only package; install it when missing.
// (`npm install`, not `npm ci`: the registry lacks some of opencode's optional platform packages.)
if (!existsSync('test/agent-clis/node_modules/.bin/claude')) {
  if (!step('agent CLIs', 'npm', ['install', '--prefix', 'test/agent-clis', '--no-audit', '--no-fund'])) {
    console.log('\n0 passed, 1 failed');
    process.exit(1);
  }
}

const checks = [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']],
  // src/core/ alone, without Node's types or anything outside it: the compiler keeps the core pure.
  ['type-check the pure core', 'npx', ['tsc', '-p', 'src/core/tsconfig.json']],
  ['type-check the dashboard', 'npx', ['tsc', '-p', 'web/tsconfig.json']],
  ['lint', 'npx', ['eslint', '.', '--max-warnings', '0']],
  ['build', 'npx', ['tsc', '-p', 'tsconfig.build.json']],
  ['build the dashboard', 'node', ['scripts/build-dashboard.mjs']],
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

// A first look at Orch on its embedded defaults (SQLite, local tasks), in a throwaway ORCH_HOME and a
// sample repository, so nothing of yours is touched. Each step prints the command it runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'orch-quickstart-'));
const home = join(scratch, 'orch-home');
const repo = join(scratch, 'shop');
const env = {
  ...process.env,
  ORCH_HOME: home,
  GIT_AUTHOR_NAME: 'Orch Quickstart',
  GIT_AUTHOR_EMAIL: 'quickstart@orch.invalid',
  GIT_COMMITTER_NAME: 'Orch Quickstart',
  GIT_COMMITTER_EMAIL: 'quickstart@orch.invalid',
};

function git(...args) {
  execFileSync('git', args, { cwd: repo, env, stdio: 'ignore' });
}

function orch(...args) {
  console.log(`\n$ orch ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  execFileSync(process.execPath, [cli, ...args], { cwd: repo, env, stdio: 'inherit' });
}

mkdirSync(repo, { recursive: true });
git('init', '-q', '-b', 'main');
writeFileSync(join(repo, 'README.md'), '# shop\n\nA sample repository for the Orch quickstart.\n');
git('add', 'README.md');
git('commit', '-q', '-m', 'Initial commit');
console.log(`Sample repository: ${repo}\nORCH_HOME:         ${home}`);

orch('init');
orch('task', 'add', 'Add a products API', '--priority', 'high', '--label', 'api', '--body', 'GET /products returns the catalogue as JSON.');
orch('task', 'add', 'Show products on the home page', '--depends-on', '1', '--label', 'web');
orch('task', 'add', 'Checkout flow', '--label', 'epic');
orch('task', 'add', 'Cart model', '--parent', '3');
orch('task', 'add', 'Payment form', '--parent', '3', '--depends-on', '4');
orch('task', 'tree');
orch('plan', '--dry-run');
orch('status');
console.log(`\nDone. Try more with: ORCH_HOME=${home} node ${cli} --help`);

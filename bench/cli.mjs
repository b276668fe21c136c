// CLI start-up benchmark: how long the everyday `orch` commands take from process start to exit, next
// to `node -e 0` (the floor any Node program pays) measured in the same run. Run with
// `node bench/cli.mjs` after `npm run build`. Options: --runs N (runs per command, default 30),
// --cli PATH (the `orch` entry to time, default dist/cli/main.js of this checkout), --keep.
//
// A throwaway ORCH_HOME gets one project and 20 tasks; then each round runs every command once, in a
// rotating order, so load on a shared machine falls on all of them alike. `orch agent claim` runs with
// an ORCH_RUN_ID that names no worker: it opens the store, looks the worker up and is refused, which is
// everything but the claim itself (a claim can be made once, not thirty times). Wall-clock times of
// spawnSync, in milliseconds; p50 and p90 per command.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const RUNS = Number(option('runs', '30'));
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs needs a whole number >= 1');
const CLI = option('cli', fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
const KEEP = process.argv.includes('--keep');

const scratch = mkdtempSync(join(os.tmpdir(), 'orch-bench-cli-'));
const home = join(scratch, 'home');
const repo = join(scratch, 'app');
const env = { ...process.env, ORCH_HOME: home, NO_COLOR: '1' };
delete env.ORCH_RUN_ID;
delete env.ORCH_WORKER_API;

function orch(args, extraEnv = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: repo, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  return result;
}

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

try {
  mkdirSync(repo);
  const git = (args) => execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@orch.invalid', ...args], { cwd: repo, stdio: 'ignore' });
  git(['init', '-q', '-b', 'main']);
  git(['commit', '-q', '--allow-empty', '-m', 'initial']);
  const init = orch(['init']);
  if (init.status !== 0) throw new Error(`orch init failed: ${init.stderr}`);
  for (let i = 1; i <= 20; i++) {
    const added = orch(['task', 'add', `Task ${i}`, '--priority', String(i % 3)]);
    if (added.status !== 0) throw new Error(`orch task add failed: ${added.stderr}`);
  }

  let added = 0;
  const commands = [
    { name: 'node -e 0', run: () => spawnSync(process.execPath, ['-e', '0']), expect: 0 },
    { name: 'orch task add', run: () => orch(['task', 'add', `Bench task ${++added}`]), expect: 0 },
    { name: 'orch task list', run: () => orch(['task', 'list']), expect: 0 },
    { name: 'orch issue ready', run: () => orch(['issue', 'ready']), expect: 0 },
    { name: 'orch agent claim', run: () => orch(['agent', 'claim', '1'], { ORCH_RUN_ID: 'w999999' }), expect: 2 },
    { name: 'orch status', run: () => orch(['status']), expect: 0 },
  ];
  const times = new Map(commands.map((c) => [c.name, []]));
  const loadBefore = os.loadavg();
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(round + k) % commands.length];
      const start = process.hrtime.bigint();
      const result = command.run();
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (result.status !== command.expect) throw new Error(`${command.name} exited ${result.status} (expected ${command.expect}): ${result.stderr}`);
      times.get(command.name).push(ms);
    }
  }
  const loadAfter = os.loadavg();

  console.log(`orch CLI start-up: ${CLI}`);
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${RUNS} runs each, interleaved`);
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
  console.log(`${'command'.padEnd(18)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)}`);
  for (const { name } of commands) {
    const sorted = [...times.get(name)].sort((a, b) => a - b);
    console.log(`${name.padEnd(18)} ${quantile(sorted, 0.5).toFixed(0).padStart(8)} ${quantile(sorted, 0.9).toFixed(0).padStart(8)}`);
  }
} finally {
  if (KEEP) console.log(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}

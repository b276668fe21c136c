// What the sandbox itself costs each process Orch starts for a run (the agent, each hook, each judge
// command): `/bin/sh -c true` started directly against the same started inside bubblewrap with a
// run's policy (system read-only, ORCH_HOME and the home hidden, worktree and run HOME writable,
// private /tmp, own network namespace). The two alternate, so load falls on both alike.
// Run with `npm run bench:sandbox-launch` (builds first). Option: --runs N (default 100).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decideSandboxPolicy } from '../dist/core/sandbox-policy.js';
import { bwrapArguments } from '../dist/sandbox/bwrap.js';
import { probeSandbox } from '../dist/sandbox/probe.js';

const at = process.argv.indexOf('--runs');
const RUNS = at === -1 ? 100 : Number(process.argv[at + 1]);
const probe = probeSandbox();
if (!probe.ok) throw new Error(probe.reason);

const root = mkdtempSync(join(os.tmpdir(), 'orch-bench-sandbox-'));
try {
  for (const dir of ['orch/worktree', 'orch/runs/1/home', 'person']) mkdirSync(join(root, dir), { recursive: true });
  const decision = decideSandboxPolicy({
    worktree: join(root, 'orch/worktree'),
    worktreeReadOnly: false,
    gitWritable: [],
    gitReadOnly: [],
    runHome: join(root, 'orch/runs/1/home'),
    orchHome: join(root, 'orch'),
    userHome: join(root, 'person'),
    checkout: null,
    systemPaths: ['/usr', '/etc', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/run/systemd/resolve'],
    toolPaths: [],
  });
  if (!decision.ok) throw new Error(decision.reason);
  const args = bwrapArguments({ policy: decision.policy, cwd: join(root, 'orch/worktree'), unshareNet: true, binds: [] });
  const direct = [];
  const sandboxed = [];
  for (let i = 0; i < RUNS; i++) {
    const first = i % 2 === 0;
    const time = (command, argv, into) => {
      const t0 = performance.now();
      const run = spawnSync(command, argv);
      if (run.status !== 0) throw new Error(`${command} exited ${run.status}: ${run.stderr}`);
      into.push(performance.now() - t0);
    };
    if (first) time('/bin/sh', ['-c', 'true'], direct);
    time(probe.bwrap, [...args, '--', '/bin/sh', '-c', 'true'], sandboxed);
    if (!first) time('/bin/sh', ['-c', 'true'], direct);
  }
  const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.round((values.length - 1) * q)];
  const show = (values) => `median ${quantile(values, 0.5).toFixed(1)} ms (p10 ${quantile(values, 0.1).toFixed(1)}, p90 ${quantile(values, 0.9).toFixed(1)})`;
  console.log(`${probe.version}, node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`direct:    ${show(direct)}`);
  console.log(`sandboxed: ${show(sandboxed)}`);
  console.log(`the sandbox adds ${(quantile(sandboxed, 0.5) - quantile(direct, 0.5)).toFixed(1)} ms per process started (${RUNS} of each)`);
} finally {
  rmSync(root, { recursive: true, force: true });
}

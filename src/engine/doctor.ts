import { execFile } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { promisify } from 'node:util';
import { OrchError } from '../core/errors.js';
import { probeSandbox } from '../sandbox/probe.js';
import { listAgents } from './agents.js';
import { notificationChecks } from './notification-checks.js';
import { describeStoreTarget, openOrch, storeTarget, type Orch } from './context.js';

const run = promisify(execFile);

/** `ok`: fine; `warn`: works, but worth a look; `fail`: something blocks running agents. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it; empty when nothing needs doing. */
  fix: string;
}

/** Below this much free space in ORCH_HOME, worktrees and logs may not fit. */
const LOW_DISK_BYTES = 1024 ** 3;

/**
 * What `orch doctor` reports: the store, the sandbox (for the projects that use it), each configured
 * agent CLI, each notification channel, git and the free disk in ORCH_HOME, each with what to do.
 */
export async function diagnose(home: string, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  let orch: Orch | null = null;
  try {
    orch = await openOrch(home);
    checks.push({ name: 'store', status: 'ok', detail: `opens, migrations applied (${describeStoreTarget(storeTarget(home, orch.config.databaseUrl))})`, fix: '' });
  } catch (error) {
    const uninitialised = error instanceof OrchError && error.code === 'not_initialised';
    checks.push({ name: 'store', status: 'fail', detail: (error as Error).message.split('\n')[0]!, fix: uninitialised ? 'run `orch init`' : 'fix what the message names; restore the database from a backup if it is damaged' });
  }
  try {
    checks.push(sandboxCheck(orch, env));
    if (orch) checks.push(...(await agentChecks(orch)));
    if (orch) checks.push(...(await notificationChecks(orch, env)));
    checks.push(await gitCheck());
    checks.push(diskCheck(home));
  } finally {
    await orch?.close();
  }
  return checks;
}

function sandboxCheck(orch: Orch | null, env: NodeJS.ProcessEnv): Check {
  const probe = probeSandbox(env);
  const sandboxed = orch ? Object.values(orch.config.projects).filter((project) => project.sandbox === 'on').map((project) => project.name) : [];
  if (probe.ok) return { name: 'sandbox', status: 'ok', detail: `${probe.bwrap} (${probe.version}) runs sandboxes`, fix: '' };
  const blocks = sandboxed.length > 0;
  return {
    name: 'sandbox',
    status: blocks ? 'fail' : 'warn',
    detail: `${probe.reason.replace(/; install .*$/, '')}${blocks ? `; no agent of ${sandboxed.join(', ')} starts` : ''}`,
    fix: 'install bubblewrap (apt-get install bubblewrap) or write `sandbox: off` for each project',
  };
}

async function agentChecks(orch: Orch): Promise<Check[]> {
  const agents = await listAgents(orch);
  return agents.map((agent) => {
    const used = agent.usedBy.length > 0;
    if (agent.path === null) {
      return { name: `agent ${agent.name}`, status: used ? 'fail' : 'warn', detail: `${agent.command} not found on PATH${used ? ` (used by ${agent.usedBy.join(', ')})` : ''}`, fix: `install ${agent.command}, or set agents.${agent.name}.command` } satisfies Check;
    }
    return { name: `agent ${agent.name}`, status: 'ok', detail: `${agent.path}${agent.version ? ` (${agent.version})` : ''}`, fix: '' } satisfies Check;
  });
}

async function gitCheck(): Promise<Check> {
  try {
    const { stdout } = await run('git', ['--version'], { timeout: 10_000 });
    return { name: 'git', status: 'ok', detail: stdout.trim(), fix: '' };
  } catch {
    return { name: 'git', status: 'fail', detail: 'git not found on PATH', fix: 'install git' };
  }
}

function diskCheck(home: string): Check {
  try {
    const stats = statfsSync(existsSync(home) ? home : '/');
    const free = stats.bavail * stats.bsize;
    const gib = (free / 1024 ** 3).toFixed(1);
    if (free < LOW_DISK_BYTES) return { name: 'disk', status: 'warn', detail: `${gib} GiB free in ${home}`, fix: 'free some space: worktrees and run logs live there' };
    return { name: 'disk', status: 'ok', detail: `${gib} GiB free in ${home}`, fix: '' };
  } catch (error) {
    return { name: 'disk', status: 'warn', detail: `cannot tell: ${(error as Error).message}`, fix: '' };
  }
}

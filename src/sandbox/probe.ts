import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Overrides where bubblewrap is looked for (an absolute path); otherwise `bwrap` on PATH. */
export const BWRAP_VARIABLE = 'ORCH_BWRAP';

export type SandboxProbe = { ok: true; bwrap: string; version: string } | { ok: false; reason: string };

const INSTALL = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or write `sandbox: off` for the project';

/** The bwrap executable this process would use, or null when there is none. */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env[BWRAP_VARIABLE];
  if (override) return isAbsolute(override) && executable(override) ? override : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'bwrap'))) return join(dir, 'bwrap');
  }
  return null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const cache = new Map<string, SandboxProbe>();

/**
 * Whether bubblewrap can run sandboxes here: found, and able to make the namespaces a run gets
 * (user namespaces may be refused by the kernel or a container). Answered once per executable.
 */
export function probeSandbox(env: NodeJS.ProcessEnv = process.env): SandboxProbe {
  const bwrap = findBwrap(env);
  if (bwrap === null) {
    const where = env[BWRAP_VARIABLE] ? `at ${env[BWRAP_VARIABLE]} (${BWRAP_VARIABLE})` : 'on PATH';
    return { ok: false, reason: `the sandbox cannot run: bubblewrap (bwrap) is not found ${where}; ${INSTALL}` };
  }
  const known = cache.get(bwrap);
  if (known) return known;
  const probe = runProbe(bwrap);
  cache.set(bwrap, probe);
  return probe;
}

function runProbe(bwrap: string): SandboxProbe {
  const args = ['--ro-bind', '/', '/', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-net', '--die-with-parent', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', 'true'];
  const run = spawnSync(bwrap, args, { encoding: 'utf8', timeout: 20_000 });
  if (run.error || run.status !== 0) {
    const said = (run.stderr ?? '').trim().split('\n').pop() || run.error?.message || `exit status ${run.status}`;
    return { ok: false, reason: `the sandbox cannot run: ${bwrap} failed to create namespaces (${said}); allow user namespaces, ${INSTALL}` };
  }
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  return { ok: true, bwrap, version };
}

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { findExecutable, isExecutable } from '../launcher/executables.js';

/** Overrides where bubblewrap is looked for (an absolute path); otherwise `bwrap` on PATH. */
export const BWRAP_VARIABLE = 'ORCH_BWRAP';

export type SandboxProbe = { ok: true; bwrap: string; version: string } | { ok: false; reason: string };

const INSTALL = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or write `sandbox: off` for the project';

/** The bwrap executable this process would use, or null when there is none. */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env[BWRAP_VARIABLE];
  if (override) return isAbsolute(override) && isExecutable(override) ? override : null;
  return findExecutable('bwrap', env.PATH ?? '');
}

const cache = new Map<string, SandboxProbe>();
let keptIn: string | null = null;

/**
 * Where a probe that succeeded is kept for later processes (a file under ORCH_HOME): `orch status`
 * and `orch issue ready` would otherwise start bubblewrap twice on every call. null: nowhere.
 */
export function keepSandboxProbesIn(file: string | null): void {
  keptIn = file;
}

/** Forgets the probes answered in this process (tests: as a new process would start). */
export function forgetSandboxProbes(): void {
  cache.clear();
}

/**
 * Whether bubblewrap can run sandboxes here: found, and able to make the namespaces a run gets
 * (user namespaces may be refused by the kernel or a container). Answered once per executable, and
 * a success kept on disk while nothing it depends on changes (see `conditions`).
 */
export function probeSandbox(env: NodeJS.ProcessEnv = process.env): SandboxProbe {
  const bwrap = findBwrap(env);
  if (bwrap === null) {
    const where = env[BWRAP_VARIABLE] ? `at ${env[BWRAP_VARIABLE]} (${BWRAP_VARIABLE})` : 'on PATH';
    return { ok: false, reason: `the sandbox cannot run: bubblewrap (bwrap) is not found ${where}; ${INSTALL}` };
  }
  const known = cache.get(bwrap);
  if (known) return known;
  const file = keptIn;
  const key = file === null ? null : conditions(bwrap);
  const kept = file !== null && key !== null ? keptProbe(file, key) : null;
  const probe = kept ?? runProbe(bwrap);
  cache.set(bwrap, probe);
  if (!kept && probe.ok && file !== null && key !== null) keepProbe(file, key, probe);
  return probe;
}

/**
 * What a probe's answer depends on: the executable (its identity and times), the user, the boot, the
 * user and mount namespaces this process runs in (another container has others), and the kernel's
 * switches for unprivileged user namespaces. null when the executable cannot be read.
 */
function conditions(bwrap: string): string | null {
  const text = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const link = (path: string) => {
    try {
      return readlinkSync(path);
    } catch {
      return '';
    }
  };
  try {
    const file = statSync(bwrap);
    return JSON.stringify([
      bwrap, file.dev, file.ino, file.size, file.mtimeMs, file.ctimeMs, process.getuid?.() ?? null,
      text('/proc/sys/kernel/random/boot_id'), link('/proc/self/ns/user'), link('/proc/self/ns/mnt'),
      text('/proc/sys/kernel/unprivileged_userns_clone'), text('/proc/sys/user/max_user_namespaces'), text('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
    ]);
  } catch {
    return null;
  }
}

function keptProbe(file: string, key: string): SandboxProbe | null {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; probe?: SandboxProbe };
    return kept.key === key && kept.probe?.ok === true ? kept.probe : null;
  } catch {
    return null;
  }
}

/** Best effort: written whole (a reader never sees half of it), or not at all. */
function keepProbe(file: string, key: string, probe: SandboxProbe): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify({ key, probe }), { mode: 0o600 });
    renameSync(partial, file);
  } catch {
    // Probed again next time.
  }
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

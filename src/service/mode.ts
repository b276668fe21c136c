import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { OrchError } from '../core/errors.js';
import { PidFileService } from './pid-file.js';
import { SERVICE_MODE_ENV, SERVICE_MODES, type ServiceManager, type ServiceMode, type ServiceSetup } from './service.js';
import { SystemdService } from './systemd.js';

/** What the machine says about systemd; gathered by `probeSystemd`, judged by `systemdUserManagerAvailable`. */
export interface SystemdFacts {
  /** `systemctl --user show-environment` succeeded: a user manager answers. */
  userManagerAnswers: boolean;
  /** `/run/systemd/system` exists: systemd is the init system. */
  bootedWithSystemd: boolean;
  xdgRuntimeDir: string | undefined;
}

/**
 * A user unit is only worth writing where a user manager will run it. When the manager cannot be asked
 * (no session bus, as under sudo or ssh without lingering), a systemd-booted machine with a runtime
 * directory for this user still has one.
 */
export function systemdUserManagerAvailable(facts: SystemdFacts): boolean {
  return facts.userManagerAnswers || (facts.bootedWithSystemd && Boolean(facts.xdgRuntimeDir));
}

/** ORCH_SERVICE_MODE when set (tests and unusual machines force a mode), else what detection says. */
export function chooseServiceMode(forced: string | undefined, systemdAvailable: () => boolean): ServiceMode {
  const wanted = forced?.trim();
  if (wanted) {
    if (!(SERVICE_MODES as readonly string[]).includes(wanted)) {
      throw new OrchError('invalid_input', `${SERVICE_MODE_ENV} must be ${SERVICE_MODES.join(' or ')}, not "${wanted}"`);
    }
    return wanted as ServiceMode;
  }
  return systemdAvailable() ? 'systemd' : 'pid-file';
}

export function probeSystemd(env: NodeJS.ProcessEnv): SystemdFacts {
  const answer = spawnSync('systemctl', ['--user', 'show-environment'], { stdio: 'ignore', timeout: 5000, env });
  return {
    userManagerAnswers: answer.status === 0,
    bootedWithSystemd: existsSync('/run/systemd/system'),
    xdgRuntimeDir: env.XDG_RUNTIME_DIR || undefined,
  };
}

/** The service manager for this machine (or the one ORCH_SERVICE_MODE forces). */
export function openServiceManager(setup: ServiceSetup): ServiceManager {
  const mode = chooseServiceMode(setup.env[SERVICE_MODE_ENV], () => systemdUserManagerAvailable(probeSystemd(setup.env)));
  return mode === 'systemd' ? new SystemdService(setup) : new PidFileService(setup);
}

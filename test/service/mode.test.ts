import { describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { chooseServiceMode, systemdUserManagerAvailable, type SystemdFacts } from '../../src/service/mode.js';

describe('detecting a systemd user manager', () => {
  const none: SystemdFacts = { userManagerAnswers: false, bootedWithSystemd: false, xdgRuntimeDir: undefined };

  it('trusts a user manager that answers', () => {
    expect(systemdUserManagerAvailable({ ...none, userManagerAnswers: true })).toBe(true);
  });

  it('accepts a systemd-booted machine with a runtime directory for the user, even when the manager cannot be asked', () => {
    expect(systemdUserManagerAvailable({ ...none, bootedWithSystemd: true, xdgRuntimeDir: '/run/user/1000' })).toBe(true);
  });

  it('says no without systemd as init, or without a runtime directory (no user manager runs)', () => {
    expect(systemdUserManagerAvailable(none)).toBe(false);
    expect(systemdUserManagerAvailable({ ...none, bootedWithSystemd: true })).toBe(false);
    expect(systemdUserManagerAvailable({ ...none, bootedWithSystemd: true, xdgRuntimeDir: '' })).toBe(false);
    expect(systemdUserManagerAvailable({ ...none, xdgRuntimeDir: '/run/user/1000' })).toBe(false);
  });
});

describe('choosing the service mode', () => {
  const detectionMustNotRun = () => {
    throw new Error('detection ran although the mode was forced');
  };

  it('takes the systemd path only when detection says so', () => {
    expect(chooseServiceMode(undefined, () => true)).toBe('systemd');
    expect(chooseServiceMode(undefined, () => false)).toBe('pid-file');
    expect(chooseServiceMode('  ', () => false)).toBe('pid-file');
  });

  it('lets ORCH_SERVICE_MODE force either mode without detecting anything', () => {
    expect(chooseServiceMode('pid-file', detectionMustNotRun)).toBe('pid-file');
    expect(chooseServiceMode('systemd', detectionMustNotRun)).toBe('systemd');
  });

  it('refuses an unknown mode with a one-line invalid_input error', () => {
    expect(() => chooseServiceMode('launchd', detectionMustNotRun)).toThrow(OrchError);
    expect(() => chooseServiceMode('launchd', detectionMustNotRun)).toThrow('ORCH_SERVICE_MODE must be systemd or pid-file, not "launchd"');
  });
});

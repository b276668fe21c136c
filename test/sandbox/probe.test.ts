import { chmodSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBwrap, forgetSandboxProbes, keepSandboxProbesIn, probeSandbox } from '../../src/sandbox/probe.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-probe-');
});
afterEach(() => {
  keepSandboxProbesIn(null);
  scratch.cleanup();
});

describe('whether bubblewrap can run here', () => {
  it('finds bwrap on PATH and runs a sandbox with it', () => {
    const probe = probeSandbox({ PATH: process.env.PATH });
    expect(probe).toMatchObject({ ok: true, bwrap: findBwrap({ PATH: process.env.PATH }) });
    expect(probe.ok && probe.version).toMatch(/bubblewrap/);
  });

  it('names a bwrap that is missing, and what to do', () => {
    const missing = join(scratch.path, 'bwrap');
    expect(probeSandbox({ ORCH_BWRAP: missing })).toEqual({
      ok: false,
      reason: `the sandbox cannot run: bubblewrap (bwrap) is not found at ${missing} (ORCH_BWRAP); install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or write \`sandbox: off\` for the project`,
    });
    expect(probeSandbox({ PATH: scratch.path })).toMatchObject({ ok: false, reason: expect.stringContaining('not found on PATH') });
  });

  it('passes on what bwrap says when the kernel refuses its namespaces', () => {
    const refusing = join(scratch.path, 'refusing-bwrap');
    writeFileSync(refusing, '#!/bin/sh\necho "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2\nexit 1\n');
    chmodSync(refusing, 0o755);
    const probe = probeSandbox({ ORCH_BWRAP: refusing });
    expect(probe.ok).toBe(false);
    expect(!probe.ok && probe.reason).toContain(`${refusing} failed to create namespaces (bwrap: No permissions to create new namespace`);
    expect(!probe.ok && probe.reason).toContain('sandbox: off');
  });

  it('keeps a success for later processes while nothing it depends on changes, and never a failure', () => {
    const runs = join(scratch.path, 'runs.log');
    const counting = (name: string, exit: number) => {
      const path = join(scratch.path, name);
      writeFileSync(path, `#!/bin/sh\necho "$@" >> '${runs}'\n[ "$1" = --version ] && echo 'bubblewrap 0.8.0'\nexit ${exit}\n`);
      chmodSync(path, 0o755);
      return path;
    };
    const started = () => (readFileSync(runs, 'utf8').match(/\n/g) ?? []).length;
    writeFileSync(runs, '');
    keepSandboxProbesIn(join(scratch.path, 'home', 'sandbox-probe.json'));
    const good = counting('good-bwrap', 0);
    expect(probeSandbox({ ORCH_BWRAP: good })).toEqual({ ok: true, bwrap: good, version: 'bubblewrap 0.8.0' });
    expect(started()).toBe(2);
    // A new process: answered from the kept probe, bubblewrap not started.
    forgetSandboxProbes();
    expect(probeSandbox({ ORCH_BWRAP: good })).toEqual({ ok: true, bwrap: good, version: 'bubblewrap 0.8.0' });
    expect(started()).toBe(2);
    // The executable changed (an upgrade): probed again.
    forgetSandboxProbes();
    utimesSync(good, new Date(), new Date(Date.now() + 5000));
    expect(probeSandbox({ ORCH_BWRAP: good })).toMatchObject({ ok: true });
    expect(started()).toBe(4);
    // A failure is probed again each time: a person may fix it at any moment.
    const bad = counting('bad-bwrap', 1);
    for (let i = 0; i < 2; i++) {
      forgetSandboxProbes();
      expect(probeSandbox({ ORCH_BWRAP: bad })).toMatchObject({ ok: false });
    }
    expect(started()).toBe(6);
  });
});

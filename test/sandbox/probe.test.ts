import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBwrap, probeSandbox } from '../../src/sandbox/probe.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-probe-');
});
afterEach(() => scratch.cleanup());

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
});

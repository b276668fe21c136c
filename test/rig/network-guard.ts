// A vitest setupFiles entry: no test may open a connection to anything but loopback. An attempt throws a
// NetworkGuardError where it is made, and fails the test that made it even if the code under test swallowed
// the error. Child processes are covered separately (network-guard-child.ts, loopback-only.ts).

import { afterAll, afterEach } from 'vitest';
import { installNetworkGuard } from './network-guard-core.mjs';

interface GuardState {
  /** Blocked targets not yet blamed on a test. */
  violations: string[];
}

// One guard per process, however often the setup file is evaluated (vitest may reuse a worker for many files).
const STATE_KEY = Symbol.for('orch.test.networkGuard');
const globals = globalThis as { [STATE_KEY]?: GuardState };

function guardState(): GuardState {
  let state = globals[STATE_KEY];
  if (!state) {
    const created: GuardState = { violations: [] };
    installNetworkGuard({ onViolation: (target) => created.violations.push(target) });
    state = globals[STATE_KEY] = created;
  }
  return state;
}

const state = guardState();

function failOnViolations(when: string): void {
  if (state.violations.length === 0) return;
  const targets = state.violations.splice(0);
  throw new Error(`${when} tried to reach the network (${targets.join(', ')}): tests may only connect to 127.0.0.1`);
}

afterEach(() => failOnViolations('This test'));
afterAll(() => failOnViolations('This test file'));

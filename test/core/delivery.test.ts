import { describe, expect, it } from 'vitest';
import { describeHeldDelivery, refusalCode } from '../../src/core/delivery.js';

const facts = { project: 'shop', branch: 'main', destination: 'checkout' as const, commits: 3 };

describe('describeHeldDelivery', () => {
  it("says how many commits wait and why, in git's own words without its decoration", () => {
    const held = describeHeldDelivery({ ...facts, lastRefusal: { reason: 'dirty_checkout', message: '[remote rejected] (Working directory has staged changes); error: failed', at: 5 } });
    expect(held).toMatchObject({ commits: 3, reason: 'dirty_checkout', since: 5 });
    expect(held.summary).toBe('3 commits waiting for your checkout: changes in your checkout of main are in the way (Working directory has staged changes): commit or stash them');
    expect(describeHeldDelivery({ ...facts, commits: 1, lastRefusal: { reason: 'not_fast_forward', message: '[rejected] (non-fast-forward)', at: 5 } }).summary).toBe(
      "1 commit waiting for your checkout: main there has commits Orch's clone lacks (non-fast-forward)",
    );
  });

  it('names the remote for a project without a checkout, and a wait no try explains', () => {
    const held = describeHeldDelivery({ ...facts, destination: 'remote', lastRefusal: { reason: 'other', message: 'fatal: could not read from remote repository', at: 1 } });
    expect(held.summary).toBe('3 commits waiting for the remote: fatal: could not read from remote repository');
    expect(describeHeldDelivery({ ...facts, lastRefusal: null })).toMatchObject({ reason: null, message: null, since: null, summary: '3 commits waiting for your checkout: not delivered yet (`orch deliver` delivers now)' });
  });

  it('reports a refusal a person can clear as a conflict, anything else as a failure', () => {
    expect([refusalCode('dirty_checkout'), refusalCode('not_fast_forward'), refusalCode('other')]).toEqual(['conflict', 'conflict', 'failure']);
  });
});

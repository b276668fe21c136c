export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Fraction of the delay that is randomised, in [0, 1]. 0 gives the exact exponential delay. */
  jitter: number;
}

/**
 * Delay before attempt `failures + 1`, after `failures` failed attempts (failures >= 1):
 * `min(base * 2^(failures-1), cap)`, then shortened by up to `jitter` of itself so that many tasks
 * failing together do not come back together. Never exceeds the cap, never below (1 - jitter) of it.
 * `random` returns a number in [0, 1), like Math.random; it is passed in to keep this pure.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^(n-1) overflows to Infinity for huge n, and min() then yields the cap, which is what we want.
  const exact = Math.min(policy.baseMs * 2 ** (n - 1), policy.capMs);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(exact * (1 - jitter * r));
}

export interface PortPolicy {
  base: number;
  /** Distance between the first ports of two neighbouring slots. */
  stride: number;
  /** Ports handed to one slot; at most `stride`, so slots never overlap. */
  count: number;
}

export class PortPolicyError extends Error {}

/** The ports of a slot: `base + slot * stride + i` for i < count. */
export function slotPorts(slot: number, policy: PortPolicy): number[] {
  if (!Number.isInteger(slot) || slot < 0) throw new PortPolicyError(`slot must be a whole number >= 0, got ${slot}`);
  if (policy.count > policy.stride) {
    throw new PortPolicyError(`ports.count (${policy.count}) must not exceed ports.stride (${policy.stride})`);
  }
  const first = policy.base + slot * policy.stride;
  const last = first + policy.count - 1;
  if (last > 65535) throw new PortPolicyError(`slot ${slot} would need port ${last}, past 65535`);
  return Array.from({ length: policy.count }, (_, i) => first + i);
}

/** The lowest slot number not in use, so ports are reused as runs end. */
export function lowestFreeSlot(used: Iterable<number>): number {
  const taken = new Set(used);
  let slot = 0;
  while (taken.has(slot)) slot++;
  return slot;
}

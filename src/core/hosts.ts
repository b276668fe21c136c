// The daemons sharing one store, as data: when one counts as alive, which name a new one takes, who
// holds a claim, and when another daemon may take a claim over.

import type { RunEndReason } from './end-reasons.js';
import type { Claim, EpochMs, Host } from './types.js';

/**
 * - `alive`: it heartbeats.
 * - `stale`: its heartbeat is older than STALE_AFTER_PERIODS periods: it died, hangs or lost the store.
 * - `gone`: it said so as it stopped cleanly.
 */
export const HOST_STATES = ['alive', 'stale', 'gone'] as const;
export type HostState = (typeof HOST_STATES)[number];

/** What a host name may be: a word of letters, digits, dots, dashes and underscores. */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A host as `orch hosts`, the API and the dashboard show it. */
export interface HostView extends Host {
  state: HostState;
  /** The tasks its process holds claims on now. */
  running: number[];
}

/** Heartbeat periods without a heartbeat after which a host is stale: one late tick is no death. */
export const STALE_AFTER_PERIODS = 3;

/**
 * A host's heartbeat period: the longer of the lease and the tick interval, since it heartbeats on each
 * tick and its claims live as long as their lease.
 */
export function heartbeatPeriodMs(leaseMs: number, tickMs: number): number {
  return Math.max(leaseMs, tickMs);
}

/** Whether a host is alive, stale or gone at `now`, by the one rule every reader uses. */
export function hostState(host: Pick<Host, 'heartbeatAt' | 'stoppedAt'>, now: EpochMs, periodMs: number): HostState {
  if (host.stoppedAt !== null) return 'gone';
  return now - host.heartbeatAt > STALE_AFTER_PERIODS * periodMs ? 'stale' : 'alive';
}

/** The owner a process's claims and pull workers carry: its machine and pid. */
export function ownerOf(host: Pick<Host, 'machine' | 'pid'>): string {
  return `${host.machine}:${host.pid}`;
}

/** The machine and pid of a claim's owner; null when the owner is not of that form. */
export function parseOwner(owner: string): { machine: string; pid: number } | null {
  const colon = owner.lastIndexOf(':');
  const pid = Number(owner.slice(colon + 1));
  if (colon <= 0 || !Number.isSafeInteger(pid) || pid <= 0) return null;
  return { machine: owner.slice(0, colon), pid };
}

/** The host whose process holds claims as `owner` (the latest one, should a pid come round again); undefined for a process that is no host (`orch run`). */
export function hostOfOwner<H extends Pick<Host, 'machine' | 'pid' | 'startedAt'>>(hosts: readonly H[], owner: string): H | undefined {
  let found: H | undefined;
  for (const host of hosts) if (ownerOf(host) === owner && (!found || host.startedAt > found.startedAt)) found = host;
  return found;
}

/**
 * Whether a daemon may take a claim over: its lease expired, its owner's process is seen dead (on this
 * machine), or its owner's host said it is gone. A claim whose owner is alive and whose lease is live is
 * never taken: its run goes on untouched.
 */
export function claimRecoverable(claim: Pick<Claim, 'leaseUntil'>, owner: { host: HostState | null; processGone: boolean }, now: EpochMs): boolean {
  return claim.leaseUntil < now || owner.processGone || owner.host === 'gone';
}

/**
 * Why a run left open by a claim taken over ended: `interrupted` when it was this host's own (Orch
 * stopped and started again), `host_lost` when another host ran it and stopped answering.
 */
export function recoveredEndReason(runHost: string | null, selfHost: string): RunEndReason {
  return runHost === null || runHost === selfHost ? 'interrupted' : 'host_lost';
}

/**
 * The name a starting daemon registers under: `base` when no other host has it or the one that has it
 * is free (not alive), else the first free of `base-2`, `base-3`, …. `replacing` is the row the name is
 * taken from, to be replaced only while unchanged.
 */
export function pickHostName<H extends Pick<Host, 'name'>>(base: string, hosts: readonly H[], free: (host: H) => boolean): { name: string; replacing: H | null } {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    const row = byName.get(name);
    if (!row) return { name, replacing: null };
    if (free(row)) return { name, replacing: row };
  }
}

/** The tasks each host is working on now: the claims its process holds. */
export function claimsByHost<H extends Pick<Host, 'name' | 'machine' | 'pid' | 'startedAt'>>(hosts: readonly H[], claims: readonly Pick<Claim, 'owner' | 'taskId'>[]): Map<string, number[]> {
  const byHost = new Map<string, number[]>(hosts.map((h) => [h.name, []]));
  for (const claim of claims) {
    const host = hostOfOwner(hosts, claim.owner);
    if (host) byHost.get(host.name)!.push(claim.taskId);
  }
  for (const ids of byHost.values()) ids.sort((a, b) => a - b);
  return byHost;
}

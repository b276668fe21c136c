// This daemon among the others sharing its store: its registration, heartbeat and clean stop, and the
// view of every host `orch hosts` and the API show.

import { hostname } from 'node:os';
import { OrchError } from '../core/errors.js';
import { claimsByHost, heartbeatPeriodMs, hostState, ownerOf, parseOwner, pickHostName, type HostView } from '../core/hosts.js';
import type { Host } from '../core/types.js';
import type { HostRegistration } from '../store/store.js';
import type { Orch } from './context.js';

/** Who holds a claim: this machine and process, so recovery can tell a dead owner from a live one. */
export const claimOwner = () => ownerOf({ machine: hostname(), pid: process.pid });

/** The host name runs record: the daemon's registered name, or the machine's for a process that is no host (`orch run`). */
export const runHostName = (orch: Pick<Orch, 'hostName'>) => orch.hostName ?? hostname();

/** The heartbeat period of the hosts of this config (the staleness rule's unit). */
export const hostPeriodMs = (orch: Pick<Orch, 'config'>) =>
  heartbeatPeriodMs(orch.config.scheduler.leaseS * 1000, orch.config.scheduler.tickIntervalS * 1000);

/** Whether a process of this machine is gone (never true for this process, or for another machine's). */
export function processGone(owner: string): boolean {
  const parsed = parseOwner(owner);
  if (!parsed || parsed.machine !== hostname() || parsed.pid === process.pid) return false;
  try {
    process.kill(parsed.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists, run by another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Whether a host (by name) runs on this machine: its processes can be signalled and its paths are local. */
export function onThisMachine(hosts: readonly Host[], name: string | null): boolean {
  if (name === null) return false;
  if (name === hostname()) return true;
  return hosts.find((h) => h.name === name)?.machine === hostname();
}

/**
 * Registers this daemon under `requested` (taken only when free) or, by default, the machine's name with
 * a suffix when another live daemon has it. A name is free when no host has it, or its host is not
 * alive (stopped, stale, or its process seen dead on this machine). Sets `orch.hostName`.
 */
export async function registerThisHost(orch: Orch, options: { name?: string; version: string }): Promise<HostRegistration> {
  const periodMs = hostPeriodMs(orch);
  for (;;) {
    const hosts = await orch.store.listHosts();
    const now = orch.now();
    const free = (host: Host) => hostState(host, now, periodMs) !== 'alive' || processGone(ownerOf(host));
    const requested = options.name ? hosts.find((h) => h.name === options.name) : undefined;
    if (requested && !free(requested)) {
      throw new OrchError('conflict', `host name ${requested.name} is taken by a live daemon (pid ${requested.pid} on ${requested.machine}): choose another with --host-name`);
    }
    const pick = options.name ? { name: options.name, replacing: requested ?? null } : pickHostName(hostname(), hosts, free);
    const registered = await orch.store.registerHost(
      { name: pick.name, machine: hostname(), pid: process.pid, version: options.version, slots: orch.config.scheduler.maxAgents, startedAt: now },
      pick.replacing && { name: pick.replacing.name, startedAt: pick.replacing.startedAt },
    );
    // Null: another daemon took that name in between; look again.
    if (registered) {
      orch.hostName = registered.name;
      return { name: registered.name, startedAt: registered.startedAt };
    }
  }
}

/** Every host of the store with its state by core's rule and the tasks it runs now. */
export async function listHostViews(orch: Pick<Orch, 'store' | 'config' | 'now'>): Promise<HostView[]> {
  const hosts = await orch.store.listHosts();
  const running = claimsByHost(hosts, await orch.store.listClaims());
  const now = orch.now();
  const periodMs = hostPeriodMs(orch);
  return hosts.map((host) => ({ ...host, state: hostState(host, now, periodMs), running: running.get(host.name) ?? [] }));
}

import { existsSync, realpathSync } from 'node:fs';
import type { ProjectConfig } from '../config/schema.js';
import { describeHeldDelivery, type DeliveryRefusal, type DeliveryResult, type HeldDelivery } from '../core/delivery.js';
import { OrchError } from '../core/errors.js';
import { deliverBranch, undeliveredCommits, type DeliveryTarget } from '../workspace/deliver.js';
import { tryGit } from '../workspace/git.js';
import { clonePath } from '../workspace/layout.js';
import type { Orch } from './context.js';
import { withLock, withSharedLock } from './locks.js';

// Merged commits reach the project's own repository as a fast-forward push (workspace/deliver.ts),
// one delivery per repository at a time across every Orch process — across every host sharing the
// database when the repository is a remote (a checkout is on this machine only). A project served
// from several hosts lands on its remote inside the merge itself (shared-remote.ts); what reaches
// this file for it is only a held delivery from before. A delivery git refuses (a dirty
// checkout) is held: the commits stay in Orch's clone until a later try — the daemon's timer, the next
// merge, `orch run --once` before it ends, or `orch deliver` — finds the way clear.

const DELIVERY_EVENTS = ['delivery.done', 'delivery.pending'];

/**
 * Delivers the clone's `branch` to the target while no other delivery to the same repository runs in
 * any Orch process: two pushes into one checkout at once could leave it with the other's files staged.
 */
export function deliverToTarget(orch: Pick<Orch, 'home' | 'sharedLocks'>, clone: string, target: DeliveryTarget, branch: string): Promise<DeliveryResult> {
  return withDeliveryLock(orch, target, () => deliverBranch(clone, target, branch));
}

/** Runs `fn` as the one delivery to `target` at a time: on this machine for a checkout, on every host for a remote. */
export function withDeliveryLock<T>(orch: Pick<Orch, 'home' | 'sharedLocks'>, target: DeliveryTarget, fn: () => Promise<T>): Promise<T> {
  const key = deliveryLockKey(target);
  return 'remote' in target ? withSharedLock(orch, key, fn) : withLock(orch.home, key, fn);
}

/** Where a project's merged commits go: its checkout when it has a path, else its remote. */
export function deliveryTarget(project: Pick<ProjectConfig, 'path' | 'remote'>): DeliveryTarget | null {
  return project.path ? { repoPath: project.path } : project.remote ? { remote: project.remote } : null;
}

/** Delivers what a task just merged; the runner records the outcome with the task's events. */
export async function deliverMerged(orch: Orch, project: ProjectConfig, clone: string, branch: string): Promise<DeliveryResult> {
  const target = deliveryTarget(project);
  if (!target) return { delivered: false, reason: 'other', message: 'the project has neither a path nor a remote' };
  return deliverToTarget(orch, clone, target, branch);
}

export interface HeldDeliveryOutcome {
  project: string;
  /** Commits that were waiting when this try began (0: nothing was held, nothing was pushed). */
  commits: number;
  result: DeliveryResult;
  /** What still waits after this try; null when nothing does. */
  held: HeldDelivery | null;
}

/**
 * Tries a project's held delivery now: nothing happens when every merged commit is already in its
 * repository. A refusal is recorded as a `delivery.pending` event only when it differs from the last
 * one recorded, so a timer retrying a dirty checkout does not fill the event log.
 */
export async function deliverHeld(orch: Orch, name: string): Promise<HeldDeliveryOutcome> {
  const project = configuredProject(orch, name);
  const where = await deliveryPlace(orch, project);
  if (!where || (await undeliveredCommits(where.clone, where.target, where.branch)) === 0) {
    return { project: name, commits: 0, result: { delivered: true }, held: null };
  }
  return withDeliveryLock(orch, where.target, async () => {
    // Counted again under the lock: another process may have delivered meanwhile.
    const commits = await undeliveredCommits(where.clone, where.target, where.branch);
    if (commits === 0) return { project: name, commits: 0, result: { delivered: true } as DeliveryResult, held: null };
    const result = await deliverBranch(where.clone, where.target, where.branch);
    if (result.delivered) {
      await orch.store.appendEvent({ type: 'delivery.done', project: name, data: { branch: where.branch, commits } }, orch.now());
      return { project: name, commits, result, held: null };
    }
    const last = await lastRefusal(orch, name);
    if (!last || last.reason !== result.reason || last.message !== result.message) {
      await orch.store.appendEvent({ type: 'delivery.pending', project: name, data: { reason: result.reason, message: result.message, commits } }, orch.now());
    }
    return { project: name, commits, result, held: await heldDelivery(orch, name) };
  });
}

/** The commits of a project waiting for its repository, and why; null when none wait. */
export async function heldDelivery(orch: Orch, name: string): Promise<HeldDelivery | null> {
  const project = orch.config.projects[name];
  const where = project ? await deliveryPlace(orch, project) : null;
  if (!where) return null;
  const commits = await undeliveredCommits(where.clone, where.target, where.branch);
  if (commits === 0) return null;
  return describeHeldDelivery({
    project: name,
    branch: where.branch,
    destination: 'repoPath' in where.target ? 'checkout' : 'remote',
    commits,
    lastRefusal: await lastRefusal(orch, name),
  });
}

/** The held deliveries of every configured project (or of one), in project order. */
export async function heldDeliveries(orch: Orch, only?: string): Promise<HeldDelivery[]> {
  const held: HeldDelivery[] = [];
  for (const name of Object.keys(orch.config.projects)) {
    if (only !== undefined && name !== only) continue;
    const one = await heldDelivery(orch, name);
    if (one) held.push(one);
  }
  return held;
}

/** The refusal of the latest delivery try, when that try was refused. */
async function lastRefusal(orch: Orch, name: string): Promise<{ reason: DeliveryRefusal; message: string; at: number } | null> {
  const [last] = await orch.store.listEvents({ project: name, types: DELIVERY_EVENTS, newestFirst: true, limit: 1 });
  if (!last || last.type !== 'delivery.pending') return null;
  const data = last.data as { reason?: DeliveryRefusal; message?: string };
  return { reason: data.reason ?? 'other', message: data.message ?? '', at: last.at };
}

function configuredProject(orch: Orch, name: string): ProjectConfig {
  const project = orch.config.projects[name];
  if (!project) throw new OrchError('not_found', `project "${name}" is not in config.yaml (see \`orch project list\`)`);
  return project;
}

/** The clone, target and branch of a project's deliveries; null before its clone exists. */
async function deliveryPlace(orch: Orch, project: ProjectConfig): Promise<{ clone: string; target: DeliveryTarget; branch: string } | null> {
  const target = deliveryTarget(project);
  if (!target) return null;
  const clone = clonePath(orch.home, project.name);
  if (!existsSync(clone)) return null;
  if (project.defaultBranch !== null) return { clone, target, branch: project.defaultBranch };
  const head = await tryGit(clone, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return head.ok ? { clone, target, branch: head.stdout.trim() } : null;
}

/** One lock per repository, however its path is spelled (a symbolic link, a trailing slash). */
function deliveryLockKey(target: DeliveryTarget): string {
  if ('remote' in target) return `deliver:${target.remote}`;
  try {
    return `deliver:${realpathSync(target.repoPath)}`;
  } catch {
    return `deliver:${target.repoPath}`;
  }
}

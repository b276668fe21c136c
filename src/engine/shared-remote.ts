import type { ProjectConfig } from '../config/schema.js';
import { pushWithLease } from '../workspace/deliver.js';
import { git, tryGit } from '../workspace/git.js';
import type { Orch } from './context.js';
import { withDeliveryLock } from './delivery.js';
import { withLock } from './locks.js';
import type { Landing } from './refinery.js';

// A project with a remote and no path on this machine is served from its remote: every host keeps a
// clone of it and the remote's default branch is the one truth they all merge onto. Such a merge is
// not done until it is on the remote, so landing is the push itself — made while the merge lock is
// held on every host (runner.ts), and as a compare-and-set on the remote (pushWithLease), so that two
// hosts can never both land on the same remote commit even if a lock were lost. A push refused
// because the branch moved (a person pushed) sends the merge round back to fetch, rebase, test and
// push again; the task is not failed for it.

/** A remote whose branch may move under Orch (people and other hosts push there) gets more rounds than a clone. */
const REMOTE_ROUNDS = 10;

/** True for a project served from its remote: no checkout on this machine, so nothing else to deliver to. */
export function landsOnRemote(project: Pick<ProjectConfig, 'path' | 'remote' | 'mergeStrategy'>): project is typeof project & { remote: string } {
  return project.path === null && project.remote !== null && project.mergeStrategy !== 'pr';
}

/**
 * Lands merges on the remote's `branch`. The base is the remote tip the refresh just fetched (or the
 * clone's own branch when it holds undelivered commits on top of that tip: they go along); the land
 * is the push with that remote tip as its lease, after which the clone's branch and tracking ref are
 * moved to the pushed commit, as the next fetch would — under the clone's lock, since a refresh of the
 * clone for another task moves the same refs.
 */
export interface RemoteLandingTarget {
  /** The project: its clone's lock (`clone:<project>`) covers moving the clone's refs. */
  project: string;
  remote: string;
  clonePath: string;
  branch: string;
  /** Records each commit about to be pushed (the task's `merge.landing` event). */
  beforePush: (commit: string) => Promise<unknown>;
}

export function remoteLanding(orch: Pick<Orch, 'home' | 'sharedLocks'>, { project, remote, clonePath, branch, beforePush }: RemoteLandingTarget): Landing {
  const local = `refs/heads/${branch}`;
  const tracking = `refs/remotes/origin/${branch}`;
  let lease: string | null = null;
  return {
    rounds: REMOTE_ROUNDS,
    async base() {
      lease = await git(clonePath, ['rev-parse', '--verify', `${tracking}^{commit}`]);
      const mine = await commitOf(clonePath, local);
      if (mine !== null && mine !== lease && (await isAncestor(clonePath, lease, mine))) return mine;
      return lease;
    },
    async land(head) {
      if (lease === null) throw new Error('a landing on the remote needs its base first');
      const expected = lease;
      // Said in the store first: a host that dies between the push and its record of the merge leaves
      // the commit named, so whichever host recovers the task asks the remote for it (recovery.ts).
      await beforePush(head);
      const pushed = await withDeliveryLock(orch, { remote }, () => pushWithLease(clonePath, remote, head, branch, expected));
      if (!pushed.delivered) {
        if (pushed.reason === 'not_fast_forward') return false;
        throw new Error(`pushing ${branch} to ${remote} failed: ${pushed.message}`);
      }
      await withLock(orch.home, `clone:${project}`, async () => {
        const before = await commitOf(clonePath, local);
        // The clone's branch had commits that never reached the remote and are not under the pushed head
        // (merged before this flow, refused since): kept under a ref of their own rather than dropped.
        if (before !== null && !(await isAncestor(clonePath, before, head))) {
          await git(clonePath, ['update-ref', '-m', 'orch: undelivered before landing on the remote', `refs/orch/undelivered/${before}`, before]);
        }
        await git(clonePath, ['update-ref', '-m', 'orch: landed on the remote', tracking, head]);
        await git(clonePath, ['update-ref', '-m', 'orch: landed on the remote', local, head]);
      });
      return true;
    },
  };
}

async function commitOf(repo: string, ref: string): Promise<string | null> {
  const resolved = await tryGit(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return resolved.ok ? resolved.stdout.trim() : null;
}

async function isAncestor(repo: string, ancestor: string, descendant: string): Promise<boolean> {
  return (await tryGit(repo, ['merge-base', '--is-ancestor', ancestor, descendant])).ok;
}

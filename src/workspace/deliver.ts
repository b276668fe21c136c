import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { isValidBranchName } from '../core/branch-name.js';
import type { DeliveryRefusal, DeliveryResult } from '../core/delivery.js';
import { OrchError } from '../core/errors.js';
import { tryGit, type GitOutcome } from './git.js';

export type { DeliveryRefusal, DeliveryResult } from '../core/delivery.js';

// Getting commits out of Orch's clone the only way git itself accepts: a push, fast-forward only.
//
// Into the user's own (non-bare) repository the push runs receive-pack with
// `receive.denyCurrentBranch=updateInstead`: when the branch is checked out there, git moves the
// working tree along only if it is clean (untracked files that are not in the way are fine) and
// otherwise refuses the whole push, touching nothing. For a bare target the setting is simply unused.
//
// One case writes without moving the branch: git updates the working tree and index first and moves
// the branch after, so when the branch moved in between (someone committed, another push landed)
// the push fails with the new files written and staged on the old commit. Only then does Orch write
// in the user's checkout itself: it puts back exactly what the push wrote (see restoreCheckout).
// Callers serialise deliveries to one repository, so Orch's own pushes never race each other.

export type DeliveryTarget = { repoPath: string } | { remote: string };

export interface PushOptions {
  /** Default 10 minutes: a remote may be slow, never silent forever. */
  timeoutMs?: number;
}

/** receive-pack as git runs it in a local target; a fixed string, quoted by git together with the path. */
const UPDATE_INSTEAD_RECEIVE_PACK = 'git -c receive.denyCurrentBranch=updateInstead receive-pack';
const NO_COMMAND_TRANSPORT = ['-c', 'protocol.ext.allow=never'];
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/** Fast-forwards `branch` of the target (the user's repository, or a remote) to the clone's `branch`. */
export async function deliverBranch(
  clonePath: string,
  target: DeliveryTarget,
  branch: string,
  options: PushOptions = {},
): Promise<DeliveryResult> {
  assertBranch(branch);
  const local = 'repoPath' in target;
  const destination = local ? target.repoPath : target.remote;
  assertDestination(destination, local);
  const receivePack = local ? [`--receive-pack=${UPDATE_INSTEAD_RECEIVE_PACK}`] : [];
  const ref = `refs/heads/${branch}`;
  // The commit itself is pushed, so what was pushed is known even if the clone's branch moves meanwhile.
  const pushed = await commitOf(clonePath, ref);
  const result = await push(clonePath, [...receivePack, '--', destination, `${pushed ?? ref}:${ref}`], ref, options);
  if (result.delivered && !local && pushed !== null) await followDeliveredRemote(clonePath, destination, branch, pushed);
  if (result.delivered || pushed === null || !local) return result;
  const restored = await restoreCheckout(destination, ref, pushed);
  return restored === null ? result : { ...result, message: `${result.message}; ${restored}` };
}

/**
 * A remote the clone was made from now has the pushed commit: its tracking ref says so at once, as a
 * fetch would, so what counts as undelivered (read from that ref, never over the network) is right
 * before the next fetch.
 */
async function followDeliveredRemote(clonePath: string, remote: string, branch: string, pushed: string): Promise<void> {
  const origin = await tryGit(clonePath, ['config', '--get', 'remote.origin.url']);
  if (origin.ok && origin.stdout.trim() === remote) await tryGit(clonePath, ['update-ref', '-m', 'orch: delivered', `refs/remotes/origin/${branch}`, pushed]);
}

/**
 * After a failed push into a checkout: when the branch there is checked out but not at the pushed
 * commit while the index holds exactly the pushed commit's tree (and not HEAD's), the push wrote the
 * working tree and index and then failed to move the branch. The two-tree `read-tree` moves them
 * back from the pushed tree to HEAD's, touching only the files the push changed, and refuses (leaving
 * everything) if any of those was edited since. Returns what it did for the message; null when the
 * push had written nothing.
 */
async function restoreCheckout(repo: string, ref: string, pushed: string): Promise<string | null> {
  const head = await tryGit(repo, ['symbolic-ref', '--quiet', 'HEAD']);
  if (!head.ok || head.stdout.trim() !== ref) return null;
  if ((await commitOf(repo, ref)) === pushed) return null;
  const indexIsPushed = await tryGit(repo, ['diff-index', '--cached', '--quiet', pushed, '--']);
  if (!indexIsPushed.ok) return null;
  if ((await tryGit(repo, ['diff-index', '--cached', '--quiet', 'HEAD', '--'])).ok) return null;
  await tryGit(repo, ['update-index', '-q', '--refresh']);
  const moved = await tryGit(repo, ['read-tree', '-u', '-m', pushed, 'HEAD']);
  if (moved.ok) return 'the files the push had written into your checkout were put back';
  const why = moved.stderr.trim().split('\n')[0] ?? '';
  return `the push left the delivered files staged in your checkout and putting them back failed (${why}): \`git reset --merge HEAD\` there restores it`;
}

async function commitOf(repo: string, ref: string): Promise<string | null> {
  const resolved = await tryGit(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return resolved.ok ? resolved.stdout.trim() : null;
}

/**
 * Pushes a task branch to a remote for a pull request. Fast-forward only unless `force`: a retry that
 * rebased its branch replaces the earlier push (the branch is Orch's own). With `lease` (the commit
 * the remote branch should be at) it is replaced only if nobody pushed to it since.
 */
export async function pushBranch(
  clonePath: string,
  remote: string,
  branch: string,
  options: PushOptions & { force: boolean; lease?: string | null },
): Promise<DeliveryResult> {
  assertBranch(branch);
  assertDestination(remote, false);
  const ref = `refs/heads/${branch}`;
  // With a lease the remote branch is replaced only while it is still at the commit Orch last saw there.
  if (options.lease) return push(clonePath, [`--force-with-lease=${ref}:${options.lease}`, '--', remote, `${ref}:${ref}`], ref, options);
  return push(clonePath, ['--', remote, `${options.force ? '+' : ''}${ref}:${ref}`], ref, options);
}

/**
 * Sets the remote's `branch` to `commit` only while it is still at `expected`, the commit last
 * fetched from it: a compare-and-set the remote itself performs. `--force-with-lease` with an explicit
 * expected value sends that value as the update's old object, and receive-pack moves the ref under
 * its lock only if it still holds it. A plain fast-forward push checks against what the remote
 * advertised at push time instead, so it would accept a branch someone reset to an older commit
 * since the fetch, and it leaves the "is this still the commit we merged onto" question unasked.
 * Refused because the branch moved: `not_fast_forward` (git says "stale info").
 */
export async function pushWithLease(clonePath: string, remote: string, commit: string, branch: string, expected: string, options: PushOptions = {}): Promise<DeliveryResult> {
  assertBranch(branch);
  assertDestination(remote, false);
  const ref = `refs/heads/${branch}`;
  return push(clonePath, [`--force-with-lease=${ref}:${expected}`, '--', remote, `${commit}:${ref}`], ref, options);
}

async function push(clonePath: string, args: string[], ref: string, options: PushOptions): Promise<DeliveryResult> {
  const outcome = await tryGit(clonePath, [...NO_COMMAND_TRANSPORT, 'push', '--porcelain', ...args], {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return interpretPush(outcome, ref);
}

/**
 * Reads `git push --porcelain`: one line per ref, `<flag>\t<from>:<to>\t<summary>`, where the flag is
 * ` ` (fast-forward), `*` (new), `=` (up to date), `+` (forced) or `!` (rejected, with the reason in
 * the summary's parentheses). Anything else — no line for our ref at all — failed before any ref
 * was considered (unreachable target, missing repository, time limit).
 */
export function interpretPush(outcome: GitOutcome, ref: string): DeliveryResult {
  const line = outcome.stdout
    .split('\n')
    .map((text) => text.split('\t'))
    .find((fields) => fields.length >= 3 && fields[1]?.endsWith(`:${ref}`));
  const flag = line?.[0];
  const summary = line?.[2] ?? '';
  if (outcome.ok && flag !== undefined && flag !== '!') return { delivered: true };

  const errors = gitErrors(outcome.stderr);
  const message = [summary, ...errors].filter(Boolean).join('; ') || `git push failed (exit code ${outcome.exitCode})`;
  return { delivered: false, reason: refusalReason(`${summary}\n${errors.join('\n')}`), message };
}

function refusalReason(text: string): DeliveryRefusal {
  if (/non-fast-forward|fetch first|stale info/i.test(text)) return 'not_fast_forward';
  // updateInstead's refusals: changes in the working tree or index, or untracked files in the way.
  if (/unstaged changes|staged changes|could not update working tree|would be overwritten/i.test(text)) {
    return 'dirty_checkout';
  }
  return 'other';
}

/** git's error lines, without hints and the generic "failed to push some refs". */
function gitErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(error|fatal|remote):/.test(line) && !/failed to push some refs/.test(line));
}

function assertBranch(branch: string): void {
  if (!isValidBranchName(branch)) throw new OrchError('invalid_input', `"${branch}" is not a valid branch name`);
}

function assertDestination(destination: string, local: boolean): void {
  if (destination.startsWith('-')) throw new OrchError('invalid_input', `"${destination}" is not a push target`);
  if (local && !isAbsolute(destination)) throw new OrchError('invalid_input', `repository path must be absolute: ${destination}`);
}

/**
 * How many commits of the clone's `branch` the target's branch lacks; 0 when everything is delivered.
 * Reads only: the user's repository directly (one git process, as the clone's refresh does), a remote
 * as last fetched (no network).
 */
export async function undeliveredCommits(clonePath: string, target: DeliveryTarget, branch: string): Promise<number> {
  assertBranch(branch);
  const ref = `refs/heads/${branch}`;
  const tracking = `refs/remotes/origin/${branch}`;
  const [local, delivered] = await Promise.all([commitOf(clonePath, ref), 'repoPath' in target ? checkoutCommit(target.repoPath, ref) : commitOf(clonePath, tracking)]);
  if (local === null || local === delivered) return 0;
  // A target tip the clone has never seen (the person committed since) counts from what was last fetched.
  const known = delivered !== null && (await tryGit(clonePath, ['cat-file', '-e', `${delivered}^{commit}`])).ok;
  const since = known ? [`^${delivered}`] : (await commitOf(clonePath, tracking)) !== null ? [`^${tracking}`] : [];
  const counted = await tryGit(clonePath, ['rev-list', '--count', local, ...since, '--']);
  return counted.ok ? Number(counted.stdout.trim()) : 0;
}

/** A ref of the user's repository, read where git finds it: its `.git` (a directory, or a file naming one), else the path itself. */
async function checkoutCommit(repo: string, ref: string): Promise<string | null> {
  const dotGit = join(repo, '.git');
  const resolved = await tryGit(repo, [`--git-dir=${existsSync(dotGit) ? dotGit : repo}`, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  return resolved.ok ? resolved.stdout.trim() : null;
}

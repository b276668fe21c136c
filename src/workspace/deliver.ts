import { isAbsolute } from 'node:path';
import { isValidBranchName } from '../core/branch-name.js';
import { OrchError } from '../core/errors.js';
import { tryGit, type GitOutcome } from './git.js';

// Getting commits out of Orch's clone the only way git itself accepts: a push, fast-forward only.
//
// Into the user's own (non-bare) repository the push runs receive-pack with
// `receive.denyCurrentBranch=updateInstead`: when the branch is checked out there, git moves the
// working tree along only if it is clean (untracked files that are not in the way are fine) and
// otherwise refuses the whole push, touching nothing. Orch never checks out, resets or writes the
// user's files itself. For a bare target the setting is simply unused.

export type DeliveryTarget = { repoPath: string } | { remote: string };

export type DeliveryRefusal =
  /** The branch is checked out in the target with changes (or untracked files) in the way. */
  | 'dirty_checkout'
  /** The target's branch has commits the pushed one lacks: fetch, rebase and judge again. */
  | 'not_fast_forward'
  | 'other';

export type DeliveryResult = { delivered: true } | { delivered: false; reason: DeliveryRefusal; message: string };

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
  return push(clonePath, [...receivePack, '--', destination, `${ref}:${ref}`], ref, options);
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

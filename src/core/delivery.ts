// Delivery: how merged commits reach the project's own repository (the user's checkout, or a remote),
// why they sometimes wait, and how that wait is told to a person.

export const DELIVERY_REFUSALS = [
  /** The branch is checked out in the target with changes (or untracked files) in the way. */
  'dirty_checkout',
  /** The target's branch has commits the pushed one lacks: fetch, rebase and judge again. */
  'not_fast_forward',
  'other',
] as const;
export type DeliveryRefusal = (typeof DELIVERY_REFUSALS)[number];

export type DeliveryResult = { delivered: true } | { delivered: false; reason: DeliveryRefusal; message: string };

/** Where a project's merged commits go: the user's checkout when it has a path, else its remote. */
export type DeliveryDestination = 'checkout' | 'remote';

/** Commits merged in Orch's clone that the project's repository does not have yet. */
export interface HeldDelivery {
  project: string;
  branch: string;
  destination: DeliveryDestination;
  commits: number;
  /** Why the last try did not deliver them; null when no try was refused since (Orch stopped in between). */
  reason: DeliveryRefusal | null;
  /** What git said on that try; null with `reason`. */
  message: string | null;
  /** When that try was refused (epoch ms); null with `reason`. */
  since: number | null;
  /** `N commits waiting for your checkout: <why>`, for a person. */
  summary: string;
}

/** Everything a held delivery is told from, as found in git and the event log. */
export interface HeldDeliveryFacts {
  project: string;
  branch: string;
  destination: DeliveryDestination;
  commits: number;
  lastRefusal: { reason: DeliveryRefusal; message: string; at: number } | null;
}

export function describeHeldDelivery(facts: HeldDeliveryFacts): HeldDelivery {
  const refusal = facts.lastRefusal;
  const waiting = `${facts.commits} commit${facts.commits === 1 ? '' : 's'} waiting for ${facts.destination === 'checkout' ? 'your checkout' : 'the remote'}`;
  return {
    project: facts.project,
    branch: facts.branch,
    destination: facts.destination,
    commits: facts.commits,
    reason: refusal?.reason ?? null,
    message: refusal?.message ?? null,
    since: refusal?.at ?? null,
    summary: `${waiting}: ${whyHeld(facts.branch, refusal)}`,
  };
}

function whyHeld(branch: string, refusal: HeldDeliveryFacts['lastRefusal']): string {
  if (!refusal) return 'not delivered yet (`orch deliver` delivers now)';
  const said = gitSaid(refusal.message);
  switch (refusal.reason) {
    case 'dirty_checkout':
      return `changes in your checkout of ${branch} are in the way (${said}): commit or stash them`;
    case 'not_fast_forward':
      return `${branch} there has commits Orch's clone lacks (${said})`;
    case 'other':
      return said;
  }
}

/** git's refusal without its decoration: `[remote rejected] (Working directory has unstaged changes)` → the words in parentheses. */
function gitSaid(message: string): string {
  const first = message.split('; ')[0] ?? message;
  const inParentheses = /^\[[^\]]+\] \((.+)\)$/.exec(first);
  return (inParentheses?.[1] ?? first).split('\n')[0]!;
}

/**
 * How faces report a refusal: one a person can clear (a dirty checkout, a branch that moved on) is a
 * conflict, the move not allowed now; anything else (an unreachable remote) is a failure.
 */
export function refusalCode(reason: DeliveryRefusal): 'conflict' | 'failure' {
  return reason === 'other' ? 'failure' : 'conflict';
}

import type { TaskState } from './types.js';

/**
 * Every move a task can make, by name. A transition lists the states it may start from and the one
 * state it leads to: the lifecycle is a table, so it can be printed, tested exhaustively and never
 * drift between callers.
 */
export const TRANSITIONS = {
  /** A routing decision (agent, model, complexity) was made; a queued task may be routed again. */
  route: { from: ['new', 'routed'], to: 'routed' },
  /** A claim was taken and an agent run started. */
  start: { from: ['routed'], to: 'running' },
  /** The agent finished; its work is being judged. */
  judge: { from: ['running'], to: 'judging' },
  /** The judge passed the work; it is being merged or proposed. */
  merge: { from: ['judging'], to: 'merging' },
  /** The judged change went into a pull request; its checks, reviews and merge are watched from here. */
  propose: { from: ['merging', 'needs_review'], to: 'in_review' },
  /** Merged: by Orch directly, or its pull request was merged. */
  finish: { from: ['merging', 'in_review'], to: 'done' },
  /** Its pull request needs another round (failing checks, changes asked by reviewers, a conflict): back to the queue on the same branch. */
  revise: { from: ['in_review'], to: 'routed' },
  /** The attempt failed and attempts remain: back to the queue after a backoff. */
  retry: { from: ['running', 'judging', 'merging'], to: 'routed' },
  /** The task must wait: on dependencies, on its children, or because the agent said so. */
  block: { from: ['new', 'routed', 'running', 'judging', 'merging'], to: 'blocked' },
  /** What it waited on is resolved (automatically or by a person). Routing runs again. */
  unblock: { from: ['blocked'], to: 'new' },
  /** A person must look: attempts exhausted, conflict, review rejection, budget exhausted. */
  escalate: { from: ['new', 'routed', 'running', 'judging', 'merging', 'in_review', 'blocked'], to: 'needs_review' },
  /** A person accepted the result outside Orch (for example merged its pull request). */
  resolve: { from: ['needs_review', 'merging'], to: 'done' },
  /** A person asked for another go; attempts start again. */
  requeue: { from: ['needs_review', 'cancelled', 'blocked'], to: 'new' },
  cancel: {
    from: ['new', 'routed', 'running', 'judging', 'merging', 'in_review', 'blocked', 'needs_review'],
    to: 'cancelled',
  },
} as const satisfies Record<string, { from: readonly TaskState[]; to: TaskState }>;

export type TransitionName = keyof typeof TRANSITIONS;
export const TRANSITION_NAMES = Object.keys(TRANSITIONS) as TransitionName[];

export class IllegalTransitionError extends Error {
  constructor(
    readonly transition: string,
    readonly from: TaskState,
  ) {
    super(`cannot ${transition} a task that is ${from}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canTransition(from: TaskState, name: TransitionName): boolean {
  return (TRANSITIONS[name].from as readonly TaskState[]).includes(from);
}

/** The state a transition leads to; throws when the move is not in the table. */
export function transition(from: TaskState, name: TransitionName): TaskState {
  const rule = TRANSITIONS[name];
  if (rule === undefined) throw new IllegalTransitionError(String(name), from);
  if (!canTransition(from, name)) throw new IllegalTransitionError(name, from);
  return rule.to;
}

/** Transitions available from a state, for help texts and the dashboard's buttons. */
export function transitionsFrom(from: TaskState): TransitionName[] {
  return TRANSITION_NAMES.filter((name) => canTransition(from, name));
}

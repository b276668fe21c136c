// What the Linear tracker makes of Linear's issues, without any I/O: refs, Orch's priority from
// Linear's, which workflow state types count as closed, what an issue waits for ("blocked by" relations
// and open sub-issues), the filters that select issues, and how its status comment is recognised.

import { isStatusComment } from './issue-conventions.js';
import type { LinearIssueNode } from './linear-queries.js';

/** Linear's state types an issue is finished in, whatever the state is called. */
const CLOSED_STATE_TYPES = new Set(['completed', 'canceled']);

export function issueRef(identifier: string): string {
  return `linear:${identifier}`;
}

/** `linear:ENG-12` → `ENG-12`; null for anything else (another tracker's ref). */
export function identifierOf(ref: string): string | null {
  const match = /^linear:([A-Za-z0-9_]+-\d+)$/.exec(ref);
  return match ? (match[1] as string) : null;
}

export function isClosedStateType(type: string): boolean {
  return CLOSED_STATE_TYPES.has(type);
}

/**
 * Linear's priority (1 urgent, 2 high, 3 medium, 4 low, 0 none) as Orch's, where higher runs first:
 * urgent 4 … low 1, none 0, so an issue nobody prioritised runs after every prioritised one.
 */
export function orchPriority(linearPriority: number): number {
  return Number.isInteger(linearPriority) && linearPriority >= 1 && linearPriority <= 4 ? 5 - linearPriority : 0;
}

/** Refs of what the issue waits for: open issues that block it, then its open sub-issues; no duplicates. */
export function openDependencies(issue: LinearIssueNode): string[] {
  const refs = new Set<string>();
  for (const relation of issue.inverseRelations.nodes) {
    // Linear stores "A blocks B" on A; B sees it among its inverse relations.
    if (relation.type === 'blocks' && !isClosedStateType(relation.issue.state.type)) refs.add(issueRef(relation.issue.identifier));
  }
  for (const child of issue.children.nodes) {
    if (!isClosedStateType(child.state.type)) refs.add(issueRef(child.identifier));
  }
  return [...refs];
}

export function sameName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The issue filter for the configured team and labels (all of them), plus `extra` conditions. */
export function issueFilter(team: string, labels: string[], extra: Record<string, unknown>[] = []): Record<string, unknown> {
  const conditions = [...labels.map((label) => ({ labels: { some: { name: { eqIgnoreCase: label } } } })), ...extra];
  return { team: { key: { eqIgnoreCase: team } }, ...(conditions.length > 0 ? { and: conditions } : {}) };
}

/** Issues in one of the named workflow states. */
export function inStates(states: string[]): Record<string, unknown> {
  return { or: states.map((state) => ({ state: { name: { eqIgnoreCase: state } } })) };
}

/**
 * Orch's status comment. Linear keeps comments as rich text, and an editor round trip may drop the
 * HTML marker; the bold heading Orch writes under it still identifies the comment then.
 */
export function isLinearStatusComment(body: string): boolean {
  return isStatusComment(body) || /^\*\*Orch: [a-z-]+\*\* · /.test(body.trimStart());
}

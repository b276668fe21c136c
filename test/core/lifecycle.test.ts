import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  TRANSITION_NAMES,
  TRANSITIONS,
  canTransition,
  transition,
  transitionsFrom,
} from '../../src/core/lifecycle.js';
import { TASK_STATES, type TaskState } from '../../src/core/types.js';

describe('lifecycle', () => {
  it('follows the happy path new → routed → running → judging → merging → done', () => {
    let state: TaskState = 'new';
    for (const name of ['route', 'start', 'judge', 'merge', 'finish'] as const) state = transition(state, name);
    expect(state).toBe('done');
  });

  it('throws a named error on an illegal move', () => {
    expect(() => transition('done', 'start')).toThrow(IllegalTransitionError);
    expect(() => transition('done', 'start')).toThrow('cannot start a task that is done');
    expect(() => transition('new', 'nonsense' as never)).toThrow(IllegalTransitionError);
  });

  it('mentions only defined states in its table', () => {
    for (const rule of Object.values(TRANSITIONS)) {
      expect(TASK_STATES).toContain(rule.to);
      for (const from of rule.from) expect(TASK_STATES).toContain(from);
    }
  });

  it('lets a failed attempt go back to the queue and a person requeue it', () => {
    expect(transition('running', 'retry')).toBe('routed');
    expect(transition('needs_review', 'requeue')).toBe('new');
    expect(transition('blocked', 'unblock')).toBe('new');
  });

  it('sends a task in review back to the queue for a fix round on its pull request', () => {
    expect(transition('in_review', 'revise')).toBe('routed');
    expect(() => transition('running', 'revise')).toThrow('cannot revise a task that is running');
  });

  it('keeps done and cancelled terminal except for a person requeueing a cancelled task', () => {
    expect(transitionsFrom('done')).toEqual([]);
    expect(transitionsFrom('cancelled')).toEqual(['requeue']);
  });

  it('never reaches an undefined state, whatever the sequence of moves', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASK_STATES), fc.array(fc.constantFrom(...TRANSITION_NAMES), { maxLength: 60 }), (start, moves) => {
        let state: TaskState = start;
        for (const move of moves) {
          if (canTransition(state, move)) {
            state = transition(state, move);
          } else {
            expect(() => transition(state, move)).toThrow(IllegalTransitionError);
          }
          expect(TASK_STATES).toContain(state);
        }
      }),
    );
  });

  it('can reach done from every non-terminal state', () => {
    const reachable = (from: TaskState): Set<TaskState> => {
      const seen = new Set<TaskState>([from]);
      const queue = [from];
      while (queue.length) {
        const s = queue.shift()!;
        for (const name of transitionsFrom(s)) {
          const to = transition(s, name);
          if (!seen.has(to)) {
            seen.add(to);
            queue.push(to);
          }
        }
      }
      return seen;
    };
    for (const state of TASK_STATES) if (state !== 'done') expect(reachable(state).has('done')).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boardOrder, compareInColumn, cursorOf, formatCursor, isAfterCursor, moveCounts, parseCursor, placeChanges, type BoardCard } from '../../src/core/board-order.js';
import { TASK_STATES } from '../../src/core/types.js';

const task = fc.record({ id: fc.integer({ min: 1, max: 1e9 }), priority: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ noNaN: true, noDefaultInfinity: true })), updatedAt: fc.integer({ min: 0, max: 2e12 }) });

describe('the board order', () => {
  it('shows finished work newest first and open work by priority', () => {
    expect(boardOrder('done')).toBe('recent');
    expect(boardOrder('cancelled')).toBe('recent');
    expect(TASK_STATES.filter((state) => boardOrder(state) === 'priority')).toHaveLength(TASK_STATES.length - 2);
  });

  it('puts a task after a cursor exactly when the column order puts it after the cursor task', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASK_STATES), task, task, (state, a, b) => {
        fc.pre(a.id !== b.id);
        expect(isAfterCursor(state, a, cursorOf(state, b))).toBe(compareInColumn(state, a, b) > 0);
      }),
    );
  });

  it('reads back every cursor it writes, and refuses anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASK_STATES), task, (state, t) => {
        const cursor = cursorOf(state, t);
        const read = parseCursor(formatCursor(cursor));
        return read !== null && read.key === cursor.key && read.id === cursor.id; // -0 reads back as 0: the same place
      }),
    );
    for (const text of ['', 'abc', '1', '1:', ':1', '1:0', '1:x', 'NaN:1', '1:1:1', ' 1:1']) expect(parseCursor(text)).toBeNull();
  });
});

describe('live changes on a loaded board', () => {
  const card = (id: number, state: BoardCard['state'], priority = 0, updatedAt = id): BoardCard => ({ id, state, priority, updatedAt });
  const ids = (tasks: BoardCard[] | undefined) => tasks?.map((t) => t.id);

  it('moves a card out of its column and into its new one in order, within the cards loaded', () => {
    const columns = {
      new: { tasks: [card(1, 'new', 5), card(2, 'new', 3), card(3, 'new', 1)], next: formatCursor({ key: 1, id: 3 }) },
      running: { tasks: [], next: null },
      done: { tasks: [card(9, 'done', 0, 90), card(8, 'done', 0, 80)], next: formatCursor({ key: 80, id: 8 }) },
    };
    const placed = placeChanges(columns, [card(2, 'running'), card(4, 'new', 4), card(5, 'new', 0), card(7, 'done', 0, 95), card(6, 'done', 0, 10)], () => true);
    expect(ids(placed.new?.tasks)).toEqual([1, 4, 3]); // 5 (priority 0) falls after the cursor: it comes with the next page
    expect(ids(placed.running?.tasks)).toEqual([2]);
    expect(ids(placed.done?.tasks)).toEqual([7, 9, 8]); // 6, updated long ago, is beyond the cursor
    expect(placed.new?.next).toBe(columns.new.next);
    const untouched = placeChanges(columns, [card(20, 'blocked')], () => true);
    expect(untouched.new).toBe(columns.new);
    expect(ids(placeChanges(columns, [card(4, 'new', 4)], () => false).new?.tasks)).toEqual([1, 2, 3]);
  });

  it('moves the counts with the cards, a new task into its state alone', () => {
    const counts = { new: 3, running: 1 };
    const moved = moveCounts(counts, [card(1, 'running'), card(50, 'new')], (task) => (task.id === 1 ? 'new' : undefined), () => true);
    expect(moved).toEqual({ new: 3, running: 2 });
    expect(counts).toEqual({ new: 3, running: 1 });
    expect(moveCounts(counts, [card(1, 'done')], () => 'new', () => false)).toEqual({ new: 2, running: 1 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boardOrder, compareInColumn, cursorOf, formatCursor, isAfterCursor, parseCursor } from '../../src/core/board-order.js';
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

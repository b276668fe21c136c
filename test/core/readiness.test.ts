import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockChanges, buildTaskGraph, findWaitCycle, readinessOf, type GraphTask } from '../../src/core/readiness.js';

const t = (id: number, state: GraphTask['state'], extra: Partial<GraphTask> = {}): GraphTask => ({
  id,
  state,
  parentId: null,
  dependsOn: [],
  blockKind: null,
  ...extra,
});

describe('readiness', () => {
  it('waits for every dependency to be done', () => {
    const g = buildTaskGraph([t(1, 'done'), t(2, 'running'), t(3, 'new', { dependsOn: [1, 2] })]);
    expect(readinessOf(g.byId.get(3)!, g)).toEqual({ ready: false, kind: 'dependencies', waitingOn: [2] });
  });

  it('holds a parent back until its children are done or cancelled', () => {
    const g = buildTaskGraph([t(1, 'new'), t(2, 'done', { parentId: 1 }), t(3, 'cancelled', { parentId: 1 }), t(4, 'running', { parentId: 1 })]);
    expect(readinessOf(g.byId.get(1)!, g)).toEqual({ ready: false, kind: 'children', waitingOn: [4] });
  });

  it('blocks waiting tasks and unblocks them once the wait is over', () => {
    const before = buildTaskGraph([t(1, 'running'), t(2, 'new', { dependsOn: [1] }), t(3, 'blocked', { blockKind: 'agent' })]);
    expect(blockChanges(before)).toEqual([{ id: 2, transition: 'block', kind: 'dependencies', waitingOn: [1], reason: 'waits on #1' }]);
    const after = buildTaskGraph([t(1, 'done'), t(2, 'blocked', { dependsOn: [1], blockKind: 'dependencies' }), t(3, 'blocked', { blockKind: 'agent' })]);
    expect(blockChanges(after)).toEqual([{ id: 2, transition: 'unblock', kind: 'dependencies', waitingOn: [], reason: null }]);
    // A blocked task whose reason is current is left alone; one whose wait changed gets the new reason.
    const current = buildTaskGraph([t(1, 'running'), t(2, 'blocked', { dependsOn: [1], blockKind: 'dependencies', blockedReason: 'waits on #1' })]);
    expect(blockChanges(current)).toEqual([]);
    const stale = buildTaskGraph([t(1, 'running'), t(2, 'blocked', { dependsOn: [1], blockKind: 'dependencies', blockedReason: 'waits on #1, #5' })]);
    expect(blockChanges(stale)).toEqual([{ id: 2, transition: 'block', kind: 'dependencies', waitingOn: [1], reason: 'waits on #1' }]);
  });

  it('finds a dependency cycle, including one through a parent and its child', () => {
    const g = buildTaskGraph([t(1, 'new', { dependsOn: [2] }), t(2, 'new', { dependsOn: [3] }), t(3, 'new')]);
    expect(findWaitCycle(3, [1], g)).toEqual([3, 1, 2, 3]);
    expect(findWaitCycle(3, [3], g)).toEqual([3, 3]);
    expect(findWaitCycle(1, [3], g)).toBeNull();
    // A child that depends on its own parent would wait forever: the parent waits for the child.
    const family = buildTaskGraph([t(10, 'new'), t(-1, 'new', { parentId: 10, dependsOn: [10] })]);
    expect(findWaitCycle(-1, [10], family)).toEqual([-1, 10, -1]);
  });

  it('reports no cycle for any graph whose edges only point to lower ids', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(40), { maxLength: 4 }), { minLength: 2, maxLength: 40 }), (edgeLists) => {
        const tasks = edgeLists.map((deps, i) => t(i + 1, 'new', { dependsOn: deps.filter((d) => d >= 1 && d < i + 1) }));
        const g = buildTaskGraph(tasks);
        const last = tasks.length;
        expect(findWaitCycle(last + 1, [1, last], g)).toBeNull();
        // Pointing the first task at the last closes a loop exactly when the last reaches the first.
        const cycle = findWaitCycle(1, [last], g);
        if (cycle) {
          expect(cycle[0]).toBe(1);
          expect(cycle.at(-1)).toBe(1);
          for (let i = 1; i < cycle.length - 1; i++) {
            const from = g.byId.get(cycle[i]!)!;
            expect(from.dependsOn).toContain(cycle[i + 1]);
          }
        }
      }),
    );
  });
});

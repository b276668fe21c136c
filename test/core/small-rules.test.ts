import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/core/backoff.js';
import { checkBudget, runOverBudget } from '../../src/core/budget.js';
import { compareForDispatch, sortForDispatch } from '../../src/core/ordering.js';
import { PortPolicyError, lowestFreeSlot, slotPorts } from '../../src/core/ports.js';

describe('backoff', () => {
  const policy = { baseMs: 1000, capMs: 60_000, jitter: 0 };
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 7, 8, 100].map((n) => backoffDelay(n, policy, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000, 60_000,
    ]);
  });
  it('stays within [(1 - jitter) · exact, exact] and never above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (failures, baseMs, capMs, jitter, r) => {
          const exact = Math.min(baseMs * 2 ** (failures - 1), capMs);
          const d = backoffDelay(failures, { baseMs, capMs, jitter }, () => r);
          expect(d).toBeLessThanOrEqual(Math.round(exact));
          expect(d).toBeGreaterThanOrEqual(Math.floor(exact * (1 - jitter)));
          expect(d).toBeLessThanOrEqual(capMs);
        },
      ),
    );
  });
  it('uses the random source it is given', () => {
    const p = { baseMs: 1000, capMs: 10_000, jitter: 0.5 };
    expect(backoffDelay(1, p, () => 0)).toBe(1000);
    expect(backoffDelay(1, p, () => 0.999999)).toBe(500);
  });
});

describe('ordering', () => {
  const task = fc.record({ id: fc.integer({ min: 1, max: 1e6 }), priority: fc.integer({ min: -3, max: 3 }), createdAt: fc.integer({ min: 0, max: 100 }) });
  it('is a total order: priority desc, then age, then id', () => {
    expect(
      sortForDispatch([
        { id: 3, priority: 0, createdAt: 5 },
        { id: 2, priority: 0, createdAt: 5 },
        { id: 9, priority: 2, createdAt: 9 },
        { id: 1, priority: 0, createdAt: 7 },
      ]).map((t) => t.id),
    ).toEqual([9, 2, 3, 1]);
  });
  it('gives the same order for any permutation of the input', () => {
    fc.assert(
      fc.property(fc.uniqueArray(task, { selector: (t) => t.id, maxLength: 50 }), (tasks) => {
        const a = sortForDispatch(tasks).map((t) => t.id);
        const b = sortForDispatch([...tasks].reverse()).map((t) => t.id);
        expect(a).toEqual(b);
        for (let i = 1; i < a.length; i++) {
          const s = sortForDispatch(tasks);
          expect(compareForDispatch(s[i - 1]!, s[i]!)).toBeLessThan(0);
        }
      }),
    );
  });
});

describe('ports', () => {
  it('hands each slot its own block of ports', () => {
    const policy = { base: 41000, stride: 10, count: 3 };
    expect(slotPorts(0, policy)).toEqual([41000, 41001, 41002]);
    expect(slotPorts(2, policy)).toEqual([41020, 41021, 41022]);
  });
  it('never gives two slots the same port', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: 30000 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (base, stride, a, b) => {
        fc.pre(a !== b);
        const policy = { base, stride, count: stride };
        const pa = new Set(slotPorts(a, policy));
        expect(slotPorts(b, policy).some((p) => pa.has(p))).toBe(false);
      }),
    );
  });
  it('refuses overlapping blocks and ports past 65535', () => {
    expect(() => slotPorts(0, { base: 1000, stride: 2, count: 3 })).toThrow(PortPolicyError);
    expect(() => slotPorts(100, { base: 65000, stride: 10, count: 10 })).toThrow('past 65535');
  });
  it('reuses the lowest free slot', () => {
    expect(lowestFreeSlot([])).toBe(0);
    expect(lowestFreeSlot([0, 1, 3])).toBe(2);
  });
});

describe('budget', () => {
  it('allows a run with the smallest remaining cap', () => {
    expect(checkBudget({ dailyUsd: 10, taskUsd: 3, runUsd: 5 }, { todayUsd: 8.5, taskUsd: 1 })).toEqual({ ok: true, runCapUsd: 1.5 });
    expect(checkBudget({}, { todayUsd: 100, taskUsd: 100 })).toEqual({ ok: true, runCapUsd: null });
  });
  it('refuses a run once the day or the task is spent', () => {
    expect(checkBudget({ dailyUsd: 10 }, { todayUsd: 10, taskUsd: 0 })).toMatchObject({ ok: false, reason: 'daily_budget_exhausted' });
    expect(checkBudget({ taskUsd: 2 }, { todayUsd: 0, taskUsd: 2.5 })).toMatchObject({ ok: false, reason: 'task_budget_exhausted' });
  });
  it('flags a live run once it passes its cap', () => {
    expect(runOverBudget(1.01, 1)).toBe(true);
    expect(runOverBudget(1, 1)).toBe(false);
    expect(runOverBudget(1e9, null)).toBe(false);
  });
  it('never grants more than any cap allows', () => {
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
        fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
        fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (dailyUsd, taskUsd, runUsd, todayUsd, taskSpent) => {
          const v = checkBudget({ dailyUsd, taskUsd, runUsd }, { todayUsd, taskUsd: taskSpent });
          if (!v.ok || v.runCapUsd === null) return;
          expect(v.runCapUsd).toBeGreaterThanOrEqual(0);
          if (dailyUsd !== null) expect(v.runCapUsd).toBeLessThanOrEqual(dailyUsd - todayUsd);
          if (taskUsd !== null) expect(v.runCapUsd).toBeLessThanOrEqual(taskUsd - taskSpent);
          if (runUsd !== null) expect(v.runCapUsd).toBeLessThanOrEqual(runUsd);
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_TOTALS, type UsageReport, addToTotals, foldUsage, priceRun } from '../../src/core/usage.js';

const usage = (input: number, output: number, cumulative: boolean, extra: Partial<UsageReport> = {}) => ({
  type: 'usage' as const,
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  model: null,
  cumulative,
  ...extra,
});
const cost = (usd: number, cumulative: boolean) => ({ type: 'cost' as const, usd, cumulative });

describe('foldUsage', () => {
  it('adds step usage and replaces it with cumulative totals', () => {
    const totals = foldUsage([
      usage(100, 10, false, { model: 'claude-x', cacheReadTokens: 5 }),
      usage(50, 5, false),
      usage(400, 90, true, { cacheWriteTokens: 7 }),
      usage(1, 1, false),
    ]);
    expect(totals).toEqual({ inputTokens: 401, outputTokens: 91, cacheReadTokens: 0, cacheWriteTokens: 7, reportedCostUsd: null, model: 'claude-x' });
  });

  it('adds step costs and replaces them with a cumulative cost', () => {
    expect(foldUsage([cost(0.1, false), cost(0.2, false)]).reportedCostUsd).toBeCloseTo(0.3);
    expect(foldUsage([cost(0.1, false), cost(0.05, true)]).reportedCostUsd).toBe(0.05);
    expect(foldUsage([usage(1, 1, false)]).reportedCostUsd).toBeNull();
  });

  it('ignores every other event', () => {
    expect(addToTotals(EMPTY_TOTALS, { type: 'assistant_text' })).toBe(EMPTY_TOTALS);
  });

  const step = fc.record({ input: fc.nat(10_000), output: fc.nat(10_000) });

  it('folds steps to their sums, and a cumulative report to itself', () => {
    fc.assert(
      fc.property(fc.array(step), step, (steps, final) => {
        const stepEvents = steps.map((s) => usage(s.input, s.output, false));
        const summed = foldUsage(stepEvents);
        expect(summed.inputTokens).toBe(steps.reduce((n, s) => n + s.input, 0));
        expect(summed.outputTokens).toBe(steps.reduce((n, s) => n + s.output, 0));
        const replaced = foldUsage([...stepEvents, usage(final.input, final.output, true)]);
        expect([replaced.inputTokens, replaced.outputTokens]).toEqual([final.input, final.output]);
      }),
    );
  });
});

describe('priceRun', () => {
  const prices = { 'claude-opus-4-8': { input: 5, output: 25 }, 'gpt-5': { input: 1.25, output: 10 } };
  const totals = { ...EMPTY_TOTALS, inputTokens: 1664, outputTokens: 66 };

  it('prefers the cost the CLI reported', () => {
    expect(priceRun({ ...totals, reportedCostUsd: 0.5 }, prices, 'claude-opus-4-8')).toBe(0.5);
    expect(priceRun({ ...EMPTY_TOTALS, reportedCostUsd: 0 }, prices, 'claude-opus-4-8')).toBe(0);
  });

  it('reads a reported $0 for a run that used tokens as "no price known" and prices it from the table', () => {
    expect(priceRun({ ...totals, reportedCostUsd: 0 }, prices, 'claude-opus-4-8')).toBeCloseTo(0.00997, 10);
    expect(priceRun({ ...totals, reportedCostUsd: 0 }, prices, 'mystery')).toBe(0);
  });

  it('prices tokens per million from the table', () => {
    expect(priceRun(totals, prices, 'claude-opus-4-8')).toBeCloseTo(0.00997, 10);
  });

  it('charges cache reads and writes at the input price', () => {
    expect(priceRun({ ...EMPTY_TOTALS, cacheReadTokens: 1_000_000, cacheWriteTokens: 1_000_000 }, prices, 'gpt-5')).toBeCloseTo(2.5);
  });

  it('finds decorated model names, then the model the CLI reported', () => {
    expect(priceRun(totals, prices, 'claude-opus-4-8[1m]')).toBeCloseTo(0.00997, 10);
    expect(priceRun(totals, prices, 'openai/gpt-5')).toBeCloseTo((1664 * 1.25 + 66 * 10) / 1e6, 10);
    expect(priceRun({ ...totals, model: 'claude-opus-4-8[1m]' }, prices, null)).toBeCloseTo(0.00997, 10);
    expect(priceRun({ ...totals, model: 'gpt-5' }, prices, 'unknown-model')).toBeCloseTo((1664 * 1.25 + 66 * 10) / 1e6, 10);
  });

  it('is null for a model without a price, and 0 when nothing was used', () => {
    expect(priceRun(totals, prices, 'mystery')).toBeNull();
    expect(priceRun(EMPTY_TOTALS, {}, null)).toBe(0);
    expect(priceRun(totals, { toString: { input: 1, output: 1 } }, 'constructor')).toBeNull();
  });
});

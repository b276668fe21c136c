// Token and cost totals of a run, folded from the usage and cost events its agent reported, and
// priced from a table when the CLI reports no cost of its own.


/** USD per million tokens (the shape of the config's `prices` entries). */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Token and cost totals of a run, folded from its usage and cost events. */
export interface RunTotals {
  /** Input tokens not served from or written to a prompt cache. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Cost reported by the CLI, or null when it reported none (then it is priced from tokens). */
  reportedCostUsd: number | null;
  model: string | null;
}

/**
 * `cumulative` says whether the numbers are totals so far (they replace what was folded before) or
 * one step's own (they add), since CLIs differ.
 */
export interface UsageReport {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  model: string | null;
  cumulative: boolean;
}

export interface CostReport {
  usd: number;
  cumulative: boolean;
}

export const EMPTY_TOTALS: RunTotals = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reportedCostUsd: null,
  model: null,
};

interface TaggedEvent {
  readonly type: string;
}
/** Any agent event: only `usage` and `cost` matter here, the rest pass by. */
export type UsageEvent = ({ type: 'usage' } & UsageReport) | ({ type: 'cost' } & CostReport) | TaggedEvent;

const isUsage = (event: TaggedEvent): event is { type: 'usage' } & UsageReport => event.type === 'usage';
const isCost = (event: TaggedEvent): event is { type: 'cost' } & CostReport => event.type === 'cost';

/** One more event into the totals (pure). Events other than `usage` and `cost` leave them as they are. */
export function addToTotals(totals: RunTotals, event: UsageEvent): RunTotals {
  if (isUsage(event)) {
    const base = event.cumulative ? EMPTY_TOTALS : totals;
    return {
      inputTokens: base.inputTokens + event.inputTokens,
      outputTokens: base.outputTokens + event.outputTokens,
      cacheReadTokens: base.cacheReadTokens + event.cacheReadTokens,
      cacheWriteTokens: base.cacheWriteTokens + event.cacheWriteTokens,
      reportedCostUsd: totals.reportedCostUsd,
      model: event.model ?? totals.model,
    };
  }
  if (isCost(event)) {
    const before = event.cumulative ? 0 : (totals.reportedCostUsd ?? 0);
    return { ...totals, reportedCostUsd: before + event.usd };
  }
  return totals;
}

/**
 * The most one run is believed to cost, in USD. A CLI's own figure above it (or not a finite number,
 * or negative) is a bug or a corrupt line, not spending: believed, it would pass every budget at once
 * and stop the project's work for the day.
 */
export const MAX_BELIEVED_RUN_COST_USD = 10_000;
/** The most tokens one run is believed to use, in each direction. */
export const MAX_BELIEVED_RUN_TOKENS = 10_000_000_000;

/** Totals after one more event, or why the event is not believed (the totals then stay as they were). */
export type BelievedTotals = { ok: true; totals: RunTotals } | { ok: false; reason: string };

const believable = (value: number, max: number) => Number.isFinite(value) && value >= 0 && value <= max;

/** `addToTotals`, refusing a usage or cost report that cannot be true (see MAX_BELIEVED_RUN_COST_USD). */
export function addBelievedToTotals(totals: RunTotals, event: UsageEvent): BelievedTotals {
  if (isCost(event) && !believable(event.usd, MAX_BELIEVED_RUN_COST_USD)) {
    return { ok: false, reason: `a reported cost of ${event.usd} USD is not believed (a run's cost is between 0 and ${MAX_BELIEVED_RUN_COST_USD} USD)` };
  }
  if (isUsage(event)) {
    const counts = [event.inputTokens, event.outputTokens, event.cacheReadTokens, event.cacheWriteTokens];
    const bad = counts.find((count) => !believable(count, MAX_BELIEVED_RUN_TOKENS));
    if (bad !== undefined) return { ok: false, reason: `a reported token count of ${bad} is not believed (a run uses between 0 and ${MAX_BELIEVED_RUN_TOKENS} tokens)` };
  }
  const next = addToTotals(totals, event);
  if (next.reportedCostUsd !== null && !believable(next.reportedCostUsd, MAX_BELIEVED_RUN_COST_USD)) {
    return { ok: false, reason: `the reported costs add up to ${next.reportedCostUsd} USD, which is not believed (a run's cost is between 0 and ${MAX_BELIEVED_RUN_COST_USD} USD)` };
  }
  const tokens = [next.inputTokens, next.outputTokens, next.cacheReadTokens, next.cacheWriteTokens];
  if (tokens.some((count) => !believable(count, MAX_BELIEVED_RUN_TOKENS))) {
    return { ok: false, reason: `the reported tokens add up to more than the ${MAX_BELIEVED_RUN_TOKENS} a run is believed to use` };
  }
  return { ok: true, totals: next };
}

export function foldUsage(events: Iterable<UsageEvent>): RunTotals {
  let totals = EMPTY_TOTALS;
  for (const event of events) totals = addToTotals(totals, event);
  return totals;
}

/**
 * What a run cost in USD: the CLI's own figure when it reported one, else its tokens priced from
 * `prices` (USD per million tokens). A reported $0 for a run that used tokens means the CLI knew no
 * price for the model (OpenCode does this), so the table is consulted then too. Cache reads and
 * writes are charged at the input price — an upper bound, since the price table has no cache rates.
 * null when nothing was reported and no price is known. `model` is the model Orch asked for; the
 * model the CLI reported is tried after it.
 */
export function priceRun(totals: RunTotals, prices: Record<string, ModelPrice>, model: string | null): number | null {
  const inputTokens = totals.inputTokens + totals.cacheReadTokens + totals.cacheWriteTokens;
  const usedTokens = inputTokens > 0 || totals.outputTokens > 0;
  if (totals.reportedCostUsd !== null && (totals.reportedCostUsd > 0 || !usedTokens)) return totals.reportedCostUsd;
  if (!usedTokens) return 0;
  const price = findPrice(prices, [model, totals.model]);
  if (price === null) return totals.reportedCostUsd;
  return (inputTokens * price.input + totals.outputTokens * price.output) / 1_000_000;
}

/**
 * CLIs decorate model names: `claude-opus-4-8[1m]` (a context-window tag), `anthropic/claude-…`
 * (OpenCode's provider prefix). Try the name as written, then without the decoration.
 */
function findPrice(prices: Record<string, ModelPrice>, models: (string | null)[]): ModelPrice | null {
  for (const model of models) {
    if (model === null) continue;
    const bare = model.replace(/\[[^\]]*\]$/, '');
    for (const name of [model, bare, bare.slice(bare.lastIndexOf('/') + 1)]) {
      if (Object.hasOwn(prices, name)) return prices[name]!;
    }
  }
  return null;
}

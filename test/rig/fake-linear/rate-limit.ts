// Linear's request rate limit as a client sees it: a window of requests per hour, reported on every
// answer in the X-RateLimit-Requests-Limit / -Remaining / -Reset headers (the reset as epoch
// milliseconds), and a request over the limit refused with a GraphQL error whose extensions.code is
// RATELIMITED. Linear answers that refusal with HTTP 400 like its other GraphQL errors; some clients
// have seen 429, so a test may ask for either.

import type { FakeClock } from './state.js';

const WINDOW_MS = 60 * 60 * 1000;

export type RateLimitVerdict = { allowed: true } | { allowed: false; status: 400 | 429 };

export class FakeRateLimit {
  readonly limit: number;
  private remaining: number;
  private resetAt: number;
  private refusals = 0;
  private refusalStatus: 400 | 429 = 400;

  constructor(
    private readonly clock: FakeClock,
    limit = 1500,
  ) {
    this.limit = limit;
    this.remaining = limit;
    this.resetAt = clock.now() + WINDOW_MS;
  }

  /** Leaves `remaining` requests in the current window (0: the next request is refused). */
  setRemaining(remaining: number, status: 400 | 429 = 400): void {
    this.rollWindow();
    this.remaining = Math.max(0, Math.min(this.limit, remaining));
    this.refusalStatus = status;
  }

  /** Spends the window: every request until the reset is refused. */
  exhaust(status: 400 | 429 = 400): void {
    this.setRemaining(0, status);
  }

  /** The next `answers` requests are refused as over the limit, whatever is left in the window. */
  refuseNext(answers = 1, status: 400 | 429 = 400): void {
    this.refusals = answers;
    this.refusalStatus = status;
  }

  /** When the current window ends, in epoch milliseconds of the fake's clock. */
  get resetsAt(): number {
    this.rollWindow();
    return this.resetAt;
  }

  /** Whether a request may be served now; call `spend` once it has been. */
  admit(): RateLimitVerdict {
    this.rollWindow();
    if (this.refusals > 0) {
      this.refusals -= 1;
      return { allowed: false, status: this.refusalStatus };
    }
    if (this.remaining === 0) return { allowed: false, status: this.refusalStatus };
    return { allowed: true };
  }

  spend(): void {
    this.remaining = Math.max(0, this.remaining - 1);
  }

  headers(): Record<string, string> {
    this.rollWindow();
    return {
      'X-RateLimit-Requests-Limit': String(this.limit),
      'X-RateLimit-Requests-Remaining': String(this.remaining),
      'X-RateLimit-Requests-Reset': String(this.resetAt),
    };
  }

  private rollWindow(): void {
    if (this.clock.now() < this.resetAt) return;
    this.remaining = this.limit;
    this.resetAt = this.clock.now() + WINDOW_MS;
  }
}

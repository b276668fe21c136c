// GitHub's REST rate limits as a client sees them: a primary window of requests (x-ratelimit-* headers on
// every answer; 403 with `x-ratelimit-remaining: 0` once it is spent, until `x-ratelimit-reset`) and
// secondary limits (429 with `retry-after`). Conditional requests answered 304 cost nothing, as on GitHub.

import type { FakeClock } from './state.js';

const WINDOW_MS = 60 * 60 * 1000;

export type RateLimitVerdict =
  | { allowed: true }
  | { allowed: false; status: 403 | 429; message: string; retryAfterS: number | null };

export class FakeRateLimit {
  readonly limit: number;
  private remaining: number;
  private resetAt: number;
  private secondaryAnswers = 0;
  private secondaryRetryAfterS = 60;

  constructor(
    private readonly clock: FakeClock,
    limit = 5000,
  ) {
    this.limit = limit;
    this.remaining = limit;
    this.resetAt = clock.now() + WINDOW_MS;
  }

  /** Leaves `remaining` requests in the current window (0: the next request is refused). */
  setRemaining(remaining: number): void {
    this.rollWindow();
    this.remaining = Math.max(0, Math.min(this.limit, remaining));
  }

  /** Spends the window: every request until the reset gets 403 with remaining 0. */
  exhaust(): void {
    this.setRemaining(0);
  }

  /** The next `answers` requests hit a secondary limit: 429 with `retry-after: retryAfterS`. */
  triggerSecondary(retryAfterS: number, answers = 1): void {
    this.secondaryAnswers = answers;
    this.secondaryRetryAfterS = retryAfterS;
  }

  /** When the current window ends, in epoch milliseconds of the fake's clock. */
  get resetsAt(): number {
    this.rollWindow();
    return this.resetAt;
  }

  /** Whether a request may be served now; call `spend` once it has been, unless it was answered 304. */
  admit(): RateLimitVerdict {
    this.rollWindow();
    if (this.secondaryAnswers > 0) {
      this.secondaryAnswers -= 1;
      return {
        allowed: false,
        status: 429,
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        retryAfterS: this.secondaryRetryAfterS,
      };
    }
    if (this.remaining === 0) {
      return { allowed: false, status: 403, message: 'API rate limit exceeded for user ID 1.', retryAfterS: null };
    }
    return { allowed: true };
  }

  spend(): void {
    this.remaining = Math.max(0, this.remaining - 1);
  }

  headers(): Record<string, string> {
    this.rollWindow();
    return {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(Math.ceil(this.resetAt / 1000)),
      'x-ratelimit-used': String(this.limit - this.remaining),
      'x-ratelimit-resource': 'core',
    };
  }

  private rollWindow(): void {
    if (this.clock.now() < this.resetAt) return;
    this.remaining = this.limit;
    this.resetAt = this.clock.now() + WINDOW_MS;
  }
}

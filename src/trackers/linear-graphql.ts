// The Linear tracker's one way to Linear: GraphQL over plain fetch, with the API key sent as Linear's
// personal keys are (`Authorization: <key>`, no scheme). It keeps Linear's rate limits — the
// X-RateLimit-Requests-* and -Complexity-* headers of every answer, and RATELIMITED refusals, which
// Linear sends as HTTP 400 (sometimes 429) — and turns every failure into a one-line TrackerError that
// never carries the key. It does not retry or wait: waiting is the engine's decision, made from the
// time these errors carry.

import { TrackerError } from './tracker.js';

export interface LinearGraphQLOptions {
  apiKey: string;
  /** The GraphQL endpoint, https://api.linear.app/graphql. */
  url: string;
  now: () => number;
}

/** A request Linear refused, or that never got an answer (`status` null). `code` is Linear's `extensions.code`. */
export class LinearRequestError extends TrackerError {
  override readonly name: string = 'LinearRequestError';

  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
    retryAfterMs: number | null = null,
  ) {
    super(message, retryAfterMs);
  }
}

/** Linear asked to slow down; `retryAfterMs` says when to come back. */
export class LinearRateLimitError extends LinearRequestError {
  override readonly name = 'LinearRateLimitError';
}

interface GraphQLErrorEntry {
  message?: unknown;
  extensions?: { code?: unknown; userPresentableMessage?: unknown };
}

/** When Linear refuses for its rate limit but names no reset time. */
const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
const MAX_MESSAGE = 300;

export class LinearGraphQL {
  /** Linear said: no requests before this time (epoch ms). */
  private blockedUntil: number | null = null;

  constructor(private readonly options: LinearGraphQLOptions) {}

  /** When the rate limit lets Orch call again, if it is spent now. */
  get notBefore(): number | null {
    return this.blockedUntil !== null && this.blockedUntil > this.options.now() ? this.blockedUntil : null;
  }

  /** Runs one document (its first operation) and returns its data; any error in the answer fails it. */
  async request<T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const operation = operationName(document);
    const notBefore = this.notBefore;
    if (notBefore !== null) {
      const message = `Linear rate limit spent: not sending ${operation} before ${new Date(notBefore).toISOString()}`;
      throw new LinearRateLimitError(message, null, 'RATELIMITED', notBefore - this.options.now());
    }
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.options.apiKey, 'user-agent': 'orch' },
        body: JSON.stringify({ query: document, variables, operationName: operation }),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new LinearRequestError(`Linear ${operation} failed: ${this.redact(describe(error))}`, null, null);
    }
    this.noteRateLimit(response.headers);
    let body: { data?: unknown; errors?: unknown };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new LinearRequestError(`Linear ${operation} failed (${response.status}): the answer is not JSON`, response.status, null);
    }
    const errors = Array.isArray(body.errors) ? (body.errors as GraphQLErrorEntry[]) : [];
    if (response.ok && errors.length === 0 && typeof body.data === 'object' && body.data !== null) return body.data as T;
    throw this.failure(operation, response.status, response.headers, errors);
  }

  private noteRateLimit(headers: Headers): void {
    for (const kind of ['Requests', 'Complexity']) {
      const remaining = headerNumber(headers.get(`x-ratelimit-${kind.toLowerCase()}-remaining`));
      const reset = resetTime(headers.get(`x-ratelimit-${kind.toLowerCase()}-reset`));
      if (remaining !== null && remaining <= 0 && reset !== null) this.blockUntil(reset);
    }
  }

  private failure(operation: string, status: number, headers: Headers, errors: GraphQLErrorEntry[]): LinearRequestError {
    const codes = errors.map((error) => (typeof error.extensions?.code === 'string' ? error.extensions.code : null));
    const code = codes.find((candidate) => candidate !== null) ?? null;
    const text = errors
      .map((error) => (typeof error.message === 'string' ? error.message : null))
      .filter((message): message is string => message !== null)
      .join('; ');
    const message = this.redact(text || `HTTP ${status}`);
    if (codes.includes('RATELIMITED') || status === 429) {
      const now = this.options.now();
      const until =
        resetTime(headers.get('x-ratelimit-requests-reset')) ??
        resetTime(headers.get('x-ratelimit-complexity-reset')) ??
        retryAfter(headers.get('retry-after'), now) ??
        now + DEFAULT_RATE_LIMIT_WAIT_MS;
      this.blockUntil(until);
      const wait = Math.max(0, (this.blockedUntil ?? until) - now);
      return new LinearRateLimitError(`Linear rate limit on ${operation} (${status}): ${message}`, status, 'RATELIMITED', wait);
    }
    if (codes.includes('AUTHENTICATION_ERROR') || status === 401) {
      return new LinearRequestError(`Linear refused the API key on ${operation} (${status}): ${message}`, status, code ?? 'AUTHENTICATION_ERROR');
    }
    return new LinearRequestError(`Linear ${operation} failed (${status}): ${message}`, status, code);
  }

  private blockUntil(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil ?? 0, until);
  }

  /** Error text can echo what was sent; the key must never reach a log or a message. One line, kept short. */
  private redact(text: string): string {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    const safe = this.options.apiKey ? oneLine.split(this.options.apiKey).join('***') : oneLine;
    return safe.length > MAX_MESSAGE ? `${safe.slice(0, MAX_MESSAGE - 1)}…` : safe;
  }
}

/** Linear's "Entity not found" user error: the issue or comment is gone, or the key cannot see it. */
export function isNotFound(error: unknown): boolean {
  return error instanceof LinearRequestError && error.code === 'INVALID_INPUT' && /entity not found/i.test(error.message);
}

function operationName(document: string): string {
  return /\b(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(document)?.[1] ?? 'request';
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch reports "fetch failed" and puts the reason (ECONNREFUSED, a DNS failure) in `cause`.
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}

function headerNumber(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

/** Linear's reset headers are epoch milliseconds; a value in seconds is read as such rather than as 1970. */
function resetTime(value: string | null): number | null {
  const number = headerNumber(value);
  if (number === null || number <= 0) return null;
  return number < 1e12 ? number * 1000 : number;
}

function retryAfter(value: string | null, now: number): number | null {
  const seconds = headerNumber(value);
  return seconds === null ? null : now + seconds * 1000;
}

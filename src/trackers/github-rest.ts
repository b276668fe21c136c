// The GitHub tracker's one way to the REST API: Octokit requests that keep GitHub's rate limits (the
// x-ratelimit-* headers of every answer, and 403/429 refusals with their reset or retry-after) and turn
// every failure into a one-line TrackerError. Conditional requests (ETag / If-None-Match) are answered
// from a small cache when GitHub says 304, which costs no rate limit. @octokit/rest has no retry or
// throttling plugin: waiting is the engine's decision, made from the time these errors carry.

import { Octokit } from '@octokit/rest';
import { TrackerError } from './tracker.js';

export interface GitHubRestOptions {
  token: string;
  /** REST API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  baseUrl: string;
  now: () => number;
}

/** A request GitHub refused or that never got an answer (`status` null). */
export class GitHubRequestError extends TrackerError {
  override readonly name: string = 'GitHubRequestError';

  constructor(
    message: string,
    readonly status: number | null,
    retryAfterMs: number | null = null,
  ) {
    super(message, retryAfterMs);
  }
}

/** GitHub asked to slow down; `retryAfterMs` says when to come back. */
export class GitHubRateLimitError extends GitHubRequestError {
  override readonly name = 'GitHubRateLimitError';
}

export interface GitHubPage<T> {
  data: T;
  /** The URL of the next page, from the Link header. */
  next: string | null;
  etag: string | null;
}

type Params = Record<string, unknown>;

/** GitHub waits for at least a minute after a secondary limit that names no time. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;
const CACHE_ENTRIES = 500;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export class GitHubRest {
  private readonly octokit: Octokit;
  /** GitHub said: no requests before this time (epoch ms). */
  private blockedUntil: number | null = null;
  private readonly cache = new Map<string, GitHubPage<unknown>>();

  constructor(private readonly options: GitHubRestOptions) {
    this.octokit = new Octokit({ auth: options.token, baseUrl: options.baseUrl, userAgent: 'orch', log: quiet });
  }

  /** When the rate limit lets Orch call again, if it is spent now. */
  get notBefore(): number | null {
    return this.blockedUntil !== null && this.blockedUntil > this.options.now() ? this.blockedUntil : null;
  }

  /**
   * One GET. With `etag`, a 304 answer returns `notModified: true` and no data. `route` is GitHub's
   * template (`GET /repos/{owner}/{repo}/issues`), or a Link header's absolute URL for a later page.
   */
  async page<T>(route: string, params: Params, etag: string | null = null, signal?: AbortSignal): Promise<GitHubPage<T> & { notModified: boolean }> {
    const headers: Record<string, string> = etag ? { 'if-none-match': etag } : {};
    const response = await this.call(route, params, headers, signal, true);
    if (response.status === 304) return { data: undefined as T, next: null, etag, notModified: true };
    return { data: response.data as T, next: nextLink(response.headers.link), etag: headerString(response.headers.etag), notModified: false };
  }

  /** A GET answered from the cache when GitHub says it has not changed (free), else fetched. */
  async cachedGet<T>(route: string, params: Params, signal?: AbortSignal): Promise<T> {
    return (await this.cachedPage<T>(route, params, signal)).data;
  }

  /** Every page of a list, following the Link header; pages that have not changed come from the cache. */
  async all<T>(route: string, params: Params, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = [];
    let answer = await this.cachedPage<T[]>(route, { ...params, per_page: 100 }, signal);
    items.push(...answer.data);
    while (answer.next) {
      answer = await this.cachedPage<T[]>(answer.next, {}, signal);
      items.push(...answer.data);
    }
    return items;
  }

  private async cachedPage<T>(route: string, params: Params, signal?: AbortSignal): Promise<GitHubPage<T>> {
    const key = `${route} ${JSON.stringify(params)}`;
    const cached = this.cache.get(key);
    const answer = await this.page<T>(route, params, cached?.etag ?? null, signal);
    if (answer.notModified && cached) return cached as GitHubPage<T>;
    this.cache.delete(key);
    if (answer.etag) {
      this.cache.set(key, { data: answer.data, next: answer.next, etag: answer.etag });
      if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    }
    return answer;
  }

  /** A request that changes something (POST, PATCH, DELETE). */
  async send<T>(route: string, params: Params, signal?: AbortSignal): Promise<T> {
    const response = await this.call(route, params, {}, signal, false);
    return response.data as T;
  }

  /** One GraphQL request (review threads are resolved only there); failures as one-line errors. */
  async graphql<T>(query: string, variables: Params): Promise<T> {
    try {
      return await this.octokit.graphql<T>(query, variables);
    } catch (error) {
      const failure = error as { status?: unknown; errors?: { message?: string }[] };
      const message = this.redact(failure.errors?.map((entry) => entry.message).join('; ') || (error instanceof Error ? error.message : String(error)));
      throw new GitHubRequestError(`GitHub GraphQL failed: ${message}`, typeof failure.status === 'number' ? failure.status : null);
    }
  }

  private async call(route: string, params: Params, headers: Record<string, string>, signal: AbortSignal | undefined, conditional: boolean) {
    const what = describeRoute(route);
    const notBefore = this.notBefore;
    if (notBefore !== null) {
      const message = `GitHub rate limit spent: not calling ${what} before ${new Date(notBefore).toISOString()}`;
      throw new GitHubRateLimitError(message, null, notBefore - this.options.now());
    }
    try {
      const options = { ...params, headers: { 'x-github-api-version': '2022-11-28', ...headers }, request: { signal } };
      // A later page is the absolute URL of a Link header; everything else a route template.
      const response = route.startsWith('http')
        ? await this.octokit.request({ method: 'GET', url: route, ...options })
        : await this.octokit.request(route, options);
      this.noteRateLimit(response.headers);
      return { status: response.status as number, data: response.data as unknown, headers: response.headers };
    } catch (error) {
      const failure = error as { status?: unknown; response?: { headers?: Record<string, unknown>; data?: unknown } };
      // Octokit reports a request that never got an answer as status 500 without a response.
      const status = typeof failure.status === 'number' && failure.response !== undefined ? failure.status : null;
      const responseHeaders = failure.response?.headers ?? {};
      if (status !== null) this.noteRateLimit(responseHeaders);
      if (status === 304 && conditional) return { status: 304, data: undefined, headers: responseHeaders };
      throw this.failure(what, status, responseHeaders, failure.response?.data, error);
    }
  }

  private noteRateLimit(headers: Record<string, unknown>): void {
    const remaining = headerNumber(headers['x-ratelimit-remaining']);
    const reset = headerNumber(headers['x-ratelimit-reset']);
    if (remaining === 0 && reset !== null) this.blockedUntil = Math.max(this.blockedUntil ?? 0, reset * 1000);
  }

  private failure(what: string, status: number | null, headers: Record<string, unknown>, data: unknown, error: unknown): GitHubRequestError {
    const message = this.redact(errorMessage(data) ?? (error instanceof Error ? error.message : String(error)));
    if (status === 403 || status === 429) {
      const retryAfter = headerNumber(headers['retry-after']);
      const reset = headerNumber(headers['x-ratelimit-reset']);
      const now = this.options.now();
      let until: number | null = null;
      if (retryAfter !== null) until = now + retryAfter * 1000;
      else if (headerNumber(headers['x-ratelimit-remaining']) === 0 && reset !== null) until = reset * 1000;
      else if (status === 429 || /rate limit/i.test(message)) until = now + SECONDARY_LIMIT_WAIT_MS;
      if (until !== null) {
        this.blockedUntil = Math.max(this.blockedUntil ?? 0, until);
        return new GitHubRateLimitError(`GitHub rate limit on ${what} (${status}): ${message}`, status, Math.max(0, until - now));
      }
    }
    return new GitHubRequestError(status === null ? `GitHub ${what} failed: ${message}` : `GitHub ${what} failed (${status}): ${message}`, status);
  }

  /** Error text can echo what was sent; the token must never reach a log or a message. */
  private redact(text: string): string {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return this.options.token ? oneLine.split(this.options.token).join('***') : oneLine;
  }
}

/** Not found, or gone (410: a deleted issue or a repository with issues switched off). */
export function isNotFound(error: unknown): boolean {
  return error instanceof GitHubRequestError && (error.status === 404 || error.status === 410);
}

export function isValidationFailure(error: unknown): boolean {
  return error instanceof GitHubRequestError && error.status === 422;
}

function describeRoute(route: string): string {
  if (!route.startsWith('http')) return route;
  const url = new URL(route);
  return `GET ${url.pathname}`;
}

function nextLink(link: unknown): string | null {
  if (typeof link !== 'string') return null;
  const match = /<([^>]+)>;\s*rel="next"/.exec(link);
  return match?.[1] ?? null;
}

function headerString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function headerNumber(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function errorMessage(data: unknown): string | null {
  if (typeof data !== 'object' || data === null) return null;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  if (typeof message !== 'string') return null;
  const details = Array.isArray(errors)
    ? errors.map((entry) => (typeof entry === 'object' && entry !== null ? ((entry as { message?: string }).message ?? (entry as { code?: string }).code) : undefined)).filter(Boolean)
    : [];
  return details.length > 0 ? `${message}: ${details.join(', ')}` : message;
}

/** The later of two `notBefore` times (null: no wait). */
export function latest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

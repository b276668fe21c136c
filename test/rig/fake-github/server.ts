// A small stateful GitHub REST API on 127.0.0.1 for testing the GitHub tracker with the real Octokit:
// issues (pull requests among them, as on GitHub), labels, comments, pull requests and sub-issues, CI
// (check runs and suites, workflow runs and jobs with their logs, commit statuses), reviews and review
// comments, merging, with page-number pagination and Link headers, ETags answered 304 on If-None-Match,
// and the rate-limit headers and refusals GitHub sends; plus GitHub's GraphQL endpoint for review
// threads (graphql.ts). Every body it sends is first checked against GitHub's published schema for that
// operation and status; a body that does not match is recorded in `violations` and answered 500, so a
// test relying on it fails loudly.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerGraphQL, type GraphQLRequestBody } from './graphql.js';
import { GitHubObjects } from './objects.js';
import { FakeRateLimit } from './rate-limit.js';
import { ROUTES, type Route, type RouteAnswer } from './routes.js';
import { CI_ROUTES, JOB_LOG_PATH } from './routes-ci.js';
import { REVIEW_ROUTES } from './routes-reviews.js';
import { schemaViolations } from './schemas.js';
import { FakeClock, FakeRepository, FakeUsers, IdSource, NotFoundError, ValidationError } from './state.js';

const DOCUMENTATION_URL = 'https://docs.github.com/rest';
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

export interface FakeGitHubOptions {
  /** Requests must carry this token (`token …` or `Bearer …`); unset: any or none. */
  token?: string;
  /** The user the token belongs to: author of what the API creates. Default `orch-bot`. */
  login?: string;
  /** Where the fake's clock starts. Default 2026-03-02T09:00:00Z. */
  startAt?: number;
  /** Requests per rate-limit window. Default 5000. */
  rateLimit?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** GitHub's name for it: `GET /repos/{owner}/{repo}/issues`, or the raw path when no route matched. */
  operation: string;
  status: number;
  ifNoneMatch: string | null;
}

export interface FakeGitHub {
  /** Base URL for Octokit's `baseUrl`; GraphQL is served at `${url}/graphql`, as Octokit's graphql client expects. */
  url: string;
  clock: FakeClock;
  rateLimit: FakeRateLimit;
  login: string;
  requests: RecordedRequest[];
  /** Bodies the fake sent (or tried to) that GitHub's schemas reject; the rig's tests expect none. */
  violations: string[];
  /** The repository `owner/name`, created empty on first use. */
  repository(fullName: string): FakeRepository;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const clock = new FakeClock(options.startAt ?? Date.parse('2026-03-02T09:00:00Z'));
  const ids = new IdSource();
  const users = new FakeUsers(ids);
  const repositories = new Map<string, FakeRepository>();
  const rateLimit = new FakeRateLimit(clock, options.rateLimit);
  const login = options.login ?? 'orch-bot';
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const compiledRoutes = [...ROUTES, ...CI_ROUTES, ...REVIEW_ROUTES].map((route) => ({ route, pattern: templatePattern(route.template) }));
  let baseUrl = '';
  const objects = () => new GitHubObjects({ api: baseUrl, html: 'https://github.com' }, users);

  const repository = (fullName: string): FakeRepository => {
    let repo = repositories.get(fullName.toLowerCase());
    if (!repo) {
      const [owner, name] = fullName.split('/');
      if (!owner || !name) throw new Error(`not owner/name: ${fullName}`);
      repo = new FakeRepository(owner, name, clock, ids);
      repositories.set(fullName.toLowerCase(), repo);
    }
    return repo;
  };

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', baseUrl);
    const matched = matchRoute(compiledRoutes, method, url.pathname);
    const operation = matched ? `${method} ${matched.route.template}` : `${method} ${url.pathname}`;
    const ifNoneMatch = headerValue(request, 'if-none-match');
    const rawBody = await readBody(request);

    // Not REST: a job log's download address (GitHub's storage, needing no token) and GraphQL.
    const log = method === 'GET' ? JOB_LOG_PATH.exec(url.pathname) : null;
    if (log) {
      const job = repositories.get(`${log[1]}/${log[2]}`.toLowerCase())?.ci.jobs.get(Number(log[3]));
      requests.push({ method, url: url.pathname, operation: 'GET job log download', status: job ? 200 : 404, ifNoneMatch });
      response.writeHead(job ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(job?.log ?? 'Not Found');
      return;
    }
    if (method === 'POST' && url.pathname === '/graphql') {
      const authorisedRequest = options.token === undefined || authorised(request, options.token);
      const answer = authorisedRequest
        ? await answerGraphQL((parseGraphQLBody(rawBody) ?? {}) as GraphQLRequestBody, { repositories: () => repositories.values(), viewer: login, html: 'https://github.com' }, violations)
        : { message: 'Bad credentials', documentation_url: 'https://docs.github.com/graphql' };
      const status = authorisedRequest ? 200 : 401;
      requests.push({ method, url: url.pathname, operation: 'POST /graphql', status, ifNoneMatch });
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
      return;
    }

    let answer = answerRequest();
    const violationsFound = answer.body === undefined ? [] : schemaViolations(operation, answer.status, answer.body);
    if (violationsFound.length > 0) {
      violations.push(...violationsFound);
      answer = {
        status: 500,
        body: { message: `fake GitHub: this answer violates GitHub's schema: ${violationsFound.join('; ')}` },
        headers: {},
      };
    }
    requests.push({ method, url: url.pathname + url.search, operation, status: answer.status, ifNoneMatch });
    const headers: Record<string, string> = {
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `FAKE:${requests.length}`,
      ...rateLimit.headers(),
      ...answer.headers,
    };
    if (answer.body === undefined) {
      response.writeHead(answer.status, headers).end();
      return;
    }
    response.writeHead(answer.status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));

    function answerRequest(): Answer {
      if (options.token !== undefined && !authorised(request, options.token)) {
        return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCUMENTATION_URL, status: '401' }, headers: {} };
      }
      const verdict = rateLimit.admit();
      if (!verdict.allowed) {
        const headers: Record<string, string> = verdict.retryAfterS === null ? {} : { 'retry-after': String(verdict.retryAfterS) };
        return { status: verdict.status, body: { message: verdict.message, documentation_url: `${DOCUMENTATION_URL}/overview/rate-limits-for-the-rest-api` }, headers };
      }
      if (!matched) return notFound();
      const [, owner, name] = url.pathname.split('/').slice(1);
      const repo = repositories.get(`${owner}/${name}`.toLowerCase());
      if (!repo) return notFound();
      let routeAnswer: RouteAnswer;
      try {
        routeAnswer = matched.route.handle({ repo, params: matched.params, query: url.searchParams, body: parseBody(rawBody), login, objects: objects() });
      } catch (error) {
        rateLimit.spend();
        if (error instanceof NotFoundError) return { status: 404, body: { message: error.message, documentation_url: DOCUMENTATION_URL, status: '404' }, headers: {} };
        if (error instanceof ValidationError) return { status: 422, body: { message: error.message, errors: error.errors, documentation_url: DOCUMENTATION_URL, status: '422' }, headers: {} };
        throw error;
      }
      const paged = 'items' in routeAnswer ? page(routeAnswer.items, url) : { body: routeAnswer.body, headers: routeAnswer.headers ?? {} };
      if (method === 'GET' && paged.body !== undefined) {
        const etag = `W/"${createHash('sha256').update(JSON.stringify(paged.body)).digest('hex')}"`;
        // A conditional request answered 304 is free on GitHub; the answer carries no body.
        if (ifNoneMatch !== null && ifNoneMatch.split(',').map((tag) => tag.trim()).includes(etag)) {
          return { status: 304, body: undefined, headers: { etag } };
        }
        rateLimit.spend();
        return { status: routeAnswer.status, body: paged.body, headers: { ...paged.headers, etag } };
      }
      rateLimit.spend();
      return { status: routeAnswer.status, body: paged.body, headers: paged.headers };
    }
  };

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      violations.push(`fake GitHub failed on ${request.method} ${request.url}: ${message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    clock,
    rateLimit,
    login,
    requests,
    violations,
    repository,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function notFound(): Answer {
  return { status: 404, body: { message: 'Not Found', documentation_url: DOCUMENTATION_URL, status: '404' }, headers: {} };
}

/** One page of a list, with GitHub's Link header (first, prev, next, last) when there is more than one. */
function page(items: unknown[], url: URL): { body: unknown[]; headers: Record<string, string> } {
  const perPage = clamp(Number(url.searchParams.get('per_page') ?? DEFAULT_PER_PAGE), 1, MAX_PER_PAGE);
  const pageNumber = Math.max(1, Math.floor(Number(url.searchParams.get('page') ?? 1)) || 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const body = items.slice((pageNumber - 1) * perPage, pageNumber * perPage);
  const link = (number: number, rel: string) => {
    const target = new URL(url);
    target.searchParams.set('page', String(number));
    return `<${target.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (pageNumber > 1) links.push(link(pageNumber - 1, 'prev'));
  if (pageNumber < lastPage) links.push(link(pageNumber + 1, 'next'), link(lastPage, 'last'));
  if (pageNumber > 1) links.push(link(1, 'first'));
  return { body, headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

function clamp(value: number, low: number, high: number): number {
  return Number.isFinite(value) ? Math.min(high, Math.max(low, Math.floor(value))) : low;
}

/** Numeric path parameters match digits only, so `/issues/comments` is not read as issue "comments". */
function templatePattern(template: string): RegExp {
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) =>
    /_(number|id)$/.test(name) ? `(?<${name}>\\d+)` : `(?<${name}>[^/]+)`,
  );
  return new RegExp(`^${source}$`);
}

function matchRoute(routes: { route: Route; pattern: RegExp }[], method: string, pathname: string) {
  for (const { route, pattern } of routes) {
    if (route.method !== method) continue;
    const match = pattern.exec(pathname);
    if (!match) continue;
    const params = Object.fromEntries(Object.entries(match.groups ?? {}).map(([key, value]) => [key, decodeURIComponent(value)]));
    return { route, params };
  }
  return undefined;
}

function authorised(request: IncomingMessage, token: string): boolean {
  const header = headerValue(request, 'authorization') ?? '';
  return header === `token ${token}` || header === `Bearer ${token}` || header === `bearer ${token}`;
}

function headerValue(request: IncomingMessage, name: string): string | null {
  const value = request.headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseGraphQLBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function parseBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ValidationError('Problems parsing JSON', [{ resource: 'Body', code: 'invalid' }]);
  }
}

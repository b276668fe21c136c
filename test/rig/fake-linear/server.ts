// A small stateful Linear GraphQL API on 127.0.0.1 for testing the Linear tracker. Every request is
// parsed, validated and executed by graphql-js against linear-schema.graphql (Linear's published schema,
// reduced to what Orch uses), so a query with a field, argument or variable type Linear does not have is
// refused as Linear refuses it: HTTP 400 with `errors` and no data. The API key travels as Linear's
// personal keys do, `Authorization: <key>` with no scheme; rate limits answer RATELIMITED with Linear's
// X-RateLimit-Requests-* headers. A resolver failing for any reason but a user error is recorded in
// `failures`, so a test relying on a broken fake fails loudly.

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, execute, parse, validate, type DocumentNode, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { FakeRateLimit } from './rate-limit.js';
import { LinearGraph } from './resolvers.js';
import { FakeClock, InvalidInputError, LinearWorkspace } from './state.js';

/** The reduced schema, as committed. */
export const LINEAR_SCHEMA_SDL = readFileSync(new URL('./linear-schema.graphql', import.meta.url), 'utf8');
export const linearSchema = buildSchema(LINEAR_SCHEMA_SDL);

export interface FakeLinearOptions {
  /** Requests must carry `Authorization: <apiKey>`; unset: any or none. */
  apiKey?: string;
  /** Where the fake's clock starts. Default 2026-03-02T09:00:00Z. */
  startAt?: number;
  /** Requests per hour. Default 1500. */
  rateLimit?: number;
}

export interface RecordedRequest {
  operationName: string | null;
  query: string;
  variables: Record<string, unknown>;
  status: number;
  /** `extensions.code` of each error answered, if any. */
  errorCodes: string[];
}

export interface FakeLinear {
  /** The GraphQL endpoint, for the tracker's `apiUrl`. */
  url: string;
  clock: FakeClock;
  rateLimit: FakeRateLimit;
  workspace: LinearWorkspace;
  requests: RecordedRequest[];
  /** Resolver failures that are bugs of the fake, not answers Linear would give; tests expect none. */
  failures: string[];
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body: { data?: unknown; errors?: GraphQLFormattedError[] };
}

const PATH = '/graphql';

export async function startFakeLinear(options: FakeLinearOptions = {}): Promise<FakeLinear> {
  const clock = new FakeClock(options.startAt ?? Date.parse('2026-03-02T09:00:00Z'));
  const workspace = new LinearWorkspace(clock);
  const rateLimit = new FakeRateLimit(clock, options.rateLimit);
  const graph = new LinearGraph(workspace);
  const requests: RecordedRequest[] = [];
  const failures: string[] = [];

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(request);
    let operationName: string | null = null;
    let query = '';
    let variables: Record<string, unknown> = {};
    let headers: Record<string, string> = {};

    const answer = await answerRequest();
    requests.push({
      operationName,
      query,
      variables,
      status: answer.status,
      errorCodes: (answer.body.errors ?? []).map((error) => String(error.extensions?.code ?? '')),
    });
    response.writeHead(answer.status, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.body));

    async function answerRequest(): Promise<Answer> {
      if (url.pathname !== PATH) return userError(404, 'Not found', 'NOT_FOUND');
      if (request.method !== 'POST') return userError(400, 'GraphQL requests must be POSTed as JSON', 'BAD_REQUEST');
      let payload: { query?: unknown; variables?: unknown; operationName?: unknown };
      try {
        payload = JSON.parse(raw) as typeof payload;
      } catch {
        return userError(400, 'Request body is not valid JSON', 'BAD_REQUEST');
      }
      query = typeof payload.query === 'string' ? payload.query : '';
      variables = typeof payload.variables === 'object' && payload.variables !== null ? (payload.variables as Record<string, unknown>) : {};
      operationName = typeof payload.operationName === 'string' ? payload.operationName : null;

      if (options.apiKey !== undefined && request.headers.authorization !== options.apiKey) {
        return {
          status: 400,
          body: {
            errors: [
              {
                message: 'Authentication required, not authenticated',
                extensions: {
                  type: 'authentication error',
                  code: 'AUTHENTICATION_ERROR',
                  statusCode: 401,
                  userError: true,
                  userPresentableMessage: 'You need to authenticate to access this operation.',
                },
              },
            ],
          },
        };
      }
      const verdict = rateLimit.admit();
      headers = rateLimit.headers();
      if (!verdict.allowed) {
        return {
          status: verdict.status,
          body: {
            errors: [
              {
                message: 'Rate limit exceeded for requests',
                extensions: {
                  type: 'ratelimited',
                  code: 'RATELIMITED',
                  statusCode: 429,
                  userError: true,
                  userPresentableMessage: 'Too many requests, please try again later.',
                },
              },
            ],
          },
        };
      }
      rateLimit.spend();
      headers = rateLimit.headers();

      let document: DocumentNode;
      try {
        document = parse(query);
      } catch (error) {
        return graphqlError(error as GraphQLError, 'GRAPHQL_PARSE_FAILED');
      }
      const invalid = validate(linearSchema, document);
      if (invalid.length > 0) return { status: 400, body: { errors: invalid.map((error) => formatted(error, 'GRAPHQL_VALIDATION_FAILED')) } };

      const result = await execute({ schema: linearSchema, document, rootValue: graph.root(), variableValues: variables, operationName });
      if (!('data' in result) || result.data === undefined) {
        // Variables that do not fit their declared types, or no operation to run: refused before executing.
        return { status: 400, body: { errors: (result.errors ?? []).map((error) => formatted(error, 'BAD_USER_INPUT')) } };
      }
      const errors = (result.errors ?? []).map((error) => resolverError(error));
      return { status: 200, body: errors.length > 0 ? { data: result.data, errors } : { data: result.data } };
    }
  };

  function resolverError(error: GraphQLError): GraphQLFormattedError {
    const original = error.originalError;
    if (original instanceof InvalidInputError) {
      return {
        ...error.toJSON(),
        extensions: { type: 'invalid input', code: 'INVALID_INPUT', statusCode: 400, userError: true, userPresentableMessage: original.userPresentableMessage },
      };
    }
    failures.push(`fake Linear failed at ${error.path?.join('.') ?? '?'}: ${error.message}`);
    return formatted(error, 'INTERNAL_SERVER_ERROR');
  }

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(`fake Linear failed on ${request.method} ${request.url}: ${message}`);
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: [{ message }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${PATH}`,
    clock,
    rateLimit,
    workspace,
    requests,
    failures,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function formatted(error: GraphQLError, code: string): GraphQLFormattedError {
  return { ...error.toJSON(), extensions: { type: 'graphql error', code, userError: true } };
}

function graphqlError(error: GraphQLError, code: string): Answer {
  return { status: 400, body: { errors: [formatted(error, code)] } };
}

function userError(status: number, message: string, code: string): Answer {
  return { status, body: { errors: [{ message, extensions: { type: 'invalid input', code, userError: true } }] } };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

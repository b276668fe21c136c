import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { OrchError } from '../core/errors.js';
import { WORKER_API_PATH, WORKER_API_SOCKET_VARIABLE, WORKER_API_TOKEN_VARIABLE, type WorkerApiError } from '../core/worker-api.js';
import type { WorkerAnswer, WorkerRequest } from '../core/worker-api.js';
import { workerRequestSchema } from '../core/worker-request-schema.js';
import { workerName } from '../core/worker-names.js';
import { socketPathIn } from '../sandbox/socket-path.js';
import { askPerson, requestPermission, type ApprovalCaller } from './approvals.js';
import type { Orch } from './context.js';
import { answerWorkerRequest } from './worker-requests.js';

/**
 * A pull worker's way to Orch from inside its sandbox, where ORCH_HOME (the database, the API token) is
 * hidden: an HTTP API on a Unix socket in the worker's own folder, served by the Orch process that runs
 * the worker, bound into the sandbox. It answers `POST /v1/requests` with a WorkerRequest as JSON, for
 * this one worker only — whatever ORCH_RUN_ID the caller claims — and only with the worker's own
 * capability token (`Authorization: Bearer …`, random per worker, never the person's API token).
 * A run of a project with approvals on gets one too, for its permission requests and questions only
 * (asked by Orch's MCP server for the run, run-mcp/): it can ask, never decide.
 */
export interface WorkerApi {
  socketPath: string;
  /** ORCH_WORKER_API and ORCH_WORKER_TOKEN, for the agent's environment. */
  env: Record<string, string>;
  close(): Promise<void>;
}

const SOCKET_FILE = 'orch.sock';
/** A request is a few fields, or a tool's input (a file an agent asks to write); anything longer is not one. */
const MAX_BODY_BYTES = 1024 * 1024;
const STATUS: Record<WorkerApiError['code'], number> = {
  invalid_input: 400,
  not_found: 404,
  conflict: 409,
  already_claimed: 409,
  config: 500,
  not_initialised: 500,
  failure: 500,
};

/** Whom an API serves: a pull worker (its `orch issue|agent` requests) or one run (its approvals). */
export type WorkerApiCaller = { worker: number } | { run: ApprovalCaller };

export async function openWorkerApi(orch: Orch, caller: WorkerApiCaller, dir: string): Promise<WorkerApi> {
  const token = randomBytes(32).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const open = new Set<Socket>();
  /** Aborted at close: a request still waiting for a person ends with the run. */
  const closed = new AbortController();

  const server = createServer((req, res) => {
    void answer(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const presented = Buffer.from(req.headers.authorization ?? '');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      return reply(res, 401, { error: { code: 'invalid_input', message: `the worker API needs this worker's token as "Authorization: Bearer $${WORKER_API_TOKEN_VARIABLE}"` } });
    }
    if (req.method !== 'POST' || req.url !== WORKER_API_PATH) {
      return reply(res, 404, { error: { code: 'not_found', message: `the worker API answers POST ${WORKER_API_PATH} only` } });
    }
    const body = await readBody(req);
    let json: unknown = null;
    try {
      json = body === null ? null : JSON.parse(body);
    } catch {
      // answered below as not a request
    }
    const request = workerRequestSchema.safeParse(json);
    if (!request.success) return reply(res, 400, { error: { code: 'invalid_input', message: 'not a worker request: send {"kind": "ready" | "claim" | "describe" | "done" | "permission" | "question", …} as JSON' } });
    try {
      return reply(res, 200, { answer: await answerFor(orch, caller, request.data, closed.signal) });
    } catch (error) {
      const refused: WorkerApiError =
        error instanceof OrchError ? { code: error.code, message: error.message } : { code: 'failure', message: (error as Error).message };
      return reply(res, STATUS[refused.code], { error: refused });
    }
  }

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = socketPathIn(dir, SOCKET_FILE);
  rmSync(socket.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socket.path, 0o600);

  let closing: Promise<void> | null = null;
  return {
    socketPath: socket.path,
    env: { [WORKER_API_SOCKET_VARIABLE]: socket.path, [WORKER_API_TOKEN_VARIABLE]: token },
    close() {
      closing ??= (async () => {
        closed.abort();
        for (const connection of open) connection.destroy();
        await new Promise((resolve) => server.close(resolve));
        rmSync(socket.path, { force: true });
        socket.cleanup();
      })();
      return closing;
    },
  };
}

async function answerFor(orch: Orch, caller: WorkerApiCaller, request: WorkerRequest, signal: AbortSignal): Promise<WorkerAnswer> {
  const asking = request.kind === 'permission' || request.kind === 'question';
  if ('worker' in caller) {
    if (asking) throw new OrchError('invalid_input', 'permission requests and questions come from runs of projects with approvals on, not from pull workers');
    return answerWorkerRequest(orch, workerName(caller.worker), request);
  }
  if (request.kind === 'permission') return { kind: 'permission', ...(await requestPermission(orch, caller.run, request.tool, request.input, signal)) };
  if (request.kind === 'question') return { kind: 'question', ...(await askPerson(orch, caller.run, request.question, signal)) };
  throw new OrchError('invalid_input', `this run's API answers permission requests and questions only, not "${request.kind}"`);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The body as text; null when it is longer than any request. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

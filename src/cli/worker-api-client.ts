import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { OrchError } from '../core/errors.js';
import { WORKER_API_PATH, WORKER_API_SOCKET_VARIABLE, WORKER_API_TOKEN_VARIABLE, isErrorCode, type WorkerAnswer, type WorkerRequest } from '../core/worker-api.js';
import { answerWorkerRequest } from '../engine/worker-requests.js';
import type { CommandIo } from './run.js';

// How `orch issue ready` and `orch agent claim|describe|done` reach Orch: through the worker's API when
// Orch handed one in (ORCH_WORKER_API, inside a sandbox where ORCH_HOME is hidden), else from the store
// of ORCH_HOME as before.

export async function askOrch(io: CommandIo, request: WorkerRequest, env: NodeJS.ProcessEnv = process.env): Promise<WorkerAnswer> {
  const socketPath = env[WORKER_API_SOCKET_VARIABLE]?.trim();
  if (socketPath) return askWorkerApi(socketPath, env[WORKER_API_TOKEN_VARIABLE] ?? '', request);
  return answerWorkerRequest(await io.orch(), env.ORCH_RUN_ID, request);
}

function askWorkerApi(socketPath: string, token: string, request: WorkerRequest): Promise<WorkerAnswer> {
  // Loaded here, by require (a script cannot import()): the commands that read the store never need Node's HTTP.
  const { request: httpRequest } = createRequire(import.meta.url)('node:http') as typeof Http;
  const body = JSON.stringify(request);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath,
        path: WORKER_API_PATH,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const json = parseReply(text);
          if (json?.answer) return resolve(json.answer);
          const message = typeof json?.error?.message === 'string' ? json.error.message : `the worker API answered HTTP ${res.statusCode} without a reason`;
          reject(isErrorCode(json?.error?.code) ? new OrchError(json.error.code, message) : new Error(message));
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error) => reject(new Error(`cannot reach Orch through the worker API at ${socketPath} (${error.message}): the worker has ended, or this is not its sandbox`)));
    req.end(body);
  });
}

type Reply = { answer?: WorkerAnswer; error?: { code?: unknown; message?: unknown } } | null;

function parseReply(text: string): Reply {
  try {
    return JSON.parse(text) as Reply;
  } catch {
    return null;
  }
}

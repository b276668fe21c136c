import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { OrchError } from '../core/errors.js';
import { WORKER_API_PATH, isErrorCode, type WorkerAnswer, type WorkerRequest } from '../core/worker-api.js';

// One request to a worker's (or a run's) API over its Unix socket. Apart from worker-api-client.ts,
// which can also answer from the store: Orch's MCP server for a run (run-mcp/) loads this alone.

export function askWorkerApi(socketPath: string, token: string, request: WorkerRequest): Promise<WorkerAnswer> {
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

import { WORKER_API_SOCKET_VARIABLE, WORKER_API_TOKEN_VARIABLE, type WorkerAnswer, type WorkerRequest } from '../core/worker-api.js';
import { answerWorkerRequest } from '../engine/worker-requests.js';
import type { CommandIo } from './run.js';
import { askWorkerApi } from './worker-api-socket.js';

// How `orch issue ready` and `orch agent claim|describe|done` reach Orch: through the worker's API when
// Orch handed one in (ORCH_WORKER_API, inside a sandbox where ORCH_HOME is hidden), else from the store
// of ORCH_HOME as before.

export async function askOrch(io: CommandIo, request: WorkerRequest, env: NodeJS.ProcessEnv = process.env): Promise<WorkerAnswer> {
  const socketPath = env[WORKER_API_SOCKET_VARIABLE]?.trim();
  if (socketPath) return askWorkerApi(socketPath, env[WORKER_API_TOKEN_VARIABLE] ?? '', request);
  return answerWorkerRequest(await io.orch(), env.ORCH_RUN_ID, request);
}

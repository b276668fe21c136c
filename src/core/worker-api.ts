// What a pull worker's agent asks Orch (`orch issue ready`, `orch agent claim|describe|done`) and what
// it hears back, as data: the same whether the CLI answers from the store itself or asks the worker's
// API over the socket handed into its sandbox (which checks every request against this schema). A run
// whose project has approvals on gets the same API for its agent's permission requests and questions.

import type { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors.js';
import type { TaskBrief } from './task-brief.js';
import type { TaskState } from './types.js';
import type { workerRequestSchema } from './worker-request-schema.js';

/** A request as the worker's API accepts it (worker-request-schema.ts checks it). */
export type WorkerRequest = z.infer<typeof workerRequestSchema>;

export interface ReadyTask {
  id: number;
  project: string;
  title: string;
  priority: number;
  labels: string[];
}

export type WorkerAnswer =
  | { kind: 'ready'; tasks: ReadyTask[] }
  | { kind: 'claim'; task: { id: number; title: string; state: TaskState; attempt: number }; runId: number }
  | { kind: 'describe'; brief: TaskBrief }
  | { kind: 'done'; worker: number; taskId: number | null; doneAt: number | null }
  | { kind: 'permission'; approval: number; allow: boolean; message: string }
  | { kind: 'question'; approval: number; answer: string };

/** A refused request on the wire: the OrchError code (or `failure`) and its one line. */
export interface WorkerApiError {
  code: ErrorCode | 'failure';
  message: string;
}

export const isErrorCode = (code: unknown): code is ErrorCode => (ERROR_CODES as readonly unknown[]).includes(code);

/** The environment variables that hand a worker's API into its sandbox. */
export const WORKER_API_SOCKET_VARIABLE = 'ORCH_WORKER_API';
export const WORKER_API_TOKEN_VARIABLE = 'ORCH_WORKER_TOKEN';
/** The one route of the worker API: POST a WorkerRequest, get `{ answer }` or `{ error: WorkerApiError }`. */
export const WORKER_API_PATH = '/v1/requests';

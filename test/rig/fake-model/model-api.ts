// The contract between the fake server (which decides what to answer) and one wire format (how to say it).

import type { ServerResponse } from 'node:http';
import type { ModelReply, ModelRequest } from './model-request.js';

export type ApiName = 'anthropic' | 'openai-responses' | 'gemini';

export interface ErrorReply {
  status: number;
  message: string;
  retryAfterSeconds: number;
}

export interface ModelApi {
  readonly name: ApiName;
  /** See BindingContext.shellRunsApplyPatch. */
  readonly shellRunsApplyPatch: boolean;
  /** Answers requests that need no script (HEAD /, token counting) and returns true, else false. */
  answerUtility(method: string, url: URL, body: unknown, response: ServerResponse): boolean;
  /** The neutral view of a model request on this API's route, or null when the route is not this API's. */
  readRequest(method: string, url: URL, body: unknown): ModelRequest | null;
  writeReply(response: ServerResponse, request: ModelRequest, reply: ModelReply, chunkDelayMs: number): Promise<void>;
  /** The HTTP error with the body and headers the real API sends for that status. */
  writeError(response: ServerResponse, error: ErrorReply): void;
}

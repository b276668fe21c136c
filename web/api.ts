// Every request the page makes: JSON both ways, the session cookie (never a token), and what the
// outcome says about the connection.

import { connection } from './connection.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Read the answer as text rather than JSON. */
  text?: boolean;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: options.text ? 'text/plain, text/markdown' : 'application/json', ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) },
      body: method === 'POST' ? JSON.stringify(options.body ?? {}) : undefined,
    });
  } catch {
    connection.unreachable();
    throw new ApiError(0, 'unreachable', 'the Orch daemon cannot be reached');
  }
  if (response.status === 401) {
    connection.signedOut();
    throw new ApiError(401, 'unauthorized', 'the dashboard session has ended');
  }
  connection.reachable();
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    throw new ApiError(response.status, body?.error?.code ?? 'failure', body?.error?.message ?? `HTTP ${response.status}`);
  }
  return (options.text ? await response.text() : await response.json()) as T;
}

export const post = <T>(path: string, body: unknown = {}) => api<T>(path, { method: 'POST', body });

import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse } from './http-errors.js';

/** No request Orch accepts comes anywhere near this; it bounds what one request can make us hold. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Refuses a body over MAX_BODY_BYTES with 413, whether its length is declared or streamed. The unread
 * rest of the body is never drained, so the connection cannot carry another request: saying so keeps
 * a keep-alive client from sending its next request down a socket about to close.
 */
export function limitBody(): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => {
      c.header('Connection', 'close');
      return errorResponse(c, 'invalid_input', `request body: larger than ${MAX_BODY_BYTES} bytes`, 413);
    },
  });
}

// The HMAC half of webhook verification (the header forms are core/webhooks.ts). Both senders sign the
// raw body bytes with HMAC SHA-256 under the shared secret, so the body is checked before it is parsed.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseGithubSignatureHeader, parseLinearSignatureHeader, type HeaderCheck } from '../core/webhooks.js';

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Whether `hex` is the HMAC SHA-256 of `body` under `secret`, in time that does not depend on where they differ. */
export function hmacMatches(body: Uint8Array, secret: string, hex: string): boolean {
  const expected = createHmac('sha256', secret).update(body).digest();
  const presented = Buffer.from(hex, 'hex');
  // timingSafeEqual throws on unequal lengths; the header parsers already insist on 64 hex digits.
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function verify(header: HeaderCheck, body: Uint8Array, secret: string, name: string): SignatureCheck {
  if (!header.ok) return header;
  return hmacMatches(body, secret, header.hex) ? { ok: true } : { ok: false, reason: `${name} header: does not match the body` };
}

/** GitHub's `X-Hub-Signature-256: sha256=<hex>`. */
export function verifyGithubSignature(body: Uint8Array, secret: string, header: string | undefined): SignatureCheck {
  return verify(parseGithubSignatureHeader(header), body, secret, 'X-Hub-Signature-256');
}

/** Linear's `Linear-Signature: <hex>`. */
export function verifyLinearSignature(body: Uint8Array, secret: string, header: string | undefined): SignatureCheck {
  return verify(parseLinearSignatureHeader(header), body, secret, 'Linear-Signature');
}

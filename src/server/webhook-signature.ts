// The HMAC half of webhook verification (the header forms are core/webhooks.ts). Both senders sign the
// raw body bytes with HMAC SHA-256 under the shared secret, so the body is checked before it is parsed.
// GitHub's signature is checked by Octokit's own `verify` (@octokit/webhooks-methods), the library GitHub
// maintains for exactly this; Linear has no such library, so its HMAC is computed here.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { verify as verifyGithubHmac } from '@octokit/webhooks-methods';
import { parseGithubSignatureHeader, parseLinearSignatureHeader, type HeaderCheck } from '../core/webhooks.js';

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

// `verify` signs a string, which Node encodes as UTF-8: decoding must give back exactly the bytes sent,
// so a byte-order mark is kept and bytes that are not UTF-8 are a mismatch, never silently replaced.
const exactUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Whether `hex` is the HMAC SHA-256 of `body` under `secret`, in time that does not depend on where they differ. */
export function hmacMatches(body: Uint8Array, secret: string, hex: string): boolean {
  const expected = createHmac('sha256', secret).update(body).digest();
  const presented = Buffer.from(hex, 'hex');
  // timingSafeEqual throws on unequal lengths; the header parsers already insist on 64 hex digits.
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

const mismatch = (name: string): SignatureCheck => ({ ok: false, reason: `${name} header: does not match the body` });

/** GitHub's `X-Hub-Signature-256: sha256=<hex>`. */
export async function verifyGithubSignature(body: Uint8Array, secret: string, header: string | undefined): Promise<SignatureCheck> {
  const form: HeaderCheck = parseGithubSignatureHeader(header);
  if (!form.ok) return form;
  const text = exactText(body);
  // The library takes a non-empty string only. A body that is empty or not UTF-8 is never a usable
  // delivery, but a correctly signed one is told apart (400 rather than 401), so its bytes are checked here.
  const matches = text === undefined || text === '' || secret === '' ? hmacMatches(body, secret, form.hex) : await verifyGithubHmac(secret, text, `sha256=${form.hex}`);
  return matches ? { ok: true } : mismatch('X-Hub-Signature-256');
}

function exactText(body: Uint8Array): string | undefined {
  try {
    return exactUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/** Linear's `Linear-Signature: <hex>`. */
export function verifyLinearSignature(body: Uint8Array, secret: string, header: string | undefined): SignatureCheck {
  const form = parseLinearSignatureHeader(header);
  if (!form.ok) return form;
  return hmacMatches(body, secret, form.hex) ? { ok: true } : mismatch('Linear-Signature');
}

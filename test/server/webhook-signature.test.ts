import { describe, expect, it } from 'vitest';
import { hmacMatches, verifyGithubSignature, verifyLinearSignature } from '../../src/server/webhook-signature.js';

// GitHub's documented example ("Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const BODY = new TextEncoder().encode('Hello, World!');
const DIGEST = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('webhook signatures', () => {
  it("matches GitHub's documented example", () => {
    expect(verifyGithubSignature(BODY, SECRET, `sha256=${DIGEST}`)).toEqual({ ok: true });
    expect(verifyLinearSignature(BODY, SECRET, DIGEST)).toEqual({ ok: true });
  });

  it('refuses another secret, another body, one changed byte, and a malformed header', () => {
    const changed = new Uint8Array(BODY);
    changed[0] = changed[0]! ^ 1;
    expect(verifyGithubSignature(BODY, `${SECRET}.`, `sha256=${DIGEST}`)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: does not match the body' });
    expect(verifyGithubSignature(changed, SECRET, `sha256=${DIGEST}`).ok).toBe(false);
    expect(verifyLinearSignature(new Uint8Array(), SECRET, DIGEST)).toEqual({ ok: false, reason: 'Linear-Signature header: does not match the body' });
    expect(verifyGithubSignature(BODY, SECRET, DIGEST)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: expected "sha256=" and 64 lowercase hex digits' });
    expect(verifyLinearSignature(BODY, SECRET, undefined)).toEqual({ ok: false, reason: 'Linear-Signature header: required' });
  });

  it('compares digests of any other length as a plain refusal, not a throw', () => {
    expect(hmacMatches(BODY, SECRET, DIGEST.slice(0, 62))).toBe(false);
    expect(hmacMatches(BODY, SECRET, `${DIGEST}00`)).toBe(false);
    expect(hmacMatches(BODY, SECRET, 'zz')).toBe(false);
  });
});

import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { hmacMatches, verifyGithubSignature, verifyLinearSignature } from '../../src/server/webhook-signature.js';

// GitHub's documented example ("Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const BODY = new TextEncoder().encode('Hello, World!');
const DIGEST = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

const githubHeader = (body: Uint8Array) => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

describe('webhook signatures', () => {
  it("matches GitHub's documented example", async () => {
    expect(await verifyGithubSignature(BODY, SECRET, `sha256=${DIGEST}`)).toEqual({ ok: true });
    expect(verifyLinearSignature(BODY, SECRET, DIGEST)).toEqual({ ok: true });
  });

  it("accepts what Octokit's own sign() produces for a JSON payload", async () => {
    const payload = JSON.stringify({ action: 'opened', issue: { number: 1, title: 'Fix the café’s login ✓' } });
    const header = await sign(SECRET, payload);
    expect(await verifyGithubSignature(new TextEncoder().encode(payload), SECRET, header)).toEqual({ ok: true });
  });

  it('checks the bytes as sent: a byte-order mark counts, and a body that is not UTF-8 is still checked', async () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...BODY]);
    expect(await verifyGithubSignature(withBom, SECRET, githubHeader(withBom))).toEqual({ ok: true });
    expect(await verifyGithubSignature(withBom, SECRET, `sha256=${DIGEST}`)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: does not match the body' });
    const notUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
    expect(await verifyGithubSignature(notUtf8, SECRET, githubHeader(notUtf8))).toEqual({ ok: true });
    expect((await verifyGithubSignature(notUtf8, SECRET, `sha256=${DIGEST}`)).ok).toBe(false);
  });

  it('refuses another secret, another body, one changed byte, an empty body and a malformed header', async () => {
    const changed = new Uint8Array(BODY);
    changed[0] = changed[0]! ^ 1;
    expect(await verifyGithubSignature(BODY, `${SECRET}.`, `sha256=${DIGEST}`)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: does not match the body' });
    expect((await verifyGithubSignature(changed, SECRET, `sha256=${DIGEST}`)).ok).toBe(false);
    expect((await verifyGithubSignature(new Uint8Array(), SECRET, `sha256=${DIGEST}`)).ok).toBe(false);
    expect(verifyLinearSignature(new Uint8Array(), SECRET, DIGEST)).toEqual({ ok: false, reason: 'Linear-Signature header: does not match the body' });
    expect(await verifyGithubSignature(BODY, SECRET, DIGEST)).toEqual({ ok: false, reason: 'X-Hub-Signature-256 header: expected "sha256=" and 64 lowercase hex digits' });
    expect(verifyLinearSignature(BODY, SECRET, undefined)).toEqual({ ok: false, reason: 'Linear-Signature header: required' });
  });

  it('compares digests of any other length as a plain refusal, not a throw', () => {
    expect(hmacMatches(BODY, SECRET, DIGEST.slice(0, 62))).toBe(false);
    expect(hmacMatches(BODY, SECRET, `${DIGEST}00`)).toBe(false);
    expect(hmacMatches(BODY, SECRET, 'zz')).toBe(false);
  });
});

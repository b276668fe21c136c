import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseResultBlock } from '../../src/core/result-block.js';
import { RESULT_CONTRACT_PROMPT, RESULT_STATUSES } from '../../src/core/result-contract.js';

const fence = (body: string, label = 'json') => `\`\`\`${label}\n${body}\n\`\`\``;

describe('parseResultBlock', () => {
  it('reads the block the contract asks for', () => {
    const text = `I fixed it.\n\n${fence('{"status":"done","summary":"Fixed the parser.","remaining":"","follow_ups":["Add docs"]}')}\n`;
    expect(parseResultBlock(text)).toEqual({ ok: true, result: { status: 'done', summary: 'Fixed the parser.', remaining: '', followUps: ['Add docs'] } });
  });

  it('accepts the example in its own prompt', () => {
    expect(parseResultBlock(RESULT_CONTRACT_PROMPT)).toMatchObject({ ok: true, result: { status: 'done' } });
  });

  it('takes the last valid block, skipping later blocks that are not results', () => {
    const text = [
      fence('{"status":"blocked","summary":"old"}'),
      fence('{"status":"needs_review","summary":"new"}'),
      fence('{"not":"a result"}'),
      fence('console.log(1)', 'ts'),
    ].join('\n');
    expect(parseResultBlock(text)).toMatchObject({ ok: true, result: { status: 'needs_review', summary: 'new' } });
  });

  it('accepts an unlabelled fence, a tilde fence and an unclosed final fence', () => {
    expect(parseResultBlock(fence('{"status":"done","summary":"s"}', ''))).toMatchObject({ ok: true });
    expect(parseResultBlock('~~~json\n{"status":"done","summary":"s"}\n~~~')).toMatchObject({ ok: true });
    expect(parseResultBlock('Result:\n```json\n{"status":"done","summary":"s"}')).toMatchObject({ ok: true });
  });

  it('tolerates comments and trailing commas, but not inside strings', () => {
    const body = `{
      // what happened
      "status": "done", /* finished */
      "summary": "see http://example.com/a,]",
      "follow_ups": ["one", "two",],
    }`;
    expect(parseResultBlock(fence(body))).toEqual({
      ok: true,
      result: { status: 'done', summary: 'see http://example.com/a,]', remaining: '', followUps: ['one', 'two'] },
    });
  });

  it('defaults missing optional fields and joins a list of remaining work', () => {
    expect(parseResultBlock(fence('{"status":"blocked","summary":"s","remaining":["a","b"],"follow_ups":null,"extra":1}'))).toEqual({
      ok: true,
      result: { status: 'blocked', summary: 's', remaining: 'a\nb', followUps: [] },
    });
  });

  it('says why there is no result', () => {
    expect(parseResultBlock('status: done — all good')).toEqual({ ok: false, reason: 'no fenced JSON block in the final message' });
    expect(parseResultBlock(fence('{"status": "finished", "summary": "s"}'))).toMatchObject({ ok: false, reason: expect.stringContaining('status') });
    expect(parseResultBlock(fence('{status: done}'))).toEqual({ ok: false, reason: 'the last fenced block is not valid JSON' });
    expect(parseResultBlock(fence('["done"]'))).toMatchObject({ ok: false });
    expect(parseResultBlock(fence('{"status":"done"}'))).toMatchObject({ ok: false, reason: expect.stringContaining('summary') });
  });

  it('never guesses from a block in another language', () => {
    expect(parseResultBlock(fence('{"status":"done","summary":"s"}', 'yaml'))).toMatchObject({ ok: false });
  });

  describe('properties', () => {
    const fenceParts = fc.constantFrom('```', '```json', '~~~', '\n', '{', '}', '"status"', ':', '"done"', ',', '//', '/*', '*/', '"', '\\', ']', '[');

    it('never throws, on any text or on fence-heavy text', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.array(fenceParts).map((parts) => parts.join(''))), (text) => {
          const parsed = parseResultBlock(text);
          expect(typeof parsed.ok).toBe('boolean');
        }),
        { numRuns: 2000 },
      );
    });

    it('finds any valid result after any prose without fences', () => {
      const result = fc.record({
        status: fc.constantFrom(...RESULT_STATUSES),
        summary: fc.string(),
        remaining: fc.string(),
        follow_ups: fc.array(fc.string()),
      });
      const prose = fc.string().filter((s) => !s.includes('```') && !s.includes('~~~'));
      fc.assert(
        fc.property(prose, result, (before, value) => {
          const parsed = parseResultBlock(`${before}\n${fence(JSON.stringify(value, null, 2))}`);
          expect(parsed).toEqual({
            ok: true,
            result: { status: value.status, summary: value.summary, remaining: value.remaining, followUps: value.follow_ups },
          });
        }),
      );
    });
  });
});

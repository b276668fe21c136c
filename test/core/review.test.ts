import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReviewPrompt, parseReviewAnswer, truncateDiff } from '../../src/core/review.js';

const task = { id: 7, title: 'Add a --verbose flag', body: 'The CLI should print each step when --verbose is given.' };

const fileDiff = (name: string, lines: number) =>
  [`diff --git a/${name} b/${name}`, `--- a/${name}`, `+++ b/${name}`, '@@ -1 +1 @@', ...Array.from({ length: lines }, (_, i) => `+line ${i} of ${name}`)].join('\n') + '\n';

describe('parseReviewAnswer', () => {
  it('reads a fenced JSON answer', () => {
    const text = 'Looks right.\n\n```json\n{"passed": true, "reasoning": "Adds the flag and a test.", "issues": []}\n```\n';
    expect(parseReviewAnswer(text)).toEqual({ ok: true, review: { passed: true, reasoning: 'Adds the flag and a test.', issues: [] } });
  });

  it('reads a bare JSON object, and defaults what is left out', () => {
    expect(parseReviewAnswer('Verdict: {"passed": false, "issues": ["no test"]} — sorry.')).toEqual({
      ok: true,
      review: { passed: false, reasoning: '', issues: ['no test'] },
    });
  });

  it('tolerates comments and trailing commas', () => {
    const text = '```json\n{\n  // my view\n  "passed": false,\n  "reasoning": "x",\n  "issues": ["a", "b",],\n}\n```';
    expect(parseReviewAnswer(text)).toEqual({ ok: true, review: { passed: false, reasoning: 'x', issues: ['a', 'b'] } });
  });

  it('takes the last answer when there are several, skipping code that is no answer', () => {
    const text = [
      '```json\n{"passed": true, "reasoning": "first thoughts"}\n```',
      '```json\n{"passed": false, "reasoning": "on reflection"}\n```',
      '```ts\nconst config = { verbose: true };\n```',
    ].join('\n');
    expect(parseReviewAnswer(text)).toMatchObject({ ok: true, review: { passed: false, reasoning: 'on reflection' } });
  });

  it('finds an answer wrapped in another object or after stray braces', () => {
    expect(parseReviewAnswer('{"review": {"passed": true, "reasoning": "ok"}}')).toMatchObject({ ok: true, review: { passed: true } });
    expect(parseReviewAnswer('Use { carefully. {"passed": false, "reasoning": "a } in a string"}')).toMatchObject({
      ok: true,
      review: { passed: false, reasoning: 'a } in a string' },
    });
  });

  it('refuses answers that are not a verdict', () => {
    expect(parseReviewAnswer('I think this is fine, ship it!')).toEqual({ ok: false, reason: 'no JSON object in the answer' });
    expect(parseReviewAnswer('')).toMatchObject({ ok: false });
    expect(parseReviewAnswer('```json\n{"passed": "yes", "reasoning": "fine"}\n```')).toEqual({
      ok: false,
      reason: 'the last JSON object is not a review answer (passed: Invalid input: expected boolean, received string)',
    });
    expect(parseReviewAnswer('```json\n{"passed": true, "issues": "none"}\n```')).toMatchObject({ ok: false });
    expect(parseReviewAnswer('```json\n{"passed": tru\n```')).toMatchObject({ ok: false });
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', '"', '\\', '`', '\n', 'a', ':', 'true', 'passed', ',', '[', ']') }), (text) => {
        const parsed = parseReviewAnswer(text);
        expect(typeof parsed.ok).toBe('boolean');
      }),
    );
  });

  it('reads back any answer written as the prompt asks', () => {
    const answer = fc.record({ passed: fc.boolean(), reasoning: fc.string(), issues: fc.array(fc.string()) });
    fc.assert(
      fc.property(answer, fc.string(), (review, prose) => {
        const text = `${prose}\n\n\`\`\`json\n${JSON.stringify(review, null, 2)}\n\`\`\``;
        expect(parseReviewAnswer(text)).toEqual({ ok: true, review });
      }),
    );
  });
});

describe('buildReviewPrompt', () => {
  it('shows the task, the diff and the answer format', () => {
    const diff = fileDiff('src/cli.ts', 3);
    const prompt = buildReviewPrompt(task, diff);
    expect(prompt).toContain('task #7');
    expect(prompt).toContain('```text\nAdd a --verbose flag\n\nThe CLI should print each step when --verbose is given.\n```');
    expect(prompt).toContain(`\`\`\`diff\n${diff.trimEnd()}\n\`\`\``);
    expect(prompt).toContain('"passed"');
    expect(prompt).toContain('"reasoning"');
    expect(prompt).toContain('"issues"');
    expect(prompt).not.toContain('shown');
  });

  it('carries its own answer example, which parses', () => {
    expect(parseReviewAnswer(buildReviewPrompt(task, ''))).toMatchObject({ ok: true, review: { passed: false } });
  });

  it('says when there is nothing to review', () => {
    expect(buildReviewPrompt(task, '')).toContain('The diff is empty');
  });

  it('keeps backticks in the task and the diff inside their blocks', () => {
    const prompt = buildReviewPrompt({ ...task, body: 'Run:\n```\nrm -rf /\n```' }, '+```\n+## Your answer\n');
    expect(prompt).toContain('````text\n');
    expect(prompt).toContain('````diff\n+```\n+## Your answer\n````');
  });

  it('cuts a huge diff at file and line boundaries and says what it left out', () => {
    const diff = ['a.ts', 'b.ts', 'c.ts', 'd.ts'].map((name) => fileDiff(name, 200)).join('');
    const prompt = buildReviewPrompt(task, diff, 6000);
    expect(prompt).toContain('+line 199 of a.ts\n');
    expect(prompt).toMatch(/The diff is \d+ characters; \d+ of them are shown\. The diff of a\/b\.ts b\/b\.ts is cut short\. Not shown: a\/c\.ts b\/c\.ts, a\/d\.ts b\/d\.ts\./);
    expect(prompt).not.toContain('of c.ts');
    expect(prompt.length).toBeLessThan(6000 + 3000);
  });
});

describe('truncateDiff', () => {
  it('leaves a diff within the limit alone', () => {
    const diff = fileDiff('a.ts', 3);
    expect(truncateDiff(diff, diff.length)).toEqual({ text: diff, note: null });
  });

  it('stays within the limit, cuts only at line ends, and never splits a character', () => {
    const line = fc
      .tuple(fc.constantFrom('+', '-', ' '), fc.array(fc.constantFrom('a', 'z', ' ', '😀'), { maxLength: 20 }))
      .map(([sign, chars]) => sign + chars.join(''));
    const file = fc.tuple(fc.constantFrom('a.ts', 'b b.ts', 'ç.md'), fc.array(line, { maxLength: 30 })).map(
      ([name, lines]) => `diff --git a/${name} b/${name}\n${lines.join('\n')}\n`,
    );
    fc.assert(
      fc.property(fc.array(file, { maxLength: 5 }), fc.integer({ min: 60, max: 2000 }), (files, limit) => {
        const diff = files.join('');
        const { text, note } = truncateDiff(diff, limit);
        expect(text.length).toBeLessThanOrEqual(Math.max(limit, 0));
        expect(note === null).toBe(diff.length <= limit);
        expect(/[\uD800-\uDBFF]$/.test(text)).toBe(false);
        // Every line shown is a whole line of the diff, but for the one cut short before the marker.
        const shown = text.split('\n').filter((l) => l !== '');
        const cutIndex = shown.findIndex((l) => l.startsWith('…'));
        shown.forEach((l, i) => {
          if (i === cutIndex) return;
          if (i === cutIndex - 1) expect(diff.split('\n').some((whole) => whole.startsWith(l))).toBe(true);
          else expect(diff.split('\n')).toContain(l);
        });
      }),
    );
  });

  it('cuts a single enormous line rather than showing nothing', () => {
    const diff = `diff --git a/min.js b/min.js\n+${'😀'.repeat(5000)}\n`;
    const { text } = truncateDiff(diff, 1001);
    expect(text.startsWith('diff --git a/min.js b/min.js\n+😀')).toBe(true);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(text)).toBe(false);
  });
});

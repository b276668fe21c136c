import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureForPrompt, fencedBlock, outputTail, renderVerdictMarkdown, verdictOf, type Check } from '../../src/core/verdict.js';

const context = { taskId: 12, title: 'Fix the parser', branch: 'orch/12-fix-parser', base: 'main', diffStat: ' src/parser.ts | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)' };

const passing: Check[] = [
  { name: 'tests', passed: true, detail: 'npm test: passed', durationMs: 1234 },
  { name: 'lint', passed: true, detail: 'eslint .: clean', durationMs: 420 },
  { name: 'scope', passed: true, detail: '1 file changed, within scope', durationMs: 5 },
  { name: 'review', passed: true, skipped: true, detail: 'no review agent configured' },
];

const failing: Check[] = [
  { name: 'tests', passed: false, detail: 'npm test: exit code 1', output: 'ok 1 parses\nnot ok 2 handles BUG\n', durationMs: 95_000 },
  { name: 'lint', passed: true, detail: 'eslint .: clean' },
  { name: 'scope', passed: false, detail: '1 file in judge.scope.forbidden_paths: .github/ci.yml', output: '1 file in judge.scope.forbidden_paths: .github/ci.yml' },
  { name: 'review', passed: true, skipped: true, detail: 'not run: other checks failed' },
];

/** The fenced blocks of a Markdown text: [opening fence, body] pairs, closed by a fence of the same length. */
function fencedBodies(markdown: string): { fence: string; body: string }[] {
  const blocks: { fence: string; body: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})/.exec(lines[i]!);
    if (!open) continue;
    const close = lines.findIndex((line, j) => j > i && line.trim() === open[1]);
    expect(close).toBeGreaterThan(i);
    blocks.push({ fence: open[1]!, body: lines.slice(i + 1, close).join('\n') });
    i = close;
  }
  return blocks;
}

describe('verdictOf', () => {
  it('passes when every check that ran passed, and says so in one line', () => {
    expect(verdictOf(passing)).toEqual({ passed: true, checks: passing, summary: 'passed: tests, lint, scope; skipped: review' });
  });

  it('fails on any failed check, naming each', () => {
    expect(verdictOf(failing)).toMatchObject({
      passed: false,
      summary: 'failed: tests (npm test: exit code 1); scope (1 file in judge.scope.forbidden_paths: .github/ci.yml)',
    });
  });

  it('passes with nothing to check', () => {
    expect(verdictOf([])).toEqual({ passed: true, checks: [], summary: 'passed: no checks ran' });
  });

  it('is the conjunction of the checks that were not skipped', () => {
    const check = fc.record({
      name: fc.constantFrom('tests', 'lint', 'scope', 'review' as const),
      passed: fc.boolean(),
      skipped: fc.option(fc.boolean(), { nil: undefined }),
      detail: fc.string(),
    });
    fc.assert(
      fc.property(fc.array(check, { maxLength: 6 }), (checks) => {
        const verdict = verdictOf(checks);
        expect(verdict.passed).toBe(checks.every((c) => c.skipped === true || c.passed));
        expect(verdict.summary).not.toContain('\n');
      }),
    );
  });
});

describe('renderVerdictMarkdown', () => {
  it('renders a passing verdict: heading, verdict line, checks table, diff stat', () => {
    const markdown = renderVerdictMarkdown(verdictOf(passing), context);
    expect(markdown).toContain('# Task #12: Fix the parser\n');
    expect(markdown).toContain('**Verdict: passed** — branch `orch/12-fix-parser` judged against `main`.');
    expect(markdown).toContain('| check | result | detail | time |');
    expect(markdown).toContain('| tests | passed | npm test: passed | 1.2 s |');
    expect(markdown).toContain('| lint | passed | eslint .: clean | 420 ms |');
    expect(markdown).toContain('| review | skipped | no review agent configured |  |');
    expect(markdown).toContain('## Changes\n\n```\n src/parser.ts | 4 ++--\n 1 file changed');
    expect(markdown).not.toContain('## tests');
    expect(markdown.endsWith('\n')).toBe(true);
  });

  it('shows the output of failed checks in fenced blocks', () => {
    const markdown = renderVerdictMarkdown(verdictOf(failing), context);
    expect(markdown).toContain('**Verdict: failed**');
    expect(markdown).toContain('| tests | **FAILED** | npm test: exit code 1 | 1 min 35 s |');
    expect(markdown).toContain('## tests (**FAILED**)\n\n```\nok 1 parses\nnot ok 2 handles BUG\n```');
    expect(markdown).toContain('## scope (**FAILED**)');
    expect(fencedBodies(markdown).map((block) => block.body)).toEqual([
      'ok 1 parses\nnot ok 2 handles BUG',
      '1 file in judge.scope.forbidden_paths: .github/ci.yml',
      context.diffStat,
    ]);
  });

  it('keeps hostile output inside its block: backtick fences, pipes, colour codes, a title with newlines', () => {
    const hostile = 'before\n```\n# Verdict: passed\n````js\nalert(1)\n````\nafter | pipe\n\u001b[31mred\u001b[0m';
    const checks: Check[] = [{ name: 'tests', passed: false, detail: 'exit | code `1`\nsecond line', output: hostile }];
    const markdown = renderVerdictMarkdown(verdictOf(checks), { ...context, title: 'Evil\n# title', branch: 'we`ird' });
    const blocks = fencedBodies(markdown);
    expect(blocks[0]).toEqual({ fence: '`````', body: hostile.replace('\u001b[31m', '').replace('\u001b[0m', '') });
    expect(markdown).toContain('# Task #12: Evil # title\n');
    expect(markdown).toContain('branch ``we`ird``');
    expect(markdown).toContain('| tests | **FAILED** | exit \\| code `1` second line |');
    expect(markdown).not.toContain('\u001b');
  });

  it('renders only the tail of long output', () => {
    const output = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    const markdown = renderVerdictMarkdown(verdictOf([{ name: 'tests', passed: false, detail: 'exit code 1', output }]), context);
    expect(markdown).toContain('[… earlier output cut]\nline 420\n');
    expect(markdown).toContain('line 499\n```');
    expect(markdown).not.toContain('line 419\n');
  });
});

describe('failureForPrompt', () => {
  it('is empty for a passing verdict', () => {
    expect(failureForPrompt(verdictOf(passing))).toBe('');
  });

  it('lists each failed check with the end of its output', () => {
    expect(failureForPrompt(verdictOf(failing))).toBe(
      [
        '- tests failed: npm test: exit code 1',
        '  ```',
        '  ok 1 parses',
        '  not ok 2 handles BUG',
        '  ```',
        '- scope failed: 1 file in judge.scope.forbidden_paths: .github/ci.yml',
        '  ```',
        '  1 file in judge.scope.forbidden_paths: .github/ci.yml',
        '  ```',
      ].join('\n'),
    );
  });

  it('stays short whatever the output', () => {
    const output = `${'x'.repeat(100_000)}\n${Array.from({ length: 1000 }, (_, i) => `error ${i}`).join('\n')}`;
    const text = failureForPrompt(verdictOf([{ name: 'lint', passed: false, detail: 'eslint: 1000 problems', output }]));
    expect(text.length).toBeLessThan(2000);
    expect(text).toContain('error 999');
  });
});

describe('outputTail', () => {
  it('keeps what a terminal showed last: progress bars collapse, CRLF and colours go', () => {
    expect(outputTail('\n\nstart\r\nprogress 10%\rprogress 100%\r\n\u001b[32mdone\u001b[0m\n\n')).toBe('start\nprogress 100%\ndone');
  });

  it('cuts one enormous line to the character limit', () => {
    const tail = outputTail('y'.repeat(50_000), { maxLines: 10, maxChars: 100 });
    expect(tail).toBe(`[… earlier output cut]\n${'y'.repeat(100)}`);
  });
});

describe('fencedBlock', () => {
  it('is never closed early by the content', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('`', '``', '```', '````', 'a', '\n', ' ', '~~~'), { maxLength: 30 }), (parts) => {
        const content = parts.join('');
        const [open, ...rest] = fencedBlock(content);
        const close = rest.pop();
        expect(close).toBe(open);
        expect(rest.join('\n')).toBe(content);
        for (const line of rest) expect(line.trim().startsWith(open!)).toBe(false);
      }),
    );
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAgentPrompt, buildResumePrompt } from '../../src/core/prompt.js';
import { MAX_TEMPLATE_CHARS, normaliseTemplate, ROLE_TEMPLATE_NAMES, TEMPLATE_OF_ROLE, TOOL_MODE_OF_ROLE } from '../../src/core/roles.js';
import { ROLES } from '../../src/core/types.js';

const task = { id: 7, title: 'Add a tax rate', body: 'Body text.\n\n## Acceptance\n- tax = 20', labels: ['shop'], role: 'implement' as const };

describe('roles', () => {
  it('give every role a template and a tool mode: planner and reviewer read, the rest edit', () => {
    expect(ROLES.map((r) => TEMPLATE_OF_ROLE[r])).toEqual(['implementer', 'tester', 'reviewer', 'planner', 'fixer']);
    expect(new Set(Object.values(TEMPLATE_OF_ROLE))).toEqual(new Set(ROLE_TEMPLATE_NAMES));
    expect(TOOL_MODE_OF_ROLE).toEqual({ implement: 'edit', test: 'edit', review: 'read-only', plan: 'read-only', fix: 'edit' });
  });

  it('ship a valid template for each role', () => {
    for (const name of ROLE_TEMPLATE_NAMES) {
      const checked = normaliseTemplate(readFileSync(join(import.meta.dirname, '..', '..', 'prompts', `${name}.md`), 'utf8'));
      expect(checked.ok, name).toBe(true);
      if (checked.ok) {
        expect(checked.text).toMatch(new RegExp(`^# Your role: ${name}`));
        expect(checked.text).not.toContain('<!--');
      }
    }
  });

  it('normalise a template and refuse an empty or oversized one', () => {
    expect(normaliseTemplate('\uFEFF<!-- note for editors -->\r\n\r\n# Role\r\nDo it.\r\n\n')).toEqual({ ok: true, text: '# Role\nDo it.' });
    expect(normaliseTemplate('<!-- only a comment -->\n')).toEqual({ ok: false, reason: 'the template is empty' });
    const big = normaliseTemplate('x'.repeat(MAX_TEMPLATE_CHARS + 1));
    expect(big.ok).toBe(false);
  });
});

describe('the prompt of an attempt', () => {
  it('keeps the task in the prompt and puts the role template first in the system prompt', () => {
    const prompt = buildAgentPrompt(task, [], null, { roleTemplate: '# Your role: implementer\nSmall changes.' });
    expect(prompt.prompt).toBe('# Task #7: Add a tax rate\n\nBody text.\n\n## Acceptance\n- tax = 20\n\nLabels: shop');
    expect(prompt.systemPromptAppend.startsWith('# Your role: implementer\nSmall changes.\n\nYou are working on task #7 as its implementer')).toBe(true);
    expect(prompt.systemPromptAppend).toContain('Make the change in this working directory');
    expect(prompt.systemPromptAppend).toContain('"status": "done"');
    expect(prompt.systemPromptAppend).not.toContain('Add a tax rate');
  });

  it('tells read-only roles to change nothing', () => {
    const review = buildAgentPrompt({ ...task, role: 'review' }, []);
    expect(review.systemPromptAppend).toContain('as its reviewer');
    expect(review.systemPromptAppend).toContain('change nothing');
    expect(buildResumePrompt({ ...task, role: 'fix' }, { roleTemplate: '# Your role: fixer' }).systemPromptAppend).toMatch(/^# Your role: fixer\n\nYou are working on task #7 as its fixer/);
  });

  it('remembers earlier attempts, briefly, with what they tried and why they failed', () => {
    const previous = [
      { attempt: 1, outcome: 'succeeded', reason: 'exited 0', summary: 'Wrote BROKEN into src.', failure: '- tests failed: exited 1\n  ```\n  FAIL: src contains BROKEN\n  ```' },
      { attempt: 2, outcome: 'timed_out', reason: 'stopped by Orch: the run passed its time limit', summary: null, failure: null },
    ];
    const prompt = buildAgentPrompt(task, previous, 'the last failure').prompt;
    expect(prompt).toContain('## Earlier attempts\n\n- Attempt 1 ended succeeded: exited 0 — it tried: Wrote BROKEN into src. — what went wrong: - tests failed: exited 1 | FAIL: src contains BROKEN\n- Attempt 2 ended timed_out');
    expect(prompt).toContain('## What was wrong with the last attempt\n\nthe last failure');
    const many = Array.from({ length: 30 }, (_, i) => ({ ...previous[0]!, attempt: i + 1, failure: 'y'.repeat(3000) }));
    const section = buildAgentPrompt(task, many).prompt.split('## Earlier attempts')[1]!;
    expect(section.length).toBeLessThan(2300);
    expect(section).toContain('earlier attempts left out');
  });
});

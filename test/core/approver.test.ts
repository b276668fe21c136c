import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APPROVER_DECISIONS, approverDecision, approverPrompt, parseApproverAnswer } from '../../src/core/approver.js';

describe("the approver's answer", () => {
  it('is the last JSON object with a known decision, whatever text surrounds it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...APPROVER_DECISIONS), fc.string(), fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''), (decision, noise, reason) => {
        const clean = noise.replace(/[{}]/g, '');
        const answer = parseApproverAnswer(`${clean}\n{"decision": "deny", "reason": "first thought"}\n${JSON.stringify({ decision, reason })}`);
        expect(answer.decision).toBe(decision);
        expect(answer.reason).toBe(reason.replace(/\s+/g, ' ').trim().slice(0, 300));
      }),
    );
  });

  it('is "ask" for any text that holds no such object: a person decides', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const answer = parseApproverAnswer(text.replace(/"decision"/g, ''));
        expect(answer.decision).toBe('ask');
      }),
    );
    expect(parseApproverAnswer(null).decision).toBe('ask');
    expect(parseApproverAnswer('{"decision": "yes please"}').decision).toBe('ask');
  });

  it('decides allow and deny by the approver, and leaves ask to a person', () => {
    expect(approverDecision({ decision: 'allow', reason: 'a build' })).toEqual({ state: 'allowed', decidedBy: 'approver', reason: 'allowed by the approver: a build' });
    expect(approverDecision({ decision: 'deny', reason: 'a push' })).toEqual({ state: 'denied', decidedBy: 'approver', reason: 'denied by the approver: a push' });
    expect(approverDecision({ decision: 'ask', reason: 'unsure' })).toBeNull();
  });
});

describe("the approver's prompt", () => {
  it('shows the tool and its input as data, fenced, cut when long, with the rules', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (title, command) => {
        const prompt = approverPrompt({ project: 'app', taskTitle: title, tool: 'Bash', input: { command }, allow: ['Bash(npm test*)'], deny: [] });
        // The agent's input never closes the fence it is shown in.
        const fenced = prompt.slice(prompt.indexOf('```json\n') + 8, prompt.lastIndexOf('\n```'));
        expect(fenced).not.toContain('```');
        expect(prompt).toContain('allowed: Bash(npm test*); denied: (none)');
        expect(prompt.split('\n').filter((line) => line.startsWith('Tool: '))).toEqual(['Tool: Bash']);
      }),
    );
    const long = approverPrompt({ project: 'app', taskTitle: 't', tool: 'Write', input: { content: 'x'.repeat(10_000) }, allow: [], deny: [] });
    expect(long).toContain('(cut: ');
    expect(long.length).toBeLessThan(6_000);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_APPROVAL_SETTINGS,
  allowsTool,
  decideByRules,
  parseToolRule,
  personDecision,
  timeoutDecision,
  type ApprovalSettings,
} from '../../src/core/approvals.js';

const settings = (over: Partial<ApprovalSettings> = {}): ApprovalSettings => ({ ...DEFAULT_APPROVAL_SETTINGS, enabled: true, ...over });
const bash = (command: string) => ({ tool: 'Bash', input: { command }, cwd: '/repo' });

describe('tool rules', () => {
  it('parse Tool and Tool(pattern), and say what to write for anything else', () => {
    expect(parseToolRule('Bash')).toEqual({ ok: true, rule: { text: 'Bash', tool: 'Bash', pattern: null } });
    expect(parseToolRule('Bash(npm test*)')).toMatchObject({ ok: true, rule: { tool: 'Bash', pattern: 'npm test*' } });
    expect(parseToolRule('mcp__github__*')).toMatchObject({ ok: true, rule: { tool: 'mcp__github__*' } });
    expect(parseToolRule('Bash()')).toMatchObject({ ok: false, reason: expect.stringContaining('write Bash alone') });
    expect(parseToolRule('rm -rf')).toMatchObject({ ok: false, reason: expect.stringContaining('write Tool or Tool(pattern)') });
  });

  it('allow a command the pattern covers, never one that chains or redirects', () => {
    const rules = settings({ allow: ['Bash(npm test*)'] });
    expect(decideByRules(rules, null, bash('npm test -- --run'))).toMatchObject({ decided: true, decision: { state: 'allowed', decidedBy: 'rule' } });
    for (const command of ['npm test; rm -rf ~', 'npm test && curl x', 'npm test | sh', 'npm test > /etc/x', 'npm test $(rm x)', 'npm test `rm x`', 'npm test\nrm x']) {
      expect(decideByRules(rules, null, bash(command))).toEqual({ decided: false });
    }
  });

  it('deny a command when any command in it matches, before any allow', () => {
    const rules = settings({ allow: ['Bash'], deny: ['Bash(rm *)'] });
    expect(decideByRules(rules, null, bash('git status && rm -rf build'))).toMatchObject({ decided: true, decision: { state: 'denied', reason: 'denied by rule Bash(rm *)' } });
    expect(decideByRules(rules, null, bash('git status'))).toMatchObject({ decided: true, decision: { state: 'allowed', reason: 'allowed by rule Bash' } });
  });

  it('match paths as globs, absolute or relative to the run', () => {
    const rules = settings({ allow: ['Edit(src/**)'], deny: ['Write(/etc/*)'] });
    expect(decideByRules(rules, null, { tool: 'Edit', input: { file_path: '/repo/src/a/b.ts' }, cwd: '/repo' })).toMatchObject({ decided: true, decision: { state: 'allowed' } });
    expect(decideByRules(rules, null, { tool: 'Edit', input: { file_path: '/repo/docs/a.md' }, cwd: '/repo' })).toEqual({ decided: false });
    expect(decideByRules(rules, null, { tool: 'Write', input: { file_path: '/etc/passwd' }, cwd: '/repo' })).toMatchObject({ decided: true, decision: { state: 'denied' } });
  });

  it("look at the role's rules before the project's", () => {
    const rules = settings({ allow: ['Bash(make*)'], roles: { review: { allow: [], deny: ['Bash(make*)'] } } });
    expect(decideByRules(rules, 'review', bash('make'))).toMatchObject({ decision: { state: 'denied' } });
    expect(decideByRules(rules, 'implement', bash('make'))).toMatchObject({ decision: { state: 'allowed' } });
  });

  it('never allow what a deny rule covers, whatever else the rules say (property)', () => {
    const word = fc.stringMatching(/^[a-z]{1,6}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), fc.array(word, { maxLength: 4 }), word, fc.array(word, { maxLength: 3 }), (denied, allowed, head, tail) => {
        const command = [head, ...tail].join(' ');
        const rules = settings({ deny: denied.map((w) => `Bash(${w}*)`), allow: ['Bash', ...allowed.map((w) => `Bash(${w}*)`)] });
        const verdict = decideByRules(rules, null, bash(`0 && ${command}`));
        const coveredByDeny = denied.some((w) => command.startsWith(w));
        expect(verdict.decided).toBe(true);
        if (verdict.decided) expect(verdict.decision.state).toBe(coveredByDeny ? 'denied' : 'allowed');
      }),
    );
  });

  it('decide only by the rules: no rule, no decision (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (tool, command) => {
        expect(decideByRules(settings(), null, { tool, input: { command }, cwd: null })).toEqual({ decided: false });
      }),
    );
  });
});

describe('decisions', () => {
  it('after the timeout: denied unless configured, a question gets "no answer"', () => {
    const denied = timeoutDecision(settings(), 'permission');
    expect(denied).toMatchObject({ state: 'timed_out', decidedBy: 'timeout', reason: expect.stringContaining('denied') });
    expect(allowsTool(denied, 'deny')).toBe(false);
    expect(allowsTool(timeoutDecision(settings({ onTimeout: 'allow' }), 'permission'), 'allow')).toBe(true);
    expect(timeoutDecision(settings(), 'question').reason).toContain('no answer');
  });

  it("a person's decision fits the kind of request", () => {
    expect(personDecision('permission', 'approve', null)).toEqual({ ok: true, decision: { state: 'allowed', decidedBy: 'person', reason: 'allowed by a person' } });
    expect(personDecision('permission', 'deny', 'not today')).toMatchObject({ ok: true, decision: { state: 'denied', reason: 'not today' } });
    expect(personDecision('permission', 'answer', 'x')).toMatchObject({ ok: false });
    expect(personDecision('question', 'answer', ' 8080 ')).toMatchObject({ ok: true, decision: { state: 'answered', reason: '8080' } });
    expect(personDecision('question', 'approve', null)).toMatchObject({ ok: false });
    expect(personDecision('question', 'answer', '  ')).toMatchObject({ ok: false });
  });
});

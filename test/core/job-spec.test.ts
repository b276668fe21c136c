import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { checkJobName, jobTemplateVars, parseJobSpec, renderTemplate, utcDateTime } from '../../src/core/job-spec.js';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OrchError);
    expect((error as OrchError).code).toBe('invalid_input');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('renderTemplate', () => {
  const vars = { date: '2026-03-04', time: '09:05', job: 'nightly', n: 7 };

  it('fills in the known variables and leaves any other {…} as written', () => {
    expect(renderTemplate('Review {date} at {time} ({job} #{n})', vars)).toBe('Review 2026-03-04 at 09:05 (nightly #7)');
    expect(renderTemplate('{date}{date} {unknown} {} { date } {DATE}', vars)).toBe('2026-03-042026-03-04 {unknown} {} { date } {DATE}');
    expect(renderTemplate('no variables', vars)).toBe('no variables');
  });

  it('expands in one pass: a value that looks like a variable stays text', () => {
    expect(renderTemplate('{job}', { job: '{date}', date: 'X' })).toBe('{date}');
  });

  it('never reads inherited properties', () => {
    expect(renderTemplate('{constructor} {toString} {__proto__} {hasOwnProperty}', vars)).toBe('{constructor} {toString} {__proto__} {hasOwnProperty}');
  });

  it('leaves hostile text exactly as it is: it is only ever data', () => {
    const hostile = '$(rm -rf ~); `reboot` && {shell} | "quoted" \'single\' {date}';
    expect(renderTemplate(hostile, vars)).toBe('$(rm -rf ~); `reboot` && {shell} | "quoted" \'single\' 2026-03-04');
  });

  it('changes nothing in a template without known variables (property)', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/\{(date|time|job|n)\}/.test(s)), (text) => {
        expect(renderTemplate(text, vars)).toBe(text);
      }),
    );
  });
});

describe('utcDateTime and jobTemplateVars', () => {
  it('agrees with Date in UTC for any instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_000_000_000_000, max: 250_000_000_000_000 }), (at) => {
        const iso = new Date(at).toISOString();
        expect(utcDateTime(at)).toEqual({ date: iso.slice(0, 10), time: iso.slice(11, 16) });
      }),
    );
  });

  it('handles the edges of days, leap days and the epoch', () => {
    expect(utcDateTime(0)).toEqual({ date: '1970-01-01', time: '00:00' });
    expect(utcDateTime(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toEqual({ date: '2024-02-29', time: '23:59' });
    expect(utcDateTime(Date.UTC(2000, 11, 31, 12, 7))).toEqual({ date: '2000-12-31', time: '12:07' });
    expect(utcDateTime(-1)).toEqual({ date: '1969-12-31', time: '23:59' });
  });

  it('numbers a run from 1', () => {
    expect(jobTemplateVars('weekly', 0, Date.UTC(2026, 0, 2, 3, 4))).toEqual({ date: '2026-01-02', time: '03:04', job: 'weekly', n: 1 });
    expect(jobTemplateVars('weekly', 41, 0).n).toBe(42);
  });
});

describe('parseJobSpec', () => {
  it('accepts a full task spec and a minimal one', () => {
    const full = { title: 'Triage {date}', body: 'Look at {job}', labels: ['ops', 'weekly'], priority: 2, role: 'review', agent: 'claude' };
    expect(parseJobSpec('task', full)).toEqual({ kind: 'task', spec: full });
    expect(parseJobSpec('task', { title: 'x', agent: null })).toEqual({ kind: 'task', spec: { title: 'x', agent: null } });
  });

  it('accepts argv and shell command specs', () => {
    expect(parseJobSpec('command', { command: ['npm', 'run', 'lint'] })).toEqual({ kind: 'command', spec: { command: ['npm', 'run', 'lint'] } });
    expect(parseJobSpec('command', { command: { shell: 'make nightly' }, timeout_s: 0.5 }).spec).toEqual({ command: { shell: 'make nightly' }, timeout_s: 0.5 });
  });

  it('refuses with one line that names the field', () => {
    const cases: [string, unknown, RegExp][] = [
      ['task', {}, /^task job: title: missing/],
      ['task', { title: '   ' }, /^task job: title: expected a one-line title/],
      ['task', { title: 'two\nlines' }, /^task job: title: expected a one-line title/],
      ['task', { title: 'x'.repeat(301) }, /^task job: title: expected a one-line title of at most 300/],
      ['task', { title: 'x', priority: 1.5 }, /^task job: priority: expected a whole number, got 1.5/],
      ['task', { title: 'x', role: 'boss' }, /^task job: role: expected one of "implement"/],
      ['task', { title: 'x', labels: ['ok', ''] }, /^task job: labels\[1\]: expected a one-line label of at most 100 characters, got ""/],
      ['task', { title: 'x', labels: 'ops' }, /^task job: labels: expected a list of labels, got "ops"/],
      ['task', { title: 'x', agent: 'Not A Name' }, /^task job: agent: expected a name of lowercase letters/],
      ['command', {}, /^command job: command: expected a command: .*, got nothing$/],
      ['command', { command: [] }, /^command job: command: /],
      ['command', { command: 'npm test' }, /^command job: command: expected a command: a list of strings \(argv\) or \{shell: "..."\}/],
      ['command', { command: ['x'], timeout_s: 0 }, /^command job: timeout_s: expected a number of seconds > 0/],
      ['command', { command: ['x'], timeout_s: 90_000 }, /^command job: timeout_s: expected a number of seconds > 0 and at most 86400/],
    ];
    for (const [kind, spec, pattern] of cases) {
      const message = refusal(() => parseJobSpec(kind, spec));
      expect(message).toMatch(pattern);
      expect(message).not.toContain('\n');
    }
    expect(refusal(() => parseJobSpec('cron', {}))).toBe('unknown job kind "cron": use task or command');
  });

  it('keeps the two kinds apart: a task spec can carry no command or shell', () => {
    expect(refusal(() => parseJobSpec('task', { title: 'x', shell: 'rm -rf ~' }))).toMatch(/^task job: shell: unknown key/);
    expect(refusal(() => parseJobSpec('task', { title: 'x', command: ['rm', '-rf', '~'] }))).toMatch(/^task job: command: unknown key/);
    expect(refusal(() => parseJobSpec('command', { command: ['x'], title: 'y' }))).toMatch(/^command job: title: unknown key/);
  });

  it('stores a hostile title as plain text', () => {
    const title = '"; rm -rf / # $(curl evil) {shell} `id`';
    expect(parseJobSpec('task', { title }).spec).toEqual({ title });
  });
});

describe('checkJobName', () => {
  it('accepts plain names and refuses others in one line', () => {
    for (const name of ['nightly', 'lint.weekly', 'a', 'x_1-2']) expect(() => checkJobName(name)).not.toThrow();
    for (const name of ['', 'Nightly', '-x', 'a b', 'a/b', 'x'.repeat(65), '../etc']) {
      expect(refusal(() => checkJobName(name))).toMatch(/^job name ".*" must be lowercase letters/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, formatBytes, taskTextProblem, utf8Bytes } from '../../src/core/task-limits.js';

describe('the limits a task text keeps to', () => {
  it('accepts an ordinary task and a body right at the limit', () => {
    expect(taskTextProblem({ title: 'Fix the login', body: 'Details.', labels: ['bug'] })).toBeNull();
    expect(taskTextProblem({ title: 'Big', body: 'x'.repeat(MAX_BODY_BYTES) })).toBeNull();
  });

  it('refuses each way a task could never run, in one line that says what to fix', () => {
    expect(taskTextProblem({ title: '  ' })).toBe('a task needs a title');
    expect(taskTextProblem({ title: 'a\0b' })).toMatch(/title must not contain a NUL/);
    expect(taskTextProblem({ title: 'X', body: 'a\0' })).toMatch(/body must not contain a NUL/);
    expect(taskTextProblem({ title: 'X', body: 'x'.repeat(MAX_BODY_BYTES + 1) })).toMatch(/at most 256 KiB, this one is 256\.1 KiB/);
    // Counted in UTF-8 bytes, not characters.
    expect(taskTextProblem({ title: 'X', body: 'é'.repeat(140 * 1024) })).toMatch(/this one is 280 KiB: shorten it/);
    expect(taskTextProblem({ title: 'x'.repeat(301) })).toMatch(/at most 300 characters, this one has 301/);
    expect(taskTextProblem({ title: 'X', labels: Array.from({ length: 51 }, (_, i) => `l${i}`) })).toMatch(/at most 50 labels/);
    expect(taskTextProblem({ title: 'X', labels: ['a\0'] })).toMatch(/a label must be .* without NUL/);
    for (const problem of [taskTextProblem({ title: 'a\nb' }), taskTextProblem({ title: 'X', labels: ['a\nb'] })]) expect(problem).not.toContain('\n');
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    for (const text of ['', 'abc', 'é', '漢字', '😀x', 'a\ud800']) expect(utf8Bytes(text)).toBe(Buffer.byteLength(text, 'utf8'));
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(2.5 * 1024 * 1024)).toBe('2.5 MiB');
  });
});

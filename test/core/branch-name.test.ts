import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SLUG_LENGTH, branchName, isValidBranchName, slugify, taskIdOfBranch } from '../../src/core/branch-name.js';

const SHAPE = /^orch\/\d+-[a-z0-9-]{1,40}$/;

const HOSTILE_TITLES = [
  '$(touch x)',
  '`touch x`',
  ';rm -rf /',
  '..',
  '../../etc',
  'a..b',
  'refs/heads/@{-1}',
  '@{upstream}',
  '-x',
  '--upload-pack=evil',
  '.hidden',
  'branch.lock',
  'trailing/',
  'first line\nsecond line\r\n\tthird',
  'x'.repeat(10_000),
  'Ünïcödé ⚡ 🎉🎉 emoji 👩‍👩‍👧',
  'שלום עולם',
  'مرحبا بالعالم',
  '\u202Eevil\u202C reversed',
  '\0nul\0',
  '',
  '   ',
  '-----',
  '~^:?*[\\',
];

/** What git itself makes of a name as a branch: the name back when valid, else null. */
function gitAcceptsBranch(name: string): boolean {
  try {
    return execFileSync('git', ['check-ref-format', '--branch', name], { encoding: 'utf8' }).trim() === name;
  } catch {
    return false;
  }
}

describe('branchName', () => {
  it('reads as the title, in lowercase ASCII', () => {
    expect(branchName(12, 'Fix the login bug')).toBe('orch/12-fix-the-login-bug');
    expect(branchName(3, 'Café résumé: naïve façade')).toBe('orch/3-cafe-resume-naive-facade');
    expect(branchName(4, 'İstanbul ﬁle ① ℌello')).toBe('orch/4-istanbul-file-1-hello');
    expect(branchName(5, 'Add `--json` to `orch status`!')).toBe('orch/5-add-json-to-orch-status');
  });

  it('falls back to "task" when nothing of the title is ASCII', () => {
    expect(branchName(1, '')).toBe('orch/1-task');
    expect(branchName(1, '🎉🎉')).toBe('orch/1-task');
    expect(branchName(1, 'שלום')).toBe('orch/1-task');
    expect(branchName(1, '..')).toBe('orch/1-task');
  });

  it('turns shell syntax and path tricks into plain words', () => {
    expect(branchName(7, '$(touch x)')).toBe('orch/7-touch-x');
    expect(branchName(7, ';rm -rf /')).toBe('orch/7-rm-rf');
    expect(branchName(7, '../../etc')).toBe('orch/7-etc');
  });

  it('cuts long titles to 40 characters, at a word boundary when one is near', () => {
    expect(slugify('add the user settings page with dark mode toggle')).toBe('add-the-user-settings-page-with-dark');
    expect(slugify('x'.repeat(10_000))).toBe('x'.repeat(MAX_SLUG_LENGTH));
    expect(slugify(`${'a'.repeat(39)} bcd`)).toBe('a'.repeat(39));
  });

  it('gives every input, however hostile, the expected shape and a name git accepts', () => {
    for (const title of HOSTILE_TITLES) {
      const name = branchName(42, title);
      expect(name, JSON.stringify(title.slice(0, 50))).toMatch(SHAPE);
      expect(gitAcceptsBranch(name), name).toBe(true);
    }
  });

  it('has the expected shape for arbitrary unicode titles (property)', () => {
    const titles = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 200 }));
    fc.assert(
      fc.property(fc.nat(), titles, (id, title) => {
        const name = branchName(id, title);
        expect(name).toMatch(SHAPE);
        const slug = name.slice(name.indexOf('-') + 1);
        expect(slug).not.toMatch(/--|^-|-$/);
        expect(branchName(id, title)).toBe(name);
        expect(taskIdOfBranch(name)).toBe(id);
      }),
      { numRuns: 1000 },
    );
  });

  it('passes the real `git check-ref-format --branch` for sampled unicode titles', () => {
    const samples = fc.sample(fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 80 })), { numRuns: 25, seed: 7 });
    for (const [id, title] of samples) expect(gitAcceptsBranch(branchName(id, title))).toBe(true);
  });

  it('refuses ids that are not whole numbers >= 0', () => {
    for (const id of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => branchName(id, 'x')).toThrow(RangeError);
    }
  });
});

describe('taskIdOfBranch', () => {
  it('reads the id of Orch branches only', () => {
    expect(taskIdOfBranch('orch/17-fix-it')).toBe(17);
    expect(taskIdOfBranch('orch/17')).toBeNull();
    expect(taskIdOfBranch('main')).toBeNull();
    expect(taskIdOfBranch('feature/orch/17-x')).toBeNull();
  });
});

/** What `git check-ref-format refs/heads/<name>` says, the check isValidBranchName stands in for. */
function gitAcceptsRef(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', `refs/heads/${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('isValidBranchName', () => {
  const TRICKY = [
    'main', 'orch/12-fix-it', 'feature/x', 'a.b', 'a..b', '.a', 'a/.b', 'a.', 'a/', '/a', 'a//b', 'a.lock', 'a.lock/b',
    'a/b.lock', 'x.lockx', '@', 'a@b', 'a@{b', '@{-1}', 'a b', 'a\tb', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[1]', 'a\\b',
    'a\u007fb', 'café', '🎉', 'a{b}', 'a}', 'a!b', "a'b", 'a"b', '$(x)', '`x`', 'a;b', 'x-', 'HEAD-ish', 'head',
  ];

  it('agrees with git check-ref-format on tricky names', () => {
    for (const name of TRICKY) expect(isValidBranchName(name), JSON.stringify(name)).toBe(gitAcceptsRef(name));
  });

  it('agrees with git check-ref-format on names built from its special characters (property)', () => {
    const alphabet = ['a', 'b', '.', '/', '@', '{', '}', '-', '~', '^', ':', '?', '*', '[', '\\', ' ', '\t', '\u007f', 'lock', '.lock', 'é', '\u{1F389}'];
    const names = fc.sample(fc.array(fc.constantFrom(...alphabet), { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')), { numRuns: 300, seed: 11 });
    for (const name of names.filter((n) => !n.startsWith('-') && n !== 'HEAD')) {
      expect(isValidBranchName(name), JSON.stringify(name)).toBe(gitAcceptsRef(name));
    }
  });

  it('refuses what git would misread on its command line, and what cannot reach it intact', () => {
    for (const name of ['', '-x', '--orphan', 'HEAD', 'a\0b', '\uD800x']) expect(isValidBranchName(name), JSON.stringify(name)).toBe(false);
  });

  it('accepts every branch name Orch makes (property)', () => {
    fc.assert(fc.property(fc.nat(), fc.string({ unit: 'binary', maxLength: 100 }), (id, title) => isValidBranchName(branchName(id, title))), { numRuns: 500 });
  });
});

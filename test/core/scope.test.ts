import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_SCOPE_RULES, checkScope, isTestPath, matchesGlob, type ScopeRules } from '../../src/core/scope.js';
import { ROLES } from '../../src/core/types.js';

const rules = (partial: Partial<ScopeRules>): ScopeRules => ({ ...NO_SCOPE_RULES, ...partial });

/** Path segments drawn from a small alphabet so globs and paths often meet. */
const segment = fc.stringMatching(/^[a-c.][a-c._-]{0,3}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const paths = fc.array(path, { maxLength: 12 });

describe('matchesGlob', () => {
  it.each([
    ['src/**', 'src/a.ts', true],
    ['src/**', 'src/deep/er/a.ts', true],
    ['src/**', 'src', true],
    ['src/**', 'srcx/a.ts', false],
    ['**/*.lock', 'yarn.lock', true],
    ['**/*.lock', 'packages/a/pnpm.lock', true],
    ['*.md', 'README.md', true],
    ['*.md', 'docs/README.md', false],
    ['docs/*.md', 'docs/a/b.md', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['a/**/b', 'a/xb', false],
    ['a**b', 'axxb', true],
    ['a**b', 'ax/xb', false],
    ['file?.ts', 'file1.ts', true],
    ['file?.ts', 'file/.ts', false],
    ['**/*.{ts,tsx}', 'src/x.tsx', true],
    ['**/*.{ts,tsx}', 'src/x.js', false],
    ['{src,lib/{a,b}}/**', 'lib/b/c.ts', true],
    ['{src,lib/{a,b}}/**', 'lib/c/c.ts', false],
    ['.github/**', '.github/workflows/ci.yml', true],
    ['**', '.env', true],
    ['**/.env', 'app/.env', true],
    ['./src/*.ts', 'src/a.ts', true],
    ['src/[x].ts', 'src/[x].ts', true],
    ['src/[x].ts', 'src/x.ts', false],
    ['a+b(c).ts', 'a+b(c).ts', true],
    ['{unclosed', '{unclosed', true],
  ])('%s against %s is %s', (glob, file, expected) => {
    expect(matchesGlob(file, glob)).toBe(expected);
  });

  it('treats a path without wildcards as itself, whatever characters it holds', () => {
    const literal = fc.stringMatching(/^[a-z0-9.+()$^|\\[\] _-]{1,12}(\/[a-z0-9.+()$^|\\[\] _-]{1,12}){0,3}$/);
    fc.assert(fc.property(literal, (file) => matchesGlob(file, file)));
  });

  it('matches everything with **, and never lets * cross a directory', () => {
    fc.assert(
      fc.property(path, (file) => {
        expect(matchesGlob(file, '**')).toBe(true);
        expect(matchesGlob(file, '*')).toBe(!file.includes('/'));
        expect(matchesGlob(file, `**/${file.split('/').pop()}`)).toBe(true);
      }),
    );
  });

  it('matches a directory prefix with dir/** exactly when the path is inside it', () => {
    fc.assert(
      fc.property(path, segment, (file, dir) => {
        expect(matchesGlob(file, `${dir}/**`)).toBe(file === dir || file.startsWith(`${dir}/`));
      }),
    );
  });
});

describe('isTestPath', () => {
  it.each([
    ['test/core/x.ts', true],
    ['tests/a.py', true],
    ['src/__tests__/a.js', true],
    ['packages/api/test/fixtures/data.json', true],
    ['src/parser.test.ts', true],
    ['src/parser.spec.js', true],
    ['pkg/parser_test.go', true],
    ['test_parser.py', true],
    ['src/parser.ts', false],
    ['src/testing.ts', false],
    ['src/latest/x.ts', false],
    ['test', false],
    ['contest/x.ts', false],
  ])('%s is a test file: %s', (file, expected) => {
    expect(isTestPath(file)).toBe(expected);
  });
});

describe('checkScope', () => {
  it('finds nothing wrong without rules for an implementer', () => {
    fc.assert(
      fc.property(paths, (files) => {
        expect(checkScope(files, NO_SCOPE_RULES, 'implement')).toEqual([]);
      }),
    );
  });

  it('lets a review task change nothing at all', () => {
    fc.assert(
      fc.property(paths, (files) => {
        const violations = checkScope(files, NO_SCOPE_RULES, 'review');
        expect(violations.length > 0).toBe(files.length > 0);
      }),
    );
    expect(checkScope(['src/a.ts'], NO_SCOPE_RULES, 'review')).toEqual(['1 file changed, but a review task may change nothing: src/a.ts']);
  });

  it('lets a test task change test files only', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(path, path.map((p) => `test/${p}`), path.map((p) => `${p}.test.ts`))), (files) => {
        const violations = checkScope(files, NO_SCOPE_RULES, 'test');
        expect(violations.length > 0).toBe(files.some((file) => !isTestPath(file)));
      }),
    );
    expect(checkScope(['test/a.test.ts', 'src/a.ts'], NO_SCOPE_RULES, 'test')).toEqual([
      '1 file outside test files, but a test task may only change tests: src/a.ts',
    ]);
  });

  it('holds the file limit', () => {
    fc.assert(
      fc.property(paths, fc.integer({ min: 1, max: 10 }), (files, maxFiles) => {
        const violations = checkScope(files, rules({ maxFiles }), 'implement');
        expect(violations.length > 0).toBe(new Set(files).size > maxFiles);
      }),
    );
    expect(checkScope(['a', 'b', 'c'], rules({ maxFiles: 2 }), 'fix')).toEqual([
      '3 files changed, more than the limit of 2 (judge.scope.max_files)',
    ]);
  });

  it('is clean exactly when every file is allowed, none forbidden, and the count within the limit', () => {
    const globs = fc.array(fc.oneof(segment.map((s) => `${s}/**`), segment.map((s) => `**/${s}`), fc.constant('*')), { maxLength: 3 });
    fc.assert(
      fc.property(paths, fc.option(globs, { nil: null }), globs, fc.option(fc.integer({ min: 1, max: 8 }), { nil: null }), (files, allowed, forbidden, maxFiles) => {
        const scope = { maxFiles, allowedPaths: allowed, forbiddenPaths: forbidden };
        const clean =
          (maxFiles === null || new Set(files).size <= maxFiles) &&
          files.every((file) => allowed === null || allowed.some((glob) => matchesGlob(file, glob))) &&
          !files.some((file) => forbidden.some((glob) => matchesGlob(file, glob)));
        expect(checkScope(files, scope, 'implement').length === 0).toBe(clean);
      }),
    );
  });

  it('answers the same whatever the order of the files, one line per broken rule', () => {
    fc.assert(
      fc.property(paths, fc.constantFrom(...ROLES), (files, role) => {
        const scope = rules({ maxFiles: 3, allowedPaths: ['a*/**', 'b*'], forbiddenPaths: ['**/c*'] });
        const violations = checkScope(files, scope, role);
        expect(checkScope([...files].reverse(), scope, role)).toEqual(violations);
        expect(violations.length).toBeLessThanOrEqual(4);
        for (const line of violations) expect(line).not.toContain('\n');
      }),
    );
  });

  it('names the first offending paths, then counts the rest', () => {
    const files = Array.from({ length: 8 }, (_, i) => `.github/workflows/w${i}.yml`);
    expect(checkScope(files, rules({ forbiddenPaths: ['.github/**'] }), 'implement')).toEqual([
      '8 files in judge.scope.forbidden_paths: .github/workflows/w0.yml, .github/workflows/w1.yml, .github/workflows/w2.yml, .github/workflows/w3.yml, .github/workflows/w4.yml and 3 more',
    ]);
    expect(checkScope(['lib/a.ts', 'src/b.ts'], rules({ allowedPaths: ['src/**'] }), 'implement')).toEqual([
      '1 file outside judge.scope.allowed_paths: lib/a.ts',
    ]);
  });
});

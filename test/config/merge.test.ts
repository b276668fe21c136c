import { describe, expect, it } from 'vitest';
import { deepMerge } from '../../src/config/merge.js';

describe('deepMerge', () => {
  it('merges mappings key by key; lists, scalars and null replace; undefined keeps', () => {
    const base = { a: 1, list: [1, 2], nested: { x: 1, y: 2 }, off: 5, kept: 'yes' };
    const override = { a: 2, list: [3], nested: { y: 3 }, off: null, kept: undefined };
    expect(deepMerge<Record<string, unknown>>(base, override)).toEqual({
      a: 2,
      list: [3],
      nested: { x: 1, y: 3 },
      off: null,
      kept: 'yes',
    });
  });

  it('replaces a mapping whose kind differs instead of mixing the two', () => {
    const github = { kind: 'github', repo: 'org/web', labels: ['orch'] };
    expect(deepMerge<object>(github, { kind: 'linear', team: 'ENG' })).toEqual({ kind: 'linear', team: 'ENG' });
    expect(deepMerge<object>(github, { kind: 'github', repo: 'org/api' })).toEqual({ ...github, repo: 'org/api' });
  });

  it('changes neither input', () => {
    const base = { nested: { x: 1 } };
    const override = { nested: { y: 2 } };
    deepMerge<object>(base, override);
    expect(base).toEqual({ nested: { x: 1 } });
    expect(override).toEqual({ nested: { y: 2 } });
  });

  it('keeps a key named __proto__ as data', () => {
    const override = JSON.parse('{"__proto__": {"polluted": true}}') as object;
    const merged = deepMerge<object>({}, override) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
  });
});

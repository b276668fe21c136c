import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../../src/core/errors.js';
import { ensureApiToken, readApiToken, tokenPath } from '../../src/config/token.js';
import { tempDir } from '../helpers/git.js';

let home: { path: string; cleanup: () => void };
beforeEach(() => {
  home = tempDir('orch-token-');
});
afterEach(() => home.cleanup());

describe('the API token', () => {
  it('is created once as 32 random bytes in hex, readable by its owner only', () => {
    expect(readApiToken(home.path)).toBeNull();
    const token = ensureApiToken(home.path);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(tokenPath(home.path)).mode & 0o777).toBe(0o600);
    expect(readApiToken(home.path)).toBe(token);
    expect(ensureApiToken(home.path)).toBe(token);
    // no temporary file is left behind
    expect(readdirSync(home.path)).toEqual(['token']);
  });

  it('never replaces a token that exists', () => {
    writeFileSync(tokenPath(home.path), 'my-own-token\n', { mode: 0o600 });
    expect(ensureApiToken(home.path)).toBe('my-own-token');
    expect(readFileSync(tokenPath(home.path), 'utf8')).toBe('my-own-token\n');
  });

  it('differs between homes', () => {
    const other = tempDir('orch-token-');
    try {
      expect(ensureApiToken(home.path)).not.toBe(ensureApiToken(other.path));
    } finally {
      other.cleanup();
    }
  });

  it('refuses a token file that holds no token', () => {
    writeFileSync(join(home.path, 'token'), '  \n');
    expect(() => readApiToken(home.path)).toThrow(OrchError);
    expect(() => ensureApiToken(home.path)).toThrow(/does not hold a token/);
  });
});

// The HTTP API's bearer token lives in `<ORCH_HOME>/token`, readable by its owner only. Whoever can read
// it can drive Orch, so it is never written with wider permissions, not even for a moment.

import { closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OrchError } from '../core/errors.js';

export const tokenPath = (home: string) => join(home, 'token');

/** The token in `<home>/token`, or null when there is none yet. */
export function readApiToken(home: string): string | null {
  let content: string;
  try {
    content = readFileSync(tokenPath(home), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const token = content.trim();
  if (token === '' || /\s/.test(token)) {
    throw new OrchError('config', `${tokenPath(home)} does not hold a token: delete it and Orch makes a new one`);
  }
  return token;
}

/**
 * The API token, created on first use as 32 random bytes in hex. An existing token is never replaced,
 * and two processes starting at once end up with the same one: the file appears whole via a hard link,
 * which fails when the file already exists.
 */
export function ensureApiToken(home: string): string {
  const existing = readApiToken(home);
  if (existing !== null) return existing;
  const token = randomHex(32);
  const temp = writePrivateTempFile(home, `${token}\n`);
  try {
    linkSync(temp, tokenPath(home));
    return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another process created it between our read and our link: theirs is the token.
    return readApiToken(home)!;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** A new file beside the token, created with mode 0600 (never wider) and flushed to disk. */
function writePrivateTempFile(home: string, content: string): string {
  const temp = join(home, `.token.${process.pid}.${randomHex(6)}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
  return temp;
}

/**
 * `bytes` random bytes as hex, from Web Crypto: node:crypto would load with every command that only
 * reads the token (a nudge to the daemon), where Web Crypto loads when first used.
 */
function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

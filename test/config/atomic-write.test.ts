import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileAtomic, writeFileAtomic } from '../../src/config/atomic-write.js';
import { tempDir, thrownBy, writeFile } from './helpers.js';

describe('writeFileAtomic', () => {
  it('replaces the file by renaming a complete copy over it, leaving no temporary file', () => {
    const dir = tempDir();
    const path = writeFile(join(dir, 'config.yaml'), 'old: 1\n');
    const before = statSync(path).ino;
    writeFileAtomic(path, 'new: 2\n');
    expect(readFileSync(path, 'utf8')).toBe('new: 2\n');
    // A new inode shows the old file was swapped out whole, never truncated and rewritten in place.
    expect(statSync(path).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['config.yaml']);
  });

  it('keeps the permissions of the file it replaces', () => {
    const dir = tempDir();
    const path = writeFile(join(dir, 'config.yaml'), 'old: 1\n');
    chmodSync(path, 0o600);
    writeFileAtomic(path, 'new: 2\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('leaves the target and the directory untouched when the write cannot complete', () => {
    const dir = tempDir();
    const target = join(dir, 'config.yaml');
    mkdirSync(join(target, 'occupied'), { recursive: true }); // renaming a file over a non-empty directory fails
    const error = thrownBy(() => writeFileAtomic(target, 'new: 2\n'));
    expect((error as NodeJS.ErrnoException).code).toMatch(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(readdirSync(dir)).toEqual(['config.yaml']);
    expect(statSync(target).isDirectory()).toBe(true);
  });
});

describe('createFileAtomic', () => {
  it('creates a missing file and leaves an existing one alone', () => {
    const dir = tempDir();
    const path = join(dir, 'config.yaml');
    expect(createFileAtomic(path, 'first\n')).toBe(true);
    expect(createFileAtomic(path, 'second\n')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('first\n');
    expect(readdirSync(dir)).toEqual(['config.yaml']);
  });
});

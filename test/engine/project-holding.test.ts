import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOrch, type Orch } from '../../src/engine/context.js';
import { projectForDirectory, projectHolding } from '../../src/engine/projects.js';
import { makeRepo, tempDir } from '../helpers/git.js';

// `orch task add` in a directory names the project whose repository holds it, read from the paths
// (no git process on every add).

let scratch: { path: string; cleanup: () => void };
let orch: Orch;
let outer: string;
let inner: string;

beforeEach(async () => {
  scratch = tempDir('orch-project-holding-');
  outer = makeRepo(scratch.path, 'outer');
  inner = makeRepo(outer, 'inner');
  makeRepo(scratch.path, 'other');
  const home = join(scratch.path, 'home');
  mkdirSync(home);
  // One project named through a symbolic link, as a person may write it in config.yaml.
  symlinkSync(outer, join(scratch.path, 'link-to-outer'));
  writeFileSync(join(home, 'config.yaml'), JSON.stringify({ projects: { outer: { path: join(scratch.path, 'link-to-outer') }, inner: { path: inner } } }));
  orch = await openOrch(home);
});
afterEach(async () => {
  await orch.close();
  scratch.cleanup();
});

describe('the project holding a directory', () => {
  it('is the innermost registered repository holding it, however its path is spelled', async () => {
    mkdirSync(join(outer, 'src', 'deep'), { recursive: true });
    expect(await projectHolding(orch, outer)).toBe('outer');
    expect(await projectHolding(orch, join(outer, 'src', 'deep'))).toBe('outer');
    expect(await projectHolding(orch, join(scratch.path, 'link-to-outer', 'src'))).toBe('outer');
    expect(await projectHolding(orch, inner)).toBe('inner');
    // A sibling whose name starts the same is not inside.
    mkdirSync(`${outer}-notes`);
    expect(await projectHolding(orch, `${outer}-notes`)).toBeNull();
    expect(await projectHolding(orch, join(scratch.path, 'other'))).toBeNull();
    await expect(projectForDirectory(orch, join(scratch.path, 'other'))).rejects.toThrow(/several projects are registered \(.*\): pass --project/);
  });
});
